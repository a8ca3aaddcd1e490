'use strict';

/**
 * Search-as-you-type: after the user stops typing for `debounceMs`, runs `search(query)` and
 * lists the results, or shows "No matches" when there are none.
 */
function mountLiveSearch(root, search, { debounceMs = 150 } = {}) {
  const input = root.querySelector('input[type=search]');
  const list = root.querySelector('ul');
  let timer;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const results = await search(input.value.trim());
      // The bug: with no results the old list is left as it is; "No matches" is never shown.
      if (results.length === 0) return;
      list.replaceChildren(...results.map((text) => item(root.ownerDocument, text)));
    }, debounceMs);
  });
}

function item(document, text) {
  const li = document.createElement('li');
  li.textContent = text;
  return li;
}

module.exports = { mountLiveSearch };

'use strict';
const { mountLiveSearch } = require('../src/live-search');
const { waitFor } = require('./wait-for');

const fruit = ['apple', 'apricot', 'banana', 'cherry'];
const searchFruit = async (query) => fruit.filter((name) => name.startsWith(query));

beforeEach(() => {
  document.body.innerHTML = '<div id="search"><input type="search" /><ul></ul></div>';
  mountLiveSearch(document.getElementById('search'), searchFruit);
});

function type(text) {
  const input = document.querySelector('input[type=search]');
  input.value = text;
  input.dispatchEvent(new Event('input'));
}

test('lists the matches', async () => {
  type('ap');

  await waitFor(() => document.querySelector('li'));
  expect([...document.querySelectorAll('li')].map((li) => li.textContent)).toEqual([
    'apple',
    'apricot',
  ]);
});

test('says so when nothing matches', async () => {
  type('kiwi');

  const empty = await waitFor(() => document.querySelector('li.empty'));
  expect(empty.textContent).toBe('No matches');
});

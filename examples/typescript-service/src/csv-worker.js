'use strict';
// Parses CSV from stdin into JSON rows on stdout. Runs as a child process so a huge or hostile
// upload cannot block the service. It needs the whole input, so it waits for stdin to end.
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const [header, ...lines] = input.trim().split(/\r?\n/);
  const columns = header.split(',');
  const rows = lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(columns.map((column, index) => [column, cells[index] ?? '']));
  });
  process.stdout.write(JSON.stringify(rows));
});

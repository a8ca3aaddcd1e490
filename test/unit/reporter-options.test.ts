import { parseReporterOptions } from '../../src/jest/reporter-options';

test('defaults: default report file, no gate, GitHub output when GITHUB_ACTIONS=true', () => {
  expect(parseReporterOptions(undefined)).toEqual({
    outputFile: undefined,
    failOn: [],
    githubActions: 'auto',
    summary: true,
  });
});

test('accepts every option, and an unset environment variable as "not given"', () => {
  expect(
    parseReporterOptions({
      outputFile: 'reports/hangs.json',
      failOn: ['hang', 'leak', 'deadlock', 'lock-order', 'blocked-loop'],
      githubActions: false,
      summary: false,
    }),
  ).toMatchObject({ outputFile: 'reports/hangs.json', githubActions: false, summary: false });
  expect(parseReporterOptions({ outputFile: undefined }).outputFile).toBeUndefined();
});

test.each([
  [
    { outputFle: 'x.json' },
    'hangwatch: unknown option "outputFle" in hangwatch/reporter\'s options. Known options: outputFile, failOn, githubActions, summary.',
  ],
  [
    { failOn: 'hang' },
    'option "failOn" in hangwatch/reporter\'s options must be an array of finding kinds (hang, leak, deadlock, lock-order, blocked-loop), got "hang".',
  ],
  [{ failOn: ['hangs'] }, '"hangs" is not one'],
  [{ outputFile: '' }, 'must be a file path or false'],
  [{ githubActions: 'yes' }, 'must be true, false or "auto"'],
  ['strict', "hangwatch/reporter's options must be an object."],
])('rejects %p naming the key', (raw, message) => {
  expect(() => parseReporterOptions(raw)).toThrow(message);
});

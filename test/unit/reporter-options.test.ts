import { stripVTControlCharacters } from 'node:util';
import { HangwatchConfigError } from '../../src/jest/options';
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
    'Unknown option "outputFle" with value "x.json" was found in hangwatch/reporter\'s options. Did you mean "outputFile"?\n  This is probably a typing mistake. Known options: outputFile, failOn, githubActions, summary.',
  ],
  [{ failon: ['hang'] }, 'Did you mean "failOn"?'],
  [
    { failOn: 'hang' },
    'Option "failOn" in hangwatch/reporter\'s options must be an array of finding kinds (hang, leak, deadlock, lock-order, blocked-loop)\n  but instead received:\n    "hang"',
  ],
  [{ failOn: ['hangs'] }, '"hangs" is not one'],
  [{ outputFile: '' }, 'must be a file path or false'],
  [{ githubActions: 'yes' }, 'must be true, false or "auto"'],
  ['strict', "hangwatch/reporter's options must be an object of options"],
])('rejects %p naming the key, as the environment options do', (raw, message) => {
  let thrown: unknown;
  try {
    parseReporterOptions(raw);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(HangwatchConfigError);
  const text = stripVTControlCharacters((thrown as Error).message);
  expect(text).toContain('● hangwatch: Validation Error:');
  expect(text).toContain(message);
});

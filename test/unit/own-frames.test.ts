import { removeOwnFrames, withoutOwnFrames } from '../../src/jest/own-frames';

const OWN_DIR = '/project/node_modules/hangwatch/dist';
const ROOT = `${OWN_DIR}/`;
const stack = [
  'Error: boom',
  '    at Object.<anonymous> (/project/test/a.test.js:3:9)',
  `    at Object.wrapped (${ROOT}jest/unit-functions.js:44:55)`,
  '    at Server.<anonymous> (/project/node_modules/supertest/lib/test.js:152:11)',
  `    at Server.emit (${ROOT}core/await-stacks/recorder.js:143:31)`,
].join('\n');

test("drops the lines of hangwatch's frames, keeps the message and every other frame", () => {
  expect(withoutOwnFrames(stack, [OWN_DIR])).toBe(
    [
      'Error: boom',
      '    at Object.<anonymous> (/project/test/a.test.js:3:9)',
      '    at Server.<anonymous> (/project/node_modules/supertest/lib/test.js:152:11)',
    ].join('\n'),
  );
});

test('a message that names a hangwatch file is not a frame: it stays', () => {
  const message = `Error: cannot read ${ROOT}jest/options.js\n    at x (/project/a.js:1:1)`;
  expect(withoutOwnFrames(message, [OWN_DIR])).toBe(message);
});

test("recorded errors, alone or as circus's [error, asyncError] pair, lose this module's frames", () => {
  const own = `    at wrapped (${__filename.replace(/test[/\\]unit[/\\]own-frames\.test\.ts$/, 'src/')}jest/unit-functions.ts:1:1)`;
  const error = new Error('boom');
  error.stack = `Error: boom\n    at user (/project/a.test.js:1:1)\n${own}`;
  const asyncError = new Error('async');
  asyncError.stack = `Error: async\n${own}`;
  const frozen = Object.freeze({ stack: `Error: frozen\n${own}` });
  removeOwnFrames([[error, asyncError], frozen, 'a string', null]);
  expect(error.stack).toBe('Error: boom\n    at user (/project/a.test.js:1:1)');
  expect(asyncError.stack).toBe('Error: async');
  expect(frozen.stack).toContain(own);
});

import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { leaveOwnFramesOut, removeOwnFrames, withoutOwnFrames } from '../../src/jest/own-frames';

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

/** V8's call sites of a listener called through `emit`, inside an AsyncLocalStorage `run`. */
function sitesThroughEmitAndRun(): NodeJS.CallSite[] {
  let sites: NodeJS.CallSite[] = [];
  const emitter = new EventEmitter();
  emitter.on('go', () => {
    const previous = Error.prepareStackTrace;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder);
    sites = holder.stack as NodeJS.CallSite[];
    Error.prepareStackTrace = previous;
  });
  new AsyncLocalStorage().run({}, () => emitter.emit('go'));
  return sites;
}

test("a wrapped formatter leaves out hangwatch's sites and the AsyncLocalStorage run they call through", () => {
  // This file's directory plays hangwatch's own: its frames are the wrappers.
  const installed = (_error: Error, sites: NodeJS.CallSite[]) =>
    sites.map((site) => site.getFileName() ?? '');
  const realm: { prepareStackTrace?: unknown } = { prepareStackTrace: installed };
  const undo = leaveOwnFramesOut(realm, [__dirname]);
  const format = realm.prepareStackTrace as typeof installed;
  const files = format(new Error('x'), sitesThroughEmitAndRun());
  expect(files.filter((file) => file.startsWith(__dirname))).toEqual([]);
  expect(files).toContain('node:events');
  expect(files).not.toContain('node:async_hooks');
  expect(files.length).toBeGreaterThan(1);
  // Once per realm: wrapping again changes nothing; the undo puts the installed one back.
  expect(leaveOwnFramesOut(realm, [__dirname])()).toBeUndefined();
  expect(realm.prepareStackTrace).toBe(format);
  undo();
  expect(realm.prepareStackTrace).toBe(installed);
});

test('a realm without a formatter is left alone', () => {
  const realm: { prepareStackTrace?: unknown } = {};
  leaveOwnFramesOut(realm, [__dirname])();
  expect(realm.prepareStackTrace).toBeUndefined();
});

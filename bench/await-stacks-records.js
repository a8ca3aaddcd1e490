'use strict';
// `node bench/await-stacks-records.js`: what await stacks' pass-path records cost per call
// (a `new Promise` through the test file's Promise proxy, an unheard emit), against none.
const { EventEmitter } = require('node:events');
const vm = require('node:vm');
const {
  installEventRecording,
  recordExplicitPromises,
  uninstallEventRecording,
} = require('../dist/core/await-stacks/recorder.js');

const PROMISES = 1e6;
const EMITS = 1e5;

function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function measure(fn) {
  fn(); // warm-up
  const before = cpuMs();
  fn();
  return cpuMs() - before;
}

const MAKE_PROMISES =
  '(n) => { let last; for (let i = 0; i < n; i++) last = new Promise((resolve) => resolve(i)); return last; }';

function run(recorded) {
  const context = vm.createContext({});
  if (recorded) {
    recordExplicitPromises(context);
    installEventRecording();
  }
  const makePromises = vm.runInContext(MAKE_PROMISES, context);
  class Connection extends EventEmitter {}
  const connection = new Connection();
  const result = {
    newPromise: measure(() => makePromises(PROMISES)),
    unheardEmit: measure(() => {
      for (let i = 0; i < EMITS; i++) connection.emit('ready');
    }),
  };
  if (recorded) uninstallEventRecording();
  return result;
}

const plain = run(false);
const recorded = run(true);
const perCall = (ms, count) => `${((ms * 1000) / count).toFixed(3)} µs`;
console.log(
  `new Promise:   ${perCall(plain.newPromise, PROMISES)} plain, ${perCall(recorded.newPromise, PROMISES)} recorded`,
);
console.log(
  `unheard emit:  ${perCall(plain.unheardEmit, EMITS)} plain, ${perCall(recorded.unheardEmit, EMITS)} recorded (repeats of one event on one emitter)`,
);

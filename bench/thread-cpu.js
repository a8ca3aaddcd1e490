'use strict';
// CPU time of each thread of this process, by thread name, from Linux's /proc. Node 22+ names its
// threads (MainThread, V8Worker, libuv-worker, WorkerThread for a worker_threads thread such as
// hangwatch's watchdog); Node 20 names them all "node". Elsewhere there is no /proc: {}.
const fs = require('node:fs');
const path = require('node:path');

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** `{ name: milliseconds of user + system CPU }`, threads of one name summed. */
function threadCpuByName(taskDir = '/proc/self/task') {
  const byName = {};
  let tasks;
  try {
    tasks = fs.readdirSync(taskDir);
  } catch {
    return byName;
  }
  for (const task of tasks) {
    let stat;
    try {
      stat = fs.readFileSync(path.join(taskDir, task, 'stat'), 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // "tid (name) state ...": the name may hold spaces and parentheses; fields follow the last ")".
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    if (!Number.isFinite(ticks)) continue;
    byName[name] = (byName[name] ?? 0) + (ticks * 1000) / TICKS_PER_SECOND;
  }
  return byName;
}

/** hangwatch's watchdog: the one worker_threads thread of koa's and the generated suite's runs. */
const WORKER_THREAD_NAME = 'WorkerThread';

/**
 * The watchdog thread's CPU in a run's usage (jest-child.js): undefined on Node 20, whose threads
 * are all called "node", and in runs without the watchdog.
 */
function watchdogThreadCpu(usage) {
  return usage.threadCpuMs?.[WORKER_THREAD_NAME];
}

/**
 * A run's CPU split between the thread that runs the tests and V8's own helper threads (the
 * collector's parallel and concurrent work, background compilation), from its usage: undefined
 * where Node does not name its threads (Node 20).
 */
function mainAndV8WorkerCpu(usage) {
  const threads = usage.threadCpuMs ?? {};
  if (threads.MainThread === undefined || threads.V8Worker === undefined) return undefined;
  return { mainMs: threads.MainThread, v8WorkerMs: threads.V8Worker };
}

/** What a run's progress line adds about the watchdog thread (nothing when it is unknown). */
function describeWatchdogThread(run) {
  return run.workerThreadCpuMs !== undefined
    ? `  watchdog thread ${run.workerThreadCpuMs.toFixed(0)} ms`
    : '';
}

module.exports = {
  threadCpuByName,
  WORKER_THREAD_NAME,
  watchdogThreadCpu,
  mainAndV8WorkerCpu,
  describeWatchdogThread,
};

import childProcess, { type ChildProcess } from 'node:child_process';

/**
 * Runs `run` (a Jest run with worker processes) and, once it is over, lets go of the output pipes
 * of the worker processes that have exited. A child process a test left running with inherited
 * stdio (`stdio: 'inherit'`, or `['pipe', 'pipe', 'inherit']`) holds its worker's stdout or stderr,
 * which Jest reads through a pipe: the pipe never ends, and Jest's process would wait for it after
 * its results. In band (Jest's own process) that child holds Jest's own stdio, which never stops
 * Jest from ending: unreferenced, the pipes keep forwarding what it prints while Jest runs, and
 * no longer keep Jest's process alive.
 */
export async function releasingWorkerPipes<T>(run: () => Promise<T>): Promise<T> {
  const started: ChildProcess[] = [];
  const fork = childProcess.fork;
  // jest-worker calls `require('child_process').fork` when it starts (or restarts) a worker.
  const forkWorker = function (this: unknown, ...args: Parameters<typeof fork>) {
    const child = fork.apply(this, args);
    started.push(child);
    return child;
  } as typeof fork;
  childProcess.fork = forkWorker;
  try {
    return await run();
  } finally {
    // Put back unless someone wrapped it after us: theirs would go with it.
    if (childProcess.fork === forkWorker) childProcess.fork = fork;
    for (const child of started) {
      if (child.exitCode === null && child.signalCode === null) continue;
      for (const pipe of [child.stdout, child.stderr]) {
        // Pipes are `net.Socket`s: Readable in the types, with `unref` at run time.
        (pipe as (typeof pipe & { unref?: () => void }) | null)?.unref?.();
      }
    }
  }
}

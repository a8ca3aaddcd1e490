import { runtimeCrashOf } from '../helpers/run-fixture';

/** What Jest printed when a worker's Node crashed on a background compiler thread. */
const workerCrash = [
  'PASS ./frozen-hook.test.js',
  '',
  '#',
  '# Fatal error in , line 0',
  '# Check failed: some V8 invariant.',
  '#',
  ' 1: 0xc8e4a0 node::DumpBacktrace(_IO_FILE*) [/usr/bin/node]',
  ' 11: 0xfd54a1 v8::internal::OptimizingCompileDispatcher::CompileNext(v8::internal::TurbofanCompilationJob*, v8::internal::LocalIsolate*) [/usr/bin/node]',
  ' 12: 0xfd581d v8::internal::OptimizingCompileDispatcher::CompileTask::RunInternal() [/usr/bin/node]',
  'FAIL ./frozen-microtask.test.js',
  '  ● Test suite failed to run',
  '',
  '    A jest worker process (pid=19811) was terminated by another process: signal=SIGTRAP, exitCode=null. Operating system logs may contain more information on why this occurred.',
].join('\n');

describe('runtimeCrashOf: a crash of Node itself in a fixture run', () => {
  test('a worker killed by a crash signal, with a native backtrace: its header and frames', () => {
    const crash = runtimeCrashOf({ signal: null, stdout: '', stderr: workerCrash });
    expect(crash).toMatch(/^# Fatal error in , line 0\n# Check failed: some V8 invariant\./);
    expect(crash).toContain('OptimizingCompileDispatcher::CompileNext');
  });

  test('the Jest process itself killed by a crash signal, with a backtrace', () => {
    const stderr =
      ' 1: 0xc8e4a0 node::Abort() [/usr/bin/node]\n 2: 0xc8e4b0 node::Assert() [/usr/bin/node]';
    expect(runtimeCrashOf({ signal: 'SIGABRT', stdout: '', stderr })).toContain('node::Abort()');
  });

  test("hangwatch's own endings are not crashes: SIGKILL of a worker, exit code 124", () => {
    const killed = workerCrash.replace('signal=SIGTRAP', 'signal=SIGKILL');
    expect(runtimeCrashOf({ signal: null, stdout: '', stderr: killed })).toBeUndefined();
    expect(
      runtimeCrashOf({ signal: 'SIGKILL', stdout: '', stderr: workerCrash.split('FAIL')[0] }),
    ).toBeUndefined();
  });

  test('a crash signal without a native backtrace (sent by someone) is not taken for a crash', () => {
    const sent = workerCrash
      .split('\n')
      .filter((line) => !/0x[0-9a-f]+ /.test(line))
      .join('\n');
    expect(runtimeCrashOf({ signal: null, stdout: '', stderr: sent })).toBeUndefined();
  });
});

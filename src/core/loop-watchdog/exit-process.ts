import type { WASI as WasiClass } from 'node:wasi';

/**
 * Ends the whole process with `code` from any thread, even while the main thread is blocked in a
 * native call (where neither a signal handler nor the inspector can run code on it). A worker
 * thread's `process.exit` ends only the thread, and a signal would make Jest's worker pool give up
 * on the file rather than run it again; WASI's `proc_exit` calls the C library's `exit(code)`.
 */
export function exitProcessFromThread(code: number): void {
  // Loading WASI prints an experimental-feature warning; this thread is about to end the process.
  process.emitWarning = () => undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { WASI } = require('node:wasi') as { WASI: typeof WasiClass };
  const wasi = new WASI({ version: 'preview1', returnOnExit: false, args: [], env: {} });
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(procExitModule(code)),
    wasi.getImportObject() as WebAssembly.Imports,
  );
  wasi.start(instance);
}

/** `(module (import "wasi_snapshot_preview1" "proc_exit" ...) (memory 1) (func _start (call proc_exit (i32.const code))))` */
function procExitModule(code: number): Uint8Array<ArrayBuffer> {
  const name = (text: string) => [text.length, ...Buffer.from(text)];
  const section = (id: number, body: number[]) => [id, ...unsigned(body.length), ...body];
  const startBody = [0, 0x41, ...signed(code), 0x10, 0, 0x0b];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    // types: (i32) -> (), () -> ()
    ...section(1, [2, 0x60, 1, 0x7f, 0, 0x60, 0, 0]),
    ...section(2, [1, ...name('wasi_snapshot_preview1'), ...name('proc_exit'), 0, 0]),
    ...section(3, [1, 1]),
    ...section(5, [1, 0, 1]),
    ...section(7, [2, ...name('memory'), 2, 0, ...name('_start'), 0, 1]),
    ...section(10, [1, ...unsigned(startBody.length), ...startBody]),
  ]);
}

function unsigned(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function signed(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

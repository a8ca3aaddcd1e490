import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export type Row = Record<string, string>;

const WORKER = path.join(__dirname, 'csv-worker.js');

/** Imports CSV uploads; parsing runs in a child process per upload. */
export class CsvImportService {
  private readonly running = new Set<ChildProcess>();

  parse(csv: string): Promise<Row[]> {
    const worker = spawn(process.execPath, [WORKER], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.running.add(worker);
    const output: Buffer[] = [];
    worker.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    const parsed = new Promise<Row[]>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('close', (code) => {
        this.running.delete(worker);
        if (code !== 0) return reject(new Error(`csv worker exited with code ${code}`));
        resolve(JSON.parse(Buffer.concat(output).toString('utf8')) as Row[]);
      });
    });
    // The bug: write() without end(). The worker reads until end of input, so it never finishes.
    worker.stdin.write(csv);
    return parsed;
  }

  async importOrders(csv: string): Promise<number> {
    const rows = await this.parse(csv);
    return rows.filter((row) => row.status !== 'cancelled').length;
  }

  /** Stops workers still running, e.g. at shutdown. */
  close(): void {
    for (const worker of this.running) worker.kill();
  }
}

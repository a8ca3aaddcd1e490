#!/usr/bin/env node
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_REPORT_FILE } from '../jest/reporter-options';
import { ReportFormatError } from '../report/document';
import { hangwatchVersion } from '../report/versions';
import { mergeReportFiles, readReport, showReport } from './commands';

const USAGE = `Usage: hangwatch <command> [options]

Commands:
  show [report.json]              Print a saved report as the terminal showed it
                                  (default: ./hangwatch-report.json).
  merge <a.json> <b.json> [...]   Combine reports (e.g. one per --shard) into one, on stdout.

Options:
  -o, --output <file>   merge: write the combined report to <file> instead of stdout.
  -h, --help            Show this help.
  -v, --version         Show hangwatch's version.

Exit codes: 0 done, 2 bad usage or an unreadable report.
Reports are written by hangwatch/reporter (hangwatch-report.json by default).`;

/** Bad usage or input: the message is printed with a pointer to --help, exit 2. */
class UsageError extends Error {}

export interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export function runCli(argv: string[], output: Output): number {
  try {
    return dispatch(argv, output);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ReportFormatError) {
      output.stderr(`hangwatch: ${error.message}\n`);
      if (error instanceof UsageError) output.stderr('Run `hangwatch --help` for usage.\n');
      return 2;
    }
    throw error;
  }
}

function dispatch(argv: string[], output: Output): number {
  const { values, positionals } = parseArguments(argv);
  if (values.help) {
    output.stdout(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    output.stdout(`${hangwatchVersion()}\n`);
    return 0;
  }
  const [command, ...files] = positionals;
  switch (command) {
    case 'show': {
      if (files.length > 1) throw new UsageError('show takes one report file.');
      if (values.output) throw new UsageError('--output is an option of merge, not show.');
      if (files[0] === undefined && !fs.existsSync(DEFAULT_REPORT_FILE)) {
        throw new UsageError(
          `no report file given, and there is no ${DEFAULT_REPORT_FILE} here (hangwatch/reporter writes it in Jest's rootDir when a run has findings).`,
        );
      }
      output.stdout(showReport(readReport(files[0] ?? DEFAULT_REPORT_FILE)));
      return 0;
    }
    case 'merge': {
      if (files.length === 0) throw new UsageError('merge needs at least one report file.');
      const merged = `${JSON.stringify(mergeReportFiles(files), null, 2)}\n`;
      if (values.output) fs.writeFileSync(values.output, merged);
      else output.stdout(merged);
      return 0;
    }
    case undefined:
      throw new UsageError('no command given.');
    default:
      throw new UsageError(`unknown command "${command}" (commands: show, merge).`);
  }
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  output: { type: 'string', short: 'o' },
} as const;

function parseArguments(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    // Node's parser words its errors for programmers; say it in the CLI's own words.
    throw new UsageError(explainArgumentError(argv, error as NodeJS.ErrnoException));
  }
}

function explainArgumentError(argv: string[], error: NodeJS.ErrnoException): string {
  const flags = Object.entries(OPTIONS).map(([name, { short }]) => `-${short}/--${name}`);
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return '--output (-o) needs a file name after it.';
  }
  const unknown = argv.find((arg) => arg !== '--' && arg.startsWith('-') && !isKnownFlag(arg));
  if (unknown) {
    return `unknown option "${unknown.split('=')[0]}" (options: ${flags.join(', ')}).`;
  }
  return `cannot read the command line (${argv.join(' ')}).`;
}

function isKnownFlag(arg: string): boolean {
  const name = arg.split('=')[0];
  return Object.entries(OPTIONS).some(
    ([long, { short }]) =>
      name === `--${long}` ||
      name === `-${short}` ||
      (arg.startsWith(`-${short}`) && short === 'o'),
  );
}

if (require.main === module) {
  process.exitCode = runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}

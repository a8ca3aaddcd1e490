import { isBoolean, validateOptions, type Check, type OptionSet } from './validate-options';

/**
 * Options of `hangwatch/reporter`, given as `['hangwatch/reporter', { ... }]` in `reporters`.
 * Validated when Jest builds the reporter: a typo stops the run naming the key.
 */
export interface ReporterOptions {
  /**
   * Where to write the JSON report, relative to Jest's rootDir. When set, it is written on every
   * run (an empty report too, so every CI shard has a file to merge). When not set, the default
   * `hangwatch-report.json` is written only when there are findings, and removed when a later
   * run has none. `false` writes none.
   */
  outputFile: string | false | undefined;
  /** Finding kinds that fail the run (non-zero exit) even when every test passed. */
  failOn: string[];
  /** GitHub Actions annotations and job summary: `'auto'` means when `GITHUB_ACTIONS=true`. */
  githubActions: boolean | 'auto';
  /** The end-of-run summary in the terminal. */
  summary: boolean;
}

export const DEFAULT_REPORT_FILE = 'hangwatch-report.json';

/** The kinds hangwatch reports, including those of features still being built. */
export const FINDING_KINDS = ['hang', 'leak', 'deadlock', 'lock-order', 'blocked-loop'] as const;

const CHECKS: Record<keyof ReporterOptions, Check> = {
  outputFile: (value) =>
    value === false || (typeof value === 'string' && value.trim() !== '')
      ? undefined
      : 'a file path or false',
  failOn: (value) => {
    if (!Array.isArray(value)) return `an array of finding kinds (${FINDING_KINDS.join(', ')})`;
    const unknown = value.find(
      (kind) => !(FINDING_KINDS as readonly unknown[]).includes(kind),
    ) as unknown;
    return unknown === undefined
      ? undefined
      : `an array of finding kinds (${FINDING_KINDS.join(', ')}); ${JSON.stringify(unknown)} is not one`;
  },
  githubActions: (value) =>
    typeof value === 'boolean' || value === 'auto' ? undefined : 'true, false or "auto"',
  summary: isBoolean,
};

const DEFAULTS: ReporterOptions = {
  outputFile: undefined,
  failOn: [],
  githubActions: 'auto',
  summary: true,
};

export const REPORTER_OPTIONS: OptionSet<ReporterOptions> = {
  where: "hangwatch/reporter's options",
  checks: CHECKS,
  examples: { ...DEFAULTS, outputFile: 'reports/hangwatch.json', failOn: ['hang', 'deadlock'] },
  docs: 'hangwatch/reporter',
};

export function parseReporterOptions(raw: unknown): ReporterOptions {
  return validateOptions(raw ?? undefined, REPORTER_OPTIONS, DEFAULTS);
}

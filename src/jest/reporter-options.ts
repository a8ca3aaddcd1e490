import { HangwatchConfigError } from './options';

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

const WHERE = "hangwatch/reporter's options";

type Check = (value: unknown) => string | undefined;

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
  summary: (value) => (typeof value === 'boolean' ? undefined : 'a boolean'),
};

export function parseReporterOptions(raw: unknown): ReporterOptions {
  const options: ReporterOptions = {
    outputFile: undefined,
    failOn: [],
    githubActions: 'auto',
    summary: true,
  };
  if (raw === undefined || raw === null) return options;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new HangwatchConfigError(`hangwatch: ${WHERE} must be an object.`);
  }
  for (const [key, value] of Object.entries(raw)) {
    if (!Object.hasOwn(CHECKS, key)) {
      throw new HangwatchConfigError(
        `hangwatch: unknown option "${key}" in ${WHERE}. Known options: ${Object.keys(CHECKS).join(', ')}.`,
      );
    }
    // `{ outputFile: process.env.X }` with X unset means "not given".
    if (value === undefined) continue;
    const expected = CHECKS[key as keyof ReporterOptions](value);
    if (expected) {
      throw new HangwatchConfigError(
        `hangwatch: option "${key}" in ${WHERE} must be ${expected}, got ${JSON.stringify(value)}.`,
      );
    }
    (options as unknown as Record<string, unknown>)[key] = value;
  }
  return options;
}

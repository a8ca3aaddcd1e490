import { createDidYouMeanMessage, format, ValidationError } from 'jest-validate';

/**
 * One validator for both of hangwatch's option sets (`testEnvironmentOptions.hangwatch` and
 * `hangwatch/reporter`'s options), in Jest's own words and layout ("● Validation Error",
 * `Unknown option ... was found. Did you mean ...?`), so a typo in either reads like a typo in
 * Jest's own config.
 */

/** What a value must be, in words, or `undefined` when it is fine. */
export type Check = (value: unknown) => string | undefined;

export interface OptionSet<Options> {
  /** Where the options are written, as the user sees it (`testEnvironmentOptions.hangwatch`). */
  where: string;
  checks: Record<keyof Options, Check>;
  /** A valid value of each option, shown as the example in a message. */
  examples: Options;
  /** The README section that documents the options. */
  docs: string;
}

/**
 * A config error: stops the run at start-up. Built on jest-validate's ValidationError, so Jest
 * prints it as it prints its own (no stack; the message is the whole story).
 */
export class HangwatchConfigError extends ValidationError {
  constructor(message: string, comment?: string) {
    super('● hangwatch: Validation Error', message, comment);
  }
}

/** Returns the options with defaults filled in, or throws a HangwatchConfigError. */
export function validateOptions<Options extends object>(
  raw: unknown,
  set: OptionSet<Options>,
  defaults: Options,
): Options {
  if (raw === undefined) return { ...defaults };
  const comment = `  Documentation: the section "${set.docs}" of hangwatch's README.`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new HangwatchConfigError(
      `  ${set.where} must be an object of options\n  but instead received:\n    ${format(raw)}`,
      comment,
    );
  }
  const options = { ...defaults } as Record<string, unknown>;
  const known = Object.keys(set.checks);
  for (const [key, value] of Object.entries(raw)) {
    if (!Object.hasOwn(set.checks, key)) {
      const didYouMean = createDidYouMeanMessage(key, byCloseness(key, known));
      throw new HangwatchConfigError(
        `  Unknown option ${quote(key)} with value ${format(value)} was found in ${set.where}.${didYouMean ? ` ${didYouMean}` : ''}\n  This is probably a typing mistake. Known options: ${known.join(', ')}.`,
        comment,
      );
    }
    // `{ outputFile: process.env.X }` with X unset means "not given".
    if (value === undefined) continue;
    const expected = set.checks[key as keyof Options](value);
    if (expected) {
      const example = (set.examples as Record<string, unknown>)[key];
      throw new HangwatchConfigError(
        `  Option ${quote(key)} in ${set.where} must be ${expected}\n  but instead received:\n    ${format(value)}\n\n  Example:\n  {\n    ${quote(key)}: ${JSON.stringify(example)}\n  }`,
        comment,
      );
    }
    options[key] = value;
  }
  return options as Options;
}

/** jest-validate suggests the first option close enough; offer the closest first. */
function byCloseness(word: string, candidates: string[]): string[] {
  const lower = word.toLowerCase();
  return [...candidates].sort(
    (a, b) => editDistance(lower, a.toLowerCase()) - editDistance(lower, b.toLowerCase()),
  );
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function quote(key: string): string {
  return `"${key}"`;
}

export const isBoolean: Check = (value) =>
  typeof value === 'boolean' ? undefined : 'a boolean (true or false)';

export const isPositiveInteger: Check = (value) =>
  Number.isInteger(value) && (value as number) > 0 ? undefined : 'a positive integer';

export function oneOf(...allowed: string[]): Check {
  return (value) =>
    typeof value === 'string' && allowed.includes(value)
      ? undefined
      : `one of ${allowed.map((choice) => JSON.stringify(choice)).join(', ')}`;
}

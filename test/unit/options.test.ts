import { stripVTControlCharacters } from 'node:util';
import { DEFAULT_OPTIONS, HangwatchConfigError, parseOptions } from '../../src/jest/options';

/** The message as a terminal without colours shows it. */
function plain(error: Error): string {
  return stripVTControlCharacters(error.message).trimEnd();
}

function configError(raw: unknown): HangwatchConfigError {
  try {
    parseOptions(raw);
  } catch (error) {
    if (error instanceof HangwatchConfigError) return error;
    throw error;
  }
  throw new Error(`parseOptions accepted ${JSON.stringify(raw)}`);
}

describe('parseOptions defaults', () => {
  test('no options at all gives the defaults', () => {
    // Each option's own default, without listing every option (others keep being added).
    expect(parseOptions(undefined)).toMatchObject({
      enabled: true,
      promises: false,
      maxListed: 10,
      stackDepth: 32,
      blockedLoop: 'warn',
      blockThreshold: 1000,
    });
    expect(parseOptions(undefined)).toEqual(DEFAULT_OPTIONS);
  });

  test('an empty object gives the defaults', () => {
    expect(parseOptions({})).toEqual(DEFAULT_OPTIONS);
  });

  test('returns a fresh copy, never the shared defaults object', () => {
    const options = parseOptions(undefined);
    options.maxListed = 99;
    expect(DEFAULT_OPTIONS.maxListed).toBe(10);
    expect(parseOptions({})).not.toBe(DEFAULT_OPTIONS);
  });

  test('given options override the defaults and the rest keep theirs', () => {
    expect(parseOptions({ promises: true, maxListed: 3 })).toEqual({
      ...DEFAULT_OPTIONS,
      promises: true,
      maxListed: 3,
    });
    expect(parseOptions({ enabled: false })).toEqual({ ...DEFAULT_OPTIONS, enabled: false });
  });
});

describe("parseOptions rejects unknown keys, in Jest's words", () => {
  test('names the unknown key and suggests the closest known one', () => {
    const error = configError({ promise: true });
    expect(error).toBeInstanceOf(HangwatchConfigError);
    expect(plain(error)).toBe(
      [
        '● hangwatch: Validation Error:',
        '',
        '  Unknown option "promise" with value true was found in testEnvironmentOptions.hangwatch. Did you mean "promises"?',
        `  This is probably a typing mistake. Known options: ${Object.keys(DEFAULT_OPTIONS).join(', ')}.`,
        '',
        '  Documentation: the section "Options" of hangwatch\'s README.',
      ].join('\n'),
    );
  });

  test('suggests despite different letter case', () => {
    expect(plain(configError({ maxlisted: 5 }))).toContain('Did you mean "maxListed"?');
  });

  test('suggests for a small typo in a longer key', () => {
    expect(plain(configError({ enabeld: true }))).toContain('Did you mean "enabled"?');
  });

  test('makes no suggestion when nothing is close', () => {
    const message = plain(configError({ verbose: true }));
    expect(message).toContain('Unknown option "verbose" with value true');
    expect(message).not.toContain('Did you mean');
  });

  // Keys inherited from Object.prototype are unknown options too, not methods to call.
  test.each([
    ['hasOwnProperty', { hasOwnProperty: true }],
    ['isPrototypeOf', { isPrototypeOf: true }],
    ['toString', { toString: true }],
    ['__proto__', JSON.parse('{"__proto__": 1}') as unknown],
  ])('rejects the Object.prototype key %s as an unknown option', (key, raw) => {
    expect(plain(configError(raw))).toContain(`Unknown option "${key}"`);
  });
});

describe('parseOptions rejects wrong values, naming what it expected', () => {
  test.each([
    ['enabled', 'yes', 'a boolean (true or false)', '"yes"', 'true'],
    ['promises', 1, 'a boolean (true or false)', '1', 'false'],
    ['promises', null, 'a boolean (true or false)', 'null', 'false'],
    ['maxListed', '10', 'a positive integer', '"10"', '10'],
    ['maxListed', 0, 'a positive integer', '0', '10'],
    ['maxListed', -3, 'a positive integer', '-3', '10'],
    ['maxListed', 2.5, 'a positive integer', '2.5', '10'],
    ['maxListed', Infinity, 'a positive integer', 'Infinity', '10'],
    ['maxListed', [5], 'a positive integer', '[5]', '10'],
  ])('%s = %p is rejected as not %s', (key, value, expected, got, example) => {
    expect(plain(configError({ [key]: value }))).toContain(
      `  Option "${key}" in testEnvironmentOptions.hangwatch must be ${expected}\n  but instead received:\n    ${got}\n\n  Example:\n  {\n    "${key}": ${example}\n  }`,
    );
  });
});

describe('parseOptions rejects non-objects', () => {
  test.each([
    [null, 'null'],
    [true, 'true'],
    [10, '10'],
    ['promises', '"promises"'],
    [['promises'], '["promises"]'],
  ])('%p is rejected', (raw, got) => {
    expect(plain(configError(raw))).toContain(
      `  testEnvironmentOptions.hangwatch must be an object of options\n  but instead received:\n    ${got}`,
    );
  });
});

describe('event-loop watchdog options', () => {
  test('blockedLoop accepts warn, error and off, and names them when wrong', () => {
    expect(parseOptions({ blockedLoop: 'error' }).blockedLoop).toBe('error');
    expect(parseOptions({ blockedLoop: 'off' }).blockedLoop).toBe('off');
    expect(plain(configError({ blockedLoop: 'fail' }))).toContain(
      'Option "blockedLoop" in testEnvironmentOptions.hangwatch must be one of "warn", "error", "off"\n  but instead received:\n    "fail"',
    );
  });

  test('blockThreshold is a positive whole number of milliseconds', () => {
    expect(parseOptions({ blockThreshold: 250 }).blockThreshold).toBe(250);
    expect(plain(configError({ blockThreshold: 0 }))).toContain(
      'Option "blockThreshold" in testEnvironmentOptions.hangwatch must be a positive integer\n  but instead received:\n    0',
    );
    expect(plain(configError({ blockTreshold: 250 }))).toContain('Did you mean "blockThreshold"?');
  });
});

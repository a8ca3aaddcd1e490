import { DEFAULT_OPTIONS, HangwatchConfigError, parseOptions } from '../../src/jest/options';

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
      stackDepth: 16,
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

describe('parseOptions rejects unknown keys', () => {
  test('names the unknown key and suggests the closest known one', () => {
    const error = configError({ promise: true });
    expect(error.name).toBe('HangwatchConfigError');
    expect(error.message).toContain('unknown option "promise"');
    expect(error.message).toContain('testEnvironmentOptions.hangwatch');
    expect(error.message).toContain('did you mean "promises"?');
    expect(error.message).toContain(`Known options: ${Object.keys(DEFAULT_OPTIONS).join(', ')}.`);
  });

  test('suggests despite different letter case', () => {
    expect(configError({ maxlisted: 5 }).message).toContain('did you mean "maxListed"?');
  });

  test('suggests for a small typo in a longer key', () => {
    expect(configError({ enabeld: true }).message).toContain('did you mean "enabled"?');
  });

  test('makes no suggestion when nothing is close', () => {
    const error = configError({ verbose: true });
    expect(error.message).toContain('unknown option "verbose"');
    expect(error.message).not.toContain('did you mean');
  });

  // Keys inherited from Object.prototype are unknown options too, not methods to call.
  test.each([
    ['hasOwnProperty', { hasOwnProperty: true }],
    ['isPrototypeOf', { isPrototypeOf: true }],
    ['toString', { toString: true }],
    ['__proto__', JSON.parse('{"__proto__": 1}') as unknown],
  ])('rejects the Object.prototype key %s as an unknown option', (key, raw) => {
    expect(configError(raw).message).toContain(`unknown option "${key}"`);
  });
});

describe('parseOptions rejects wrong types', () => {
  test.each([
    ['enabled', 'yes', 'a boolean', 'the string "yes"'],
    ['promises', 1, 'a boolean', 'number 1'],
    ['promises', null, 'a boolean', 'null'],
    ['maxListed', '10', 'a positive integer', 'the string "10"'],
    ['maxListed', 0, 'a positive integer', 'number 0'],
    ['maxListed', -3, 'a positive integer', 'number -3'],
    ['maxListed', 2.5, 'a positive integer', 'number 2.5'],
    ['maxListed', Infinity, 'a positive integer', 'number Infinity'],
    ['maxListed', [5], 'a positive integer', 'an array'],
  ])('%s = %p is rejected as not %s', (key, value, expected, got) => {
    const error = configError({ [key]: value });
    expect(error.message).toBe(
      `hangwatch: option "${key}" in testEnvironmentOptions.hangwatch must be ${expected}, got ${got}.`,
    );
  });
});

describe('parseOptions rejects non-objects', () => {
  test.each([
    [null, 'null'],
    [true, 'boolean true'],
    [10, 'number 10'],
    ['promises', 'the string "promises"'],
    [['promises'], 'an array'],
  ])('%p is rejected', (raw, got) => {
    expect(configError(raw).message).toBe(
      `hangwatch: testEnvironmentOptions.hangwatch must be an object, got ${got}.`,
    );
  });
});

describe('event-loop watchdog options', () => {
  test('blockedLoop accepts warn, error and off, and names them when wrong', () => {
    expect(parseOptions({ blockedLoop: 'error' }).blockedLoop).toBe('error');
    expect(parseOptions({ blockedLoop: 'off' }).blockedLoop).toBe('off');
    expect(configError({ blockedLoop: 'fail' }).message).toBe(
      'hangwatch: option "blockedLoop" in testEnvironmentOptions.hangwatch must be one of "warn", "error", "off", got the string "fail".',
    );
  });

  test('blockThreshold is a positive whole number of milliseconds', () => {
    expect(parseOptions({ blockThreshold: 250 }).blockThreshold).toBe(250);
    expect(configError({ blockThreshold: 0 }).message).toContain(
      'option "blockThreshold" in testEnvironmentOptions.hangwatch must be a positive integer, got number 0.',
    );
    expect(configError({ blockTreshold: 250 }).message).toContain('did you mean "blockThreshold"?');
  });
});

import { formatBytes, formatDuration, plural } from '../../src/core/format';

describe('formatDuration', () => {
  test.each([
    [0, '0 ms'],
    [0.4, '0 ms'],
    [850, '850 ms'],
    [999, '999 ms'],
    [1_000, '1.0 s'],
    [4_900, '4.9 s'],
    [4_949, '4.9 s'],
    [59_000, '59.0 s'],
    [60_000, '1 min'],
    [125_000, '2 min 5 s'],
    [3_600_000, '60 min'],
  ])('%p ms reads "%s"', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  test('infinite durations read "forever"', () => {
    expect(formatDuration(Infinity)).toBe('forever');
    expect(formatDuration(NaN)).toBe('forever');
  });

  // Each unit is rounded before it is chosen, so values just below a boundary carry over.
  test.each([
    [119_500, '2 min'],
    [59_990, '1 min'],
    [999.7, '1.0 s'],
  ])('%p ms rounds up to "%s" rather than overflowing the smaller unit', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});

describe('formatBytes', () => {
  test.each([
    [0, '0 B'],
    [1_023, '1023 B'],
    [1_024, '1.0 KiB'],
    [1_536, '1.5 KiB'],
    [1_048_576, '1.0 MiB'],
    [5 * 1_048_576 + 524_288, '5.5 MiB'],
  ])('%p bytes reads "%s"', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });

  test('1 MiB minus one byte reads "1.0 MiB" rather than "1024.0 KiB"', () => {
    expect(formatBytes(1_048_575)).toBe('1.0 MiB');
  });
});

describe('plural', () => {
  test('uses the singular for exactly one and the plural otherwise', () => {
    expect(plural(1, 'thing')).toBe('1 thing');
    expect(plural(0, 'thing')).toBe('0 things');
    expect(plural(2, 'child', 'children')).toBe('2 children');
  });
});

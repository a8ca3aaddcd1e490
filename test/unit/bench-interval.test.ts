// The benchmarks' interval for a median: what bench/suite.js prints beside its ratios.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { medianInterval } = require('../../bench/report') as {
  medianInterval: (values: number[]) => [number, number];
};

describe('medianInterval', () => {
  it('takes the 6th smallest and 6th largest of 21 values (coverage 97.3%)', () => {
    const values = Array.from({ length: 21 }, (_, i) => 21 - i);
    expect(medianInterval(values)).toEqual([6, 16]);
  });

  it('takes the 2nd of 9 values (coverage 96.1%), the 1st of 7 (98.4%)', () => {
    expect(medianInterval([1, 2, 3, 4, 5, 6, 7, 8, 9])).toEqual([2, 8]);
    expect(medianInterval([7, 1, 6, 2, 5, 3, 4])).toEqual([1, 7]);
  });

  it('gives the whole range when too few values allow no 95% interval', () => {
    expect(medianInterval([3, 1, 2])).toEqual([1, 3]);
    expect(medianInterval([5])).toEqual([5, 5]);
  });
});

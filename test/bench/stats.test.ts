import { describe, expect, it } from 'vitest';

import { betterRatio, median, percentile } from '../../src/bench/stats.js';

describe('bench stats', () => {
  it('percentile is nearest-rank: every figure is a measured sample', () => {
    const samples = [5, 1, 4, 2, 3];
    expect(percentile(samples, 0.5)).toBe(3);
    expect(percentile(samples, 0.99)).toBe(5);
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('median averages the middle pair of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('betterRatio reads > 1 as better whichever way the metric goes', () => {
    expect(betterRatio(300, 100, 'higher')).toBe(3);
    expect(betterRatio(0.5, 2, 'lower')).toBe(4);
    expect(betterRatio(0, 2, 'lower')).toBeNull();
    expect(betterRatio(Number.NaN, 2, 'higher')).toBeNull();
  });
});

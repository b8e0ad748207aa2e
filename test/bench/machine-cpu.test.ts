import { describe, expect, it } from 'vitest';

import { idleShare, machineCpu } from '../../src/bench/machine-cpu.js';

describe('machine CPU', () => {
  it('reads the eight counters of /proc/stat, which only grow', () => {
    const first = machineCpu();
    expect(first).toHaveLength(8);
    for (const value of first) expect(Number.isInteger(value) && value >= 0).toBe(true);
    const second = machineCpu();
    second.forEach((value, i) => expect(value).toBeGreaterThanOrEqual(first[i]!));
  });

  it('gives the idle share (iowait included) between two readings, null when no tick elapsed', () => {
    // user nice system idle iowait irq softirq steal
    expect(idleShare([0, 0, 0, 0, 0, 0, 0, 0], [30, 4, 60, 1, 1, 2, 2, 0])).toBeCloseTo(0.02, 10);
    expect(idleShare([10, 0, 0, 10, 0, 0, 0, 0], [60, 0, 0, 50, 0, 0, 0, 10])).toBeCloseTo(0.4, 10);
    expect(idleShare([5, 5, 5, 5, 5, 5, 5, 5], [5, 5, 5, 5, 5, 5, 5, 5])).toBeNull();
  });
});

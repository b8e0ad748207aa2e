import { describe, expect, it } from 'vitest';

import { describeMachineCpu, machineCpu } from '../../src/bench/machine-cpu.js';

describe('machine CPU shares', () => {
  it('reads the eight counters of /proc/stat, which only grow', () => {
    const first = machineCpu();
    expect(first).toHaveLength(8);
    for (const value of first) expect(Number.isInteger(value) && value >= 0).toBe(true);
    const second = machineCpu();
    second.forEach((value, i) => expect(value).toBeGreaterThanOrEqual(first[i]!));
  });

  it('gives idle (with iowait), system (with irq, softirq) and user (with nice) shares between two readings', () => {
    // user nice system idle iowait irq softirq steal
    expect(describeMachineCpu([0, 0, 0, 0, 0, 0, 0, 0], [30, 4, 60, 1, 1, 2, 2, 0])).toBe('idle 2%, system 64%, user 34%');
    expect(describeMachineCpu([0, 0, 0, 0, 0, 0, 0, 0], [50, 0, 0, 40, 0, 0, 0, 10])).toBe('idle 40%, system 0%, user 50%, stolen 10%');
    expect(describeMachineCpu([5, 5, 5, 5, 5, 5, 5, 5], [5, 5, 5, 5, 5, 5, 5, 5])).toMatch(/not measured/);
  });
});

import { describe, expect, it } from 'vitest';

import type { BenchReport, ScenarioReport } from '../../src/bench/report.js';
import { metric } from '../../src/bench/scenario.js';
import { evaluateTargets } from '../../src/bench/targets.js';
import { reportProblems } from '../../src/bench/validate-report.js';

function scenario(partial: Partial<ScenarioReport> & Pick<ScenarioReport, 'name' | 'number'>): ScenarioReport {
  return { title: partial.name, status: 'ok', baseline: 'child_process', contenders: ['native', 'child_process'], skipped: {}, metrics: [], notes: [], durationMs: 1, ...partial };
}

describe('bench targets', () => {
  it('meets, misses, or cannot tell (null) from the figures of the run', () => {
    const targets = evaluateTargets([
      scenario({
        name: 'sequential',
        number: 1,
        contenders: ['native', 'child_process', 'c-limit'],
        metrics: [metric({ name: 'throughput', label: 't', unit: '/s', better: 'higher' }, { native: 900, child_process: 300, 'c-limit': 1000 }, 'child_process')],
      }),
      scenario({
        name: 'idle-footprint',
        number: 6,
        metrics: [
          metric({ name: 'heapPerProc', label: 'h', unit: 'B', better: 'lower' }, { native: 4000, child_process: 1000 }, 'child_process'),
          metric({ name: 'fdsPerProc', label: 'f', unit: 'fd', better: 'lower' }, { native: 1, child_process: 0 }, 'child_process'),
        ],
      }),
      scenario({ name: 'systemd', number: 8, status: 'skipped', reason: 'no bus', contenders: [] }),
    ]);
    expect(targets.find((t) => t.id === 1)).toMatchObject({ met: true, measured: '3.00x child_process; 0.90x c-limit' });
    expect(targets.find((t) => t.id === 5)).toMatchObject({ met: false, measured: '4000 B heap; 1.00 fd' });
    expect(targets.find((t) => t.id === 6)?.met).toBeNull();
    expect(targets.find((t) => t.id === 3)?.met).toBeNull();
  });

  it('gives no verdict on --quick sizes', () => {
    const [first] = evaluateTargets(
      [scenario({ name: 'in-flight', number: 4, metrics: [metric({ name: 'maxStall', label: 's', unit: 'ms', better: 'lower' }, { native: 3, child_process: 90 }, 'child_process')] })],
      true,
    ).filter((t) => t.id === 3);
    expect(first).toMatchObject({ met: null, measured: '3.0 ms (quick sizes: no verdict)' });
  });

  it('CI problems: failed scenarios, missing figures and reasonless skips; never the values', () => {
    const report: BenchReport = {
      version: 1,
      meta: { node: 'v20', v8: '11', kernel: '6', cpus: 2, cpuModel: 'x', totalMemoryMb: 1, loadAverage: [0, 0, 0], quick: true, startedAt: '', durationMs: 0 },
      scenarios: [
        scenario({ name: 'sequential', number: 1, metrics: [metric({ name: 'throughput', label: 't', unit: '/s', better: 'higher' }, { native: 1, child_process: 1000 }, 'child_process')] }),
        scenario({ name: 'in-flight', number: 4, metrics: [metric({ name: 'throughput', label: 't', unit: '/s', better: 'higher' }, { native: 5 }, 'child_process')] }),
        scenario({ name: 'terminate', number: 7, status: 'failed', reason: 'EAGAIN' }),
        scenario({ name: 'systemd', number: 8, status: 'skipped', contenders: [] }),
      ],
      targets: [],
    };
    expect(reportProblems(report)).toEqual([
      'scenario 4 (in-flight): no figure for child_process',
      'scenario 7 (terminate) failed: EAGAIN',
      'scenario 8 (systemd) was skipped without a reason',
    ]);
  });
});

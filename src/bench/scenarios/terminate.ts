// Scenario 7: time to terminate 1,000 running procs and observe every exit, through
// the launcher's own API (terminate() / ChildProcess.kill('SIGTERM')).
import { combinedOver, countOf } from '../count-noun.js';
import { createIdleSet, type IdleSetName } from '../idle-procs.js';
import { idleCapacity } from '../limits.js';
import type { ContenderName } from '../report.js';
import { metric, skippedOutcome, type Scenario } from '../scenario.js';
import { median } from '../stats.js';

const SIZES = {
  full: { procs: 1000, rounds: 3 },
  quick: { procs: 100, rounds: 1 },
};
const CONTENDERS: IdleSetName[] = ['native', 'child_process'];

export const terminateScenario: Scenario = {
  name: 'terminate',
  number: 7,
  title: (quick) => terminateTitle((quick ? SIZES.quick : SIZES.full).procs),
  units: (quick) => CONTENDERS.length * (quick ? SIZES.quick : SIZES.full).rounds,
  async run(context) {
    const sizes = context.quick ? SIZES.quick : SIZES.full;
    const capacity = idleCapacity(sizes.procs, 1);
    if (capacity.count === 0) return skippedOutcome('child_process', capacity.note ?? 'no room for procs');
    const count = capacity.count;
    const samples = new Map<ContenderName, number[]>(CONTENDERS.map((name) => [name, []]));
    for (let round = 0; round < sizes.rounds; round++) {
      for (let i = 0; i < CONTENDERS.length; i++) {
        const name = CONTENDERS[(i + round) % CONTENDERS.length]!;
        context.progress.label(`terminate: round ${round + 1}/${sizes.rounds}, ${name}, starting ${count} procs`);
        const procs = createIdleSet(name, context.registry);
        try {
          await procs.grow(count, false);
          const t0 = performance.now();
          await procs.terminateAll();
          samples.get(name)!.push(performance.now() - t0);
        } finally {
          await procs.close();
        }
        context.progress.advance(1, `terminate: round ${round + 1}/${sizes.rounds}, ${name}`);
      }
    }
    const total = Object.fromEntries([...samples].map(([name, values]) => [name, median(values)]));
    const perProc = Object.fromEntries([...samples].map(([name, values]) => [name, (median(values) * 1000) / count]));
    return {
      title: terminateTitle(count),
      status: 'ok',
      baseline: 'child_process',
      contenders: [...CONTENDERS],
      skipped: {},
      metrics: [
        metric({ name: 'terminateAll', label: `terminate ${count}, all exits seen`, unit: 'ms', better: 'lower' }, total, 'child_process'),
        metric({ name: 'terminatePerProc', label: 'per proc', unit: 'us', better: 'lower' }, perProc, 'child_process'),
      ],
      notes: [
        `${countOf(sizes.rounds, 'interleaved round')}; each starts ${countOf(count, 'idle `sleep` proc')}, then times terminate(id, 5000) (native) or kill('SIGTERM') (child_process) on each until every exit has been observed; ${combinedOver(sizes.rounds, 'medians')}`,
        ...(capacity.note === null ? [] : [capacity.note]),
      ],
    };
  },
};

function terminateTitle(procs: number): string {
  return `terminate ${countOf(procs, 'running proc')} and observe every exit`;
}

// Scenario 5: launch -> exit of /bin/true while 5,000 idle supervised procs are alive.
// A pidfd per proc in epoll makes exit detection O(1); child_process reaps with a
// waitpid() per live child on every SIGCHLD, which grows with the idle count.
import { createIdleSet, type IdleSetName } from '../idle-procs.js';
import { idleCapacity } from '../limits.js';
import type { ContenderName } from '../report.js';
import { metric, skippedOutcome, type Scenario } from '../scenario.js';
import { medianFigures, runSequential, type RoundFigures } from '../sequential.js';

const SIZES = {
  full: { idle: 5000, rounds: 3, perRound: 300, warmup: 20 },
  quick: { idle: 200, rounds: 1, perRound: 25, warmup: 3 },
};
const CONTENDERS: IdleSetName[] = ['native', 'child_process'];
const GROW_STEP = 250;

export const idleScalingScenario: Scenario = {
  name: 'idle-scaling',
  number: 5,
  title: 'launch -> exit with 5,000 idle supervised procs alive',
  units(quick) {
    const sizes = quick ? SIZES.quick : SIZES.full;
    return CONTENDERS.length * (3 * sizes.rounds + Math.ceil(sizes.idle / GROW_STEP));
  },
  async run(context) {
    const sizes = context.quick ? SIZES.quick : SIZES.full;
    const tools = await context.tools();
    const shots = tools.oneShots.filter((shot): shot is typeof shot & { name: IdleSetName } => (CONTENDERS as ContenderName[]).includes(shot.name));
    const capacity = idleCapacity(sizes.idle, 1);
    if (capacity.count === 0) return skippedOutcome('child_process', capacity.note ?? 'no room for idle procs');
    const idleCount = capacity.count;

    const base = new Map<ContenderName, RoundFigures>();
    const loaded = new Map<ContenderName, RoundFigures>();
    // Per contender: A (none) B (idle alive) A (none again); the two A phases bracket B
    // in time, so a drift of the shared machine shows up in the baseline too.
    for (const shot of shots) {
      const label = (phase: string, round: number): string => `idle-scaling: ${shot.name}, ${phase} ${round + 1}/${sizes.rounds}`;
      await runSequential(shot, sizes.warmup);
      const before: RoundFigures[] = [];
      const during: RoundFigures[] = [];
      for (let round = 0; round < sizes.rounds; round++) {
        before.push(await runSequential(shot, sizes.perRound));
        context.progress.advance(1, label('no idle procs, round', round));
      }
      const idle = createIdleSet(shot.name, context.registry);
      try {
        let grown = 0;
        while (grown < idleCount) {
          const step = Math.min(GROW_STEP, idleCount - grown);
          await idle.grow(step, false);
          grown += step;
          context.progress.advance(1, `idle-scaling: ${shot.name}, ${grown}/${idleCount} idle procs started`);
        }
        for (let round = 0; round < sizes.rounds; round++) {
          during.push(await runSequential(shot, sizes.perRound));
          context.progress.advance(1, label(`${idleCount} idle procs, round`, round));
        }
      } finally {
        context.progress.label(`idle-scaling: ${shot.name}, stopping ${idle.size} idle procs`);
        await idle.close();
      }
      for (let round = 0; round < sizes.rounds; round++) {
        before.push(await runSequential(shot, sizes.perRound));
        context.progress.advance(1, label('no idle procs again, round', round));
      }
      base.set(shot.name, medianFigures(before));
      loaded.set(shot.name, medianFigures(during));
    }

    const values = (pick: (name: ContenderName) => number): Partial<Record<ContenderName, number>> =>
      Object.fromEntries(shots.map((shot) => [shot.name, pick(shot.name)]));
    return {
      status: 'ok',
      baseline: 'child_process',
      contenders: shots.map((shot) => shot.name),
      skipped: Object.fromEntries(CONTENDERS.filter((name) => !base.has(name)).map((name) => [name, tools.oneShotSkipped[name] ?? 'unavailable'])),
      metrics: [
        metric({ name: 'throughputBase', label: 'launch+exit/s, none idle', unit: '/s', better: 'higher' }, values((n) => base.get(n)!.throughput), 'child_process'),
        metric({ name: 'throughputLoaded', label: `launch+exit/s, ${idleCount} idle`, unit: '/s', better: 'higher' }, values((n) => loaded.get(n)!.throughput), 'child_process'),
        metric(
          { name: 'scaling', label: `${idleCount} idle / none`, unit: 'x', better: 'higher' },
          values((n) => loaded.get(n)!.throughput / base.get(n)!.throughput),
          'child_process',
        ),
        metric({ name: 'latencyP50Loaded', label: `latency p50, ${idleCount} idle`, unit: 'ms', better: 'lower' }, values((n) => loaded.get(n)!.latencyP50), 'child_process'),
      ],
      notes: [
        `per contender: ${sizes.rounds} rounds of ${sizes.perRound} launches with no idle procs, ${sizes.rounds} with ${idleCount} idle \`sleep\` procs supervised by the same launcher, ${sizes.rounds} with none again; baseline: median of the rounds without`,
        'execa and tinyexec are left out: they supervise through child_process',
        ...(capacity.note === null ? [] : [capacity.note]),
      ],
    };
  },
};

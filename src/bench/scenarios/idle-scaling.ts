// Scenario 5: launch -> exit of /bin/true while 5,000 idle supervised procs are alive.
// Exit detection by pidfd in epoll is O(1); child_process reaps with a waitpid() per
// live child on every SIGCHLD. The C limit, run with the same idle procs, shows what
// the kernel itself charges for them (with and without a copy of the fd table per spawn).
import type { CLimit } from '../c-limit.js';
import { countOf } from '../count-noun.js';
import { createIdleSet, type IdleSetName } from '../idle-procs.js';
import { idleCapacity } from '../limits.js';
import type { OneShot } from '../one-shot.js';
import type { ContenderName } from '../report.js';
import { metric, skippedOutcome, type BenchContext, type Scenario } from '../scenario.js';
import { figuresOfCLimit, medianFigures, runSequential, TRUE_PROGRAM, type RoundFigures } from '../sequential.js';

const SIZES = {
  full: { idle: 5000, rounds: 3, perRound: 300, warmup: 20 },
  quick: { idle: 200, rounds: 1, perRound: 25, warmup: 3 },
};
type Sizes = (typeof SIZES)['full'];
const NODE_CONTENDERS: IdleSetName[] = ['native', 'child_process'];
const GROW_STEP = 250;

interface Phases {
  base: RoundFigures;
  loaded: RoundFigures;
}

export const idleScalingScenario: Scenario = {
  name: 'idle-scaling',
  number: 5,
  title: (quick) => scalingTitle((quick ? SIZES.quick : SIZES.full).idle),
  units(quick) {
    const sizes = quick ? SIZES.quick : SIZES.full;
    return NODE_CONTENDERS.length * (3 * sizes.rounds + Math.ceil(sizes.idle / GROW_STEP)) + 2 * 3;
  },
  async run(context) {
    const sizes = context.quick ? SIZES.quick : SIZES.full;
    const tools = await context.tools();
    const shots = tools.oneShots.filter((shot): shot is OneShot & { name: IdleSetName } =>
      (NODE_CONTENDERS as ContenderName[]).includes(shot.name));
    const capacity = idleCapacity(sizes.idle, 1);
    if (capacity.count === 0) return skippedOutcome('child_process', capacity.note ?? 'no room for idle procs');
    const idleCount = capacity.count;
    const skipped: Partial<Record<ContenderName, string>> = {};
    for (const name of NODE_CONTENDERS) if (!shots.some((shot) => shot.name === name)) skipped[name] = tools.oneShotSkipped[name] ?? 'unavailable';

    const results = new Map<ContenderName, Phases>();
    for (const shot of shots) results.set(shot.name, await measureNode(shot, idleCount, sizes, context));
    if (typeof tools.cLimit === 'string') {
      skipped['c-limit'] = tools.cLimit;
      skipped['c-limit-unshare'] = tools.cLimit;
    } else {
      for (const [name, unshare] of [['c-limit', false], ['c-limit-unshare', true]] as const) {
        results.set(name, await measureC(tools.cLimit, unshare, idleCount, sizes, context));
      }
    }

    const names = [...results.keys()];
    const values = (pick: (phases: Phases) => number): Partial<Record<ContenderName, number>> =>
      Object.fromEntries(names.map((name) => [name, pick(results.get(name)!)]));
    return {
      title: scalingTitle(idleCount),
      status: 'ok',
      baseline: 'child_process',
      contenders: names,
      skipped,
      metrics: [
        metric({ name: 'throughputBase', label: 'launch+exit/s, none idle', unit: '/s', better: 'higher' }, values((p) => p.base.throughput), 'child_process'),
        metric({ name: 'throughputLoaded', label: `launch+exit/s, ${idleCount} idle`, unit: '/s', better: 'higher' }, values((p) => p.loaded.throughput), 'child_process'),
        metric({ name: 'scaling', label: `${idleCount} idle / none`, unit: 'x', better: 'higher' }, values((p) => p.loaded.throughput / p.base.throughput), 'child_process'),
        metric({ name: 'latencyP50Loaded', label: `latency p50, ${idleCount} idle`, unit: 'ms', better: 'lower' }, values((p) => p.loaded.latencyP50), 'child_process'),
      ],
      notes: [
        `per contender: ${countOf(sizes.rounds, 'round')} of ${countOf(sizes.perRound, 'launch', 'launches')} with no idle procs, ${sizes.rounds} with ${countOf(idleCount, 'idle `sleep` proc')} supervised by the same launcher, ${sizes.rounds} with none again; baseline: median of the rounds without`,
        `c-limit / c-limit-unshare: one run of ${countOf(sizes.rounds * sizes.perRound, 'launch', 'launches')} holding ${countOf(idleCount, 'idle proc')} by pidfd, bracketed by runs without; -unshare clones with CLONE_FILES and has the child take a private 3-entry fd table (close_range CLOSE_RANGE_UNSHARE) instead of a copy of all ${idleCount.toLocaleString('en-US')} pidfds`,
        'execa and tinyexec are left out: they supervise through child_process',
        ...(capacity.note === null ? [] : [capacity.note]),
      ],
    };
  },
};

function scalingTitle(idle: number): string {
  return `launch -> exit with ${countOf(idle, 'idle supervised proc')} alive`;
}

/** A (none idle) B (idle alive) A (none again): the A phases bracket B in time, so a drift of the machine shows in the baseline too. */
async function measureNode(shot: OneShot & { name: IdleSetName }, idleCount: number, sizes: Sizes, context: BenchContext): Promise<Phases> {
  const label = (phase: string, round: number): string => `idle-scaling: ${shot.name}, ${phase} ${round + 1}/${sizes.rounds}`;
  await runSequential(shot, sizes.warmup);
  const without: RoundFigures[] = [];
  const during: RoundFigures[] = [];
  for (let round = 0; round < sizes.rounds; round++) {
    without.push(await runSequential(shot, sizes.perRound));
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
    without.push(await runSequential(shot, sizes.perRound));
    context.progress.advance(1, label('no idle procs again, round', round));
  }
  return { base: medianFigures(without), loaded: medianFigures(during) };
}

async function measureC(limit: CLimit, unshare: boolean, idleCount: number, sizes: Sizes, context: BenchContext): Promise<Phases> {
  const name = unshare ? 'c-limit-unshare' : 'c-limit';
  const count = sizes.rounds * sizes.perRound;
  const run = async (idle: number, phase: string): Promise<RoundFigures> => {
    context.progress.label(`idle-scaling: ${name}, ${phase}`);
    const result = await limit.run({ count, unshare, idle, program: TRUE_PROGRAM });
    context.progress.advance(1, `idle-scaling: ${name}, ${phase}`);
    return figuresOfCLimit(result);
  };
  const before = await run(0, 'no idle procs');
  const loaded = await run(idleCount, `${idleCount} idle procs`);
  const after = await run(0, 'no idle procs again');
  return { base: medianFigures([before, after]), loaded };
}

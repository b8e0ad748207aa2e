// Scenario 3: scenarios 1 and 2 again with a 500 MB JS heap in the parent. fork()
// copies the parent's page tables, so child_process slows down with the heap;
// clone(CLONE_VM|CLONE_VFORK) shares them and should not.
import { getHeapStatistics } from 'node:v8';

import { countOf } from '../count-noun.js';
import { allocateBallast } from '../heap.js';
import type { OneShot } from '../one-shot.js';
import type { ContenderName } from '../report.js';
import { metric, skippedOutcome, type Scenario } from '../scenario.js';
import { medianFigures, runSequential, type RoundFigures } from '../sequential.js';

const SIZES = {
  full: { warmup: 20, rounds: 4, perRound: 200 },
  quick: { warmup: 3, rounds: 1, perRound: 20 },
};
const BALLAST_BYTES = 500 * 1024 * 1024;
/** Headroom left under V8's heap limit, so the ballast never causes an OOM abort. */
const HEAP_HEADROOM = 256 * 1024 * 1024;
const CONTENDERS: ContenderName[] = ['native', 'child_process'];

export const bigHeapScenario: Scenario = {
  name: 'big-heap',
  number: 3,
  title: `scenarios 1-2 with a ${mb(BALLAST_BYTES)} JS heap in the parent`,
  units: (quick) => (quick ? SIZES.quick : SIZES.full).rounds * CONTENDERS.length * 2,
  async run(context) {
    const sizes = context.quick ? SIZES.quick : SIZES.full;
    const tools = await context.tools();
    const shots = tools.oneShots.filter((shot) => CONTENDERS.includes(shot.name));
    const stats = getHeapStatistics();
    const room = stats.heap_size_limit - stats.used_heap_size - HEAP_HEADROOM;
    const ballastBytes = Math.min(BALLAST_BYTES, room);
    if (ballastBytes < 64 * 1024 * 1024) {
      return skippedOutcome('child_process', `the V8 heap limit (${mb(stats.heap_size_limit)}) leaves no room for a ballast`);
    }
    for (const shot of shots) await runSequential(shot, sizes.warmup);

    const base = new Map<ContenderName, RoundFigures[]>(shots.map((shot) => [shot.name, []]));
    const heavy = new Map<ContenderName, RoundFigures[]>(shots.map((shot) => [shot.name, []]));
    let measuredBallast = 0;
    // A B A B: each round measures without, then with the ballast, in a rotating order.
    for (let round = 0; round < sizes.rounds; round++) {
      const order = rotate(shots, round);
      for (const shot of order) {
        base.get(shot.name)!.push(await runSequential(shot, sizes.perRound));
        context.progress.advance(1, `big-heap: round ${round + 1}/${sizes.rounds}, ${shot.name}, no ballast`);
      }
      context.progress.label(`big-heap: round ${round + 1}/${sizes.rounds}, allocating ${mb(ballastBytes)} of JS heap`);
      const ballast = allocateBallast(ballastBytes);
      measuredBallast = ballast.bytes;
      try {
        for (const shot of order) {
          heavy.get(shot.name)!.push(await runSequential(shot, sizes.perRound));
          context.progress.advance(1, `big-heap: round ${round + 1}/${sizes.rounds}, ${shot.name}, ${mb(ballast.bytes)} heap`);
        }
      } finally {
        ballast.release();
      }
    }

    const baseFigures = figuresOf(base);
    const heavyFigures = figuresOf(heavy);
    const values = (pick: (name: ContenderName) => number): Partial<Record<ContenderName, number>> =>
      Object.fromEntries(shots.map((shot) => [shot.name, pick(shot.name)]));
    const heapLabel = mb(measuredBallast);
    return {
      // The heap may have been cut down to fit under V8's limit.
      title: `scenarios 1-2 with a ${heapLabel} JS heap in the parent`,
      status: 'ok',
      baseline: 'child_process',
      contenders: shots.map((shot) => shot.name),
      skipped: Object.fromEntries(CONTENDERS.filter((name) => !base.has(name)).map((name) => [name, tools.oneShotSkipped[name] ?? 'unavailable'])),
      metrics: [
        metric({ name: 'callP50Base', label: 'call p50, no ballast', unit: 'ms', better: 'lower' }, values((n) => baseFigures.get(n)!.callP50), 'child_process'),
        metric({ name: 'callP50Heap', label: `call p50, ${heapLabel} heap`, unit: 'ms', better: 'lower' }, values((n) => heavyFigures.get(n)!.callP50), 'child_process'),
        metric({ name: 'callP99Heap', label: `call p99, ${heapLabel} heap`, unit: 'ms', better: 'lower' }, values((n) => heavyFigures.get(n)!.callP99), 'child_process'),
        metric(
          { name: 'callGrowth', label: 'call p50 heap/no-heap', unit: 'x', better: 'lower' },
          values((n) => heavyFigures.get(n)!.callP50 / baseFigures.get(n)!.callP50),
          'child_process',
        ),
        metric({ name: 'throughputHeap', label: `launch+exit/s, ${heapLabel} heap`, unit: '/s', better: 'higher' }, values((n) => heavyFigures.get(n)!.throughput), 'child_process'),
      ],
      notes: [
        `${countOf(sizes.rounds, 'round')} of ${countOf(sizes.perRound, 'launch', 'launches')} per contender, each round without then with a ballast of ${heapLabel} of small JS objects (allocated before the heavy half of each round, released after it)`,
        'execa and tinyexec are left out: they spawn through child_process and pay the same fork cost',
      ],
    };
  },
};

function figuresOf(rounds: Map<ContenderName, RoundFigures[]>): Map<ContenderName, RoundFigures> {
  return new Map([...rounds].map(([name, samples]) => [name, medianFigures(samples)]));
}

function rotate(shots: readonly OneShot[], by: number): OneShot[] {
  return shots.map((_, i) => shots[(i + by) % shots.length]!);
}

function mb(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}

// Scenario 4: 64 launches in flight at all times: throughput, the longest event-loop
// stall a 1 ms timer sees meanwhile, and what each launch costs the launching process
// itself in CPU (with 2 cores saturated by the kernel's exec/exit work, that share is
// what a contender can still win or lose).
import { countOf } from '../count-noun.js';
import { helperCpuBetween, spawnServerCpu } from '../helper-cpu.js';
import { runInterleaved } from '../interleave.js';
import { monitorStalls } from '../loop-stall.js';
import { idleShare, machineCpu } from '../machine-cpu.js';
import type { OneShot } from '../one-shot.js';
import type { ContenderName } from '../report.js';
import { metric, type Scenario } from '../scenario.js';
import { TRUE_PROGRAM } from '../sequential.js';
import { median } from '../stats.js';
import { runtimeNotes } from './sequential-run.js';

const SIZES = {
  full: { rounds: 3, total: 1000 },
  quick: { rounds: 1, total: 128 },
};
export const IN_FLIGHT = 64;

interface InFlightFigures {
  throughput: number;
  /** For the C limit: its longest batch between two poll() calls (it has no timers). */
  maxStallMs: number;
  /** CPU time of the launching process (and, for native, its spawn server) per launch; null when unknown. */
  cpuPerLaunchMs: number | null;
}

interface InFlightContender {
  name: ContenderName;
  measure(total: number): Promise<InFlightFigures>;
}

export const inFlightScenario: Scenario = {
  name: 'in-flight',
  number: 4,
  title: `${IN_FLIGHT} launches of /bin/true in flight`,
  units: (quick) => (quick ? SIZES.quick : SIZES.full).rounds * 7,
  async run(context) {
    const sizes = context.quick ? SIZES.quick : SIZES.full;
    const tools = await context.tools();
    const contenders: InFlightContender[] = tools.oneShots.map((shot) => ({
      name: shot.name,
      measure: (total) => runInFlight(shot, total, IN_FLIGHT),
    }));
    const skipped = { ...tools.oneShotSkipped, ...tools.runtimeSkipped };
    const cLimit = tools.cLimit;
    if (typeof cLimit === 'string') skipped['c-limit'] = cLimit;
    else {
      contenders.push({
        name: 'c-limit',
        async measure(total) {
          const result = await cLimit.run({ count: total, inflight: IN_FLIGHT, program: TRUE_PROGRAM });
          return { throughput: result.launchesPerSec, maxStallMs: result.maxBatchMs, cpuPerLaunchMs: result.cpuMs / result.launches };
        },
      });
    }
    // A runtime process per round, warming up with one batch of IN_FLIGHT launches first.
    for (const runtime of tools.runtimes) {
      contenders.push({
        name: runtime.name,
        async measure(total) {
          const result = await runtime.inFlight(total, IN_FLIGHT, IN_FLIGHT, TRUE_PROGRAM);
          return { throughput: result.launchesPerSec, maxStallMs: result.maxStallMs, cpuPerLaunchMs: result.cpuMs / result.launches };
        },
      });
    }
    // Whether a contender's rate was bound by the CPU: how idle the machine was in its rounds.
    const idle: Partial<Record<ContenderName, number[]>> = {};
    const rounds = await runInterleaved(
      contenders,
      {
        rounds: sizes.rounds,
        warmup: (contender) => contender.measure(IN_FLIGHT),
        onStep: (contender, round) => context.progress.advance(1, `in-flight: round ${round + 1}/${sizes.rounds}, ${contender.name}`),
      },
      async (contender) => {
        const before = machineCpu();
        const figures = await contender.measure(sizes.total);
        const share = idleShare(before, machineCpu());
        if (share !== null) (idle[contender.name] ??= []).push(share);
        return figures;
      },
    );
    const idleNote = contenders
      .filter((contender) => idle[contender.name] !== undefined)
      .map((contender) => `${contender.name} ${Math.round(100 * median(idle[contender.name]!))}%`)
      .join(', ');
    const throughput: Partial<Record<ContenderName, number>> = {};
    const stall: Partial<Record<ContenderName, number>> = {};
    const cpu: Partial<Record<ContenderName, number | null>> = {};
    for (const [name, samples] of rounds) {
      throughput[name] = median(samples.map((sample) => sample.throughput));
      stall[name] = Math.max(...samples.map((sample) => sample.maxStallMs));
      const known = samples.flatMap((sample) => (sample.cpuPerLaunchMs === null ? [] : [sample.cpuPerLaunchMs]));
      cpu[name] = known.length === 0 ? null : median(known);
    }
    return {
      status: 'ok',
      baseline: 'child_process',
      contenders: contenders.map((contender) => contender.name),
      skipped,
      metrics: [
        metric({ name: 'throughput', label: 'launch+exit/s', unit: '/s', better: 'higher' }, throughput, 'child_process'),
        metric({ name: 'maxStall', label: 'longest 1 ms timer gap', unit: 'ms', better: 'lower' }, stall, 'child_process'),
        metric({ name: 'cpuPerLaunch', label: 'own CPU per launch', unit: 'ms', better: 'lower' }, cpu, 'child_process'),
      ],
      notes: [
        `${countOf(sizes.rounds, 'interleaved round')} of ${countOf(sizes.total, 'launch', 'launches')} per contender, ${IN_FLIGHT} in flight; ${sizes.rounds === 1 ? 'one round only, so no median' : 'throughput: median over rounds; stall: worst over rounds'}`,
        ...runtimeNotes(tools.runtimes, IN_FLIGHT),
        'stall: the longest gap between firings of a 1 ms setInterval during the round (the whole round if it never fired); c-limit: the longest time it spent handling one poll() wake-up (reaping and re-spawning every ready child), i.e. what a timer in a C event loop doing the same would wait',
        `the machine's idle CPU during each contender's rounds (median; 2 cores saturated = 0%): ${idleNote}`,
        'own CPU per launch: user + system time of the launching process over the round (every thread; not its children), divided by the launches; native adds its spawn server\'s (read from /proc); median over rounds',
      ],
    };
  },
};

/** Keeps `concurrency` procs in flight until `total` have exited. */
export async function runInFlight(shot: OneShot, total: number, concurrency: number): Promise<InFlightFigures> {
  const helpersBefore = spawnServerCpu();
  const cpuBefore = process.cpuUsage();
  const monitor = monitorStalls();
  const begin = performance.now();
  let maxStallMs: number;
  try {
    await new Promise<void>((resolve, reject) => {
      let started = 0;
      let exited = 0;
      const startNext = (): void => {
        if (started >= total) return;
        started++;
        try {
          shot.start(TRUE_PROGRAM, []).exited.then(() => {
            exited++;
            if (exited === total) resolve();
            else startNext();
          }, reject);
        } catch (error) {
          reject(error as Error);
        }
      };
      for (let i = 0; i < Math.min(concurrency, total); i++) startNext();
    });
  } finally {
    maxStallMs = monitor.stop();
  }
  const throughput = (total * 1000) / (performance.now() - begin);
  const own = process.cpuUsage(cpuBefore);
  // Only the native contender has a spawn server; for the others the set is empty both times.
  const helperMs = helperCpuBetween(helpersBefore, spawnServerCpu());
  const cpuPerLaunchMs = helperMs === null ? null : ((own.user + own.system) / 1000 + helperMs) / total;
  return { throughput, maxStallMs, cpuPerLaunchMs };
}

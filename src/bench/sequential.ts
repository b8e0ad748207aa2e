// Launch -> exit, one at a time: the per-round figures behind scenarios 1, 2, 3 and 5.
import type { CLimit, CLimitResult } from './c-limit.js';
import type { JsRuntime } from './js-runtimes.js';
import type { OneShot } from './one-shot.js';
import type { ContenderName } from './report.js';
import { median, percentile } from './stats.js';

export const TRUE_PROGRAM = '/bin/true';

export interface RoundFigures {
  /** launch + exit observed, per second. */
  throughput: number;
  /** Synchronous time of the launch call, ms. */
  callP50: number;
  callP99: number;
  /** From the launch call to the exit observed, ms. */
  latencyP50: number;
  latencyP99: number;
}

export interface SequentialContender {
  name: ContenderName;
  measure(count: number): Promise<RoundFigures>;
}

export function oneShotContender(shot: OneShot): SequentialContender {
  return { name: shot.name, measure: (count) => runSequential(shot, count) };
}

export function cLimitContender(limit: CLimit, name: ContenderName, setup: boolean, setsid = false): SequentialContender {
  return {
    name,
    async measure(count) {
      return figuresOfCLimit(await limit.run({ count, setup, setsid, program: TRUE_PROGRAM }));
    },
  };
}

/** Bun or Deno: one runtime process per round, warming up `warmup` launches first. */
export function runtimeContender(runtime: JsRuntime, warmup: number): SequentialContender {
  return {
    name: runtime.name,
    async measure(count) {
      const result = await runtime.sequential(count, warmup, TRUE_PROGRAM);
      return {
        throughput: result.launchesPerSec,
        callP50: result.callMs.p50,
        callP99: result.callMs.p99,
        latencyP50: result.latencyMs.p50,
        latencyP99: result.latencyMs.p99,
      };
    },
  };
}

/** The C limit's report (microseconds) as round figures (milliseconds). */
export function figuresOfCLimit(result: CLimitResult): RoundFigures {
  return {
    throughput: result.launchesPerSec,
    callP50: result.spawnCallUs.p50 / 1000,
    callP99: result.spawnCallUs.p99 / 1000,
    latencyP50: result.latencyUs.p50 / 1000,
    latencyP99: result.latencyUs.p99 / 1000,
  };
}

export async function runSequential(shot: OneShot, count: number, program = TRUE_PROGRAM): Promise<RoundFigures> {
  const calls: number[] = [];
  const latencies: number[] = [];
  const begin = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const { callMs, exited } = shot.start(program, []);
    await exited;
    latencies.push(performance.now() - t0);
    calls.push(callMs);
  }
  const elapsed = performance.now() - begin;
  return {
    throughput: (count * 1000) / elapsed,
    callP50: percentile(calls, 0.5),
    callP99: percentile(calls, 0.99),
    latencyP50: percentile(latencies, 0.5),
    latencyP99: percentile(latencies, 0.99),
  };
}

/** Median of each figure over rounds. */
export function medianFigures(rounds: readonly RoundFigures[]): RoundFigures {
  const of = (key: keyof RoundFigures): number => median(rounds.map((round) => round[key]));
  return {
    throughput: of('throughput'),
    callP50: of('callP50'),
    callP99: of('callP99'),
    latencyP50: of('latencyP50'),
    latencyP99: of('latencyP99'),
  };
}

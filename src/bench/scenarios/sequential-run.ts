// The interleaved sequential rounds shared by scenario 1 (throughput, latency) and
// scenario 2 (launch call time): run once per bench run, whichever asks first.
import { combinedOver, countOf } from '../count-noun.js';
import { runInterleaved } from '../interleave.js';
import type { ContenderName } from '../report.js';
import type { JsRuntime } from '../js-runtimes.js';
import type { BenchContext } from '../scenario.js';
import { cLimitContender, medianFigures, oneShotContender, runtimeContender, type RoundFigures, type SequentialContender } from '../sequential.js';

export const SEQUENTIAL_SIZES = {
  full: { warmup: 30, rounds: 7, perRound: 300 },
  quick: { warmup: 5, rounds: 2, perRound: 25 },
};

export interface SequentialRun {
  figures: Map<ContenderName, RoundFigures>;
  contenders: ContenderName[];
  skipped: Partial<Record<ContenderName, string>>;
  notes: string[];
}

/** Contenders of the sequential scenarios: every one-shot launcher, three C limits, Bun and Deno. */
export const SEQUENTIAL_CONTENDER_COUNT = 10;

export function sequentialRun(context: BenchContext): Promise<SequentialRun> {
  let run = context.memo.get('sequential') as Promise<SequentialRun> | undefined;
  if (run === undefined) {
    run = measureSequential(context);
    context.memo.set('sequential', run);
  }
  return run;
}

async function measureSequential(context: BenchContext): Promise<SequentialRun> {
  const sizes = context.quick ? SEQUENTIAL_SIZES.quick : SEQUENTIAL_SIZES.full;
  const tools = await context.tools();
  const contenders: SequentialContender[] = tools.oneShots.map(oneShotContender);
  const skipped = { ...tools.oneShotSkipped, ...tools.runtimeSkipped };
  if (typeof tools.cLimit === 'string') {
    skipped['c-limit'] = tools.cLimit;
    skipped['c-limit-setup'] = tools.cLimit;
    skipped['c-limit-setsid'] = tools.cLimit;
  } else {
    contenders.push(
      cLimitContender(tools.cLimit, 'c-limit', false),
      cLimitContender(tools.cLimit, 'c-limit-setup', true),
      cLimitContender(tools.cLimit, 'c-limit-setsid', true, true),
    );
  }
  // A runtime warms up inside each round (a new process each time): the warm-up is passed on.
  for (const runtime of tools.runtimes) contenders.push(runtimeContender(runtime, sizes.warmup));
  const rounds = await runInterleaved(
    contenders,
    {
      rounds: sizes.rounds,
      warmup: (contender) => contender.measure(sizes.warmup),
      onStep: (contender, round) =>
        context.progress.advance(1, `sequential: round ${round + 1}/${sizes.rounds}, ${contender.name}`),
    },
    (contender) => contender.measure(sizes.perRound),
  );
  const figures = new Map<ContenderName, RoundFigures>();
  for (const [name, samples] of rounds) figures.set(name, medianFigures(samples));
  return {
    figures,
    contenders: contenders.map((contender) => contender.name),
    skipped,
    notes: [
      `${countOf(sizes.rounds, 'interleaved round')} of ${countOf(sizes.perRound, 'launch', 'launches')} per contender after ${countOf(sizes.warmup, 'warm-up launch', 'warm-up launches')}; ${combinedOver(sizes.rounds, 'medians')}`,
      'every contender: stdin /dev/null, stdout and stderr inherited, no output buffering',
      ...runtimeNotes(tools.runtimes, sizes.warmup),
    ],
  };
}

/** One figure of every contender, for a metric row. */
export function pickFigure(run: SequentialRun, key: keyof RoundFigures): Partial<Record<ContenderName, number>> {
  return Object.fromEntries([...run.figures].map(([name, figures]) => [name, figures[key]]));
}

/** What the Bun and Deno figures are, with the versions measured. */
export function runtimeNotes(runtimes: readonly JsRuntime[], warmup: number): string[] {
  if (runtimes.length === 0) return [];
  const names = runtimes.map((runtime) => `${runtime.name} ${runtime.version}`).join(', ');
  return [`${names}: Bun.spawn / Deno.Command in a runtime process of its own per round (bench/js-runtime-round.mjs), ${warmup} warm-up launches in each, figures measured inside the runtime as for Node`];
}

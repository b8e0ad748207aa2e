// What a scenario is, what it gets from the harness, and helpers to build its report.
import type { CLimit } from './c-limit.js';
import type { JsRuntime } from './js-runtimes.js';
import type { CleanupRegistry } from './cleanup.js';
import type { OneShot } from './one-shot.js';
import type { Progress } from './progress.js';
import type { ContenderName, MetricReport, ScenarioName, ScenarioReport } from './report.js';
import { betterRatio } from './stats.js';

/** Shared, lazily built tools: loading execa or compiling C happens once per run. */
export interface BenchTools {
  oneShots: OneShot[];
  /** One-shot launchers that cannot run here, with why. */
  oneShotSkipped: Partial<Record<ContenderName, string>>;
  /** The C limit, or why it cannot run. */
  cLimit: CLimit | string;
  /** Bun and Deno where they were found, and why the others were not. */
  runtimes: JsRuntime[];
  runtimeSkipped: Partial<Record<ContenderName, string>>;
}

export interface BenchContext {
  quick: boolean;
  registry: CleanupRegistry;
  progress: Progress;
  tools(): Promise<BenchTools>;
  /** Results one scenario may reuse from another within one run (scenario 2 reuses 1's rounds). */
  memo: Map<string, Promise<unknown>>;
}

export type ScenarioOutcome = Omit<ScenarioReport, 'name' | 'number' | 'title' | 'durationMs'> & {
  /** The heading with the sizes the run actually used, when a limit cut them down (default: the scenario's title). */
  title?: string;
};

export interface Scenario {
  name: ScenarioName;
  number: number;
  /** The heading; a function when it names sizes, which differ under --quick. */
  title: string | ((quick: boolean) => string);
  /** Progress units run() will report, to size the bar. */
  units(quick: boolean): number;
  run(context: BenchContext): Promise<ScenarioOutcome>;
}

export function titleOf(scenario: Pick<Scenario, 'title'>, quick: boolean): string {
  return typeof scenario.title === 'string' ? scenario.title : scenario.title(quick);
}

/** A metric with its ratios to `baseline` filled in. */
export function metric(
  spec: { name: string; label: string; unit: string; better: 'higher' | 'lower' },
  values: Partial<Record<ContenderName, number | null>>,
  baseline: ContenderName,
): MetricReport {
  const base = values[baseline];
  const ratios: Partial<Record<ContenderName, number | null>> = {};
  for (const [name, value] of Object.entries(values) as [ContenderName, number | null][]) {
    ratios[name] = value === null || base === undefined || base === null ? null : betterRatio(value, base, spec.better);
  }
  return { ...spec, values, ratios };
}

export function skippedOutcome(baseline: ContenderName, reason: string, notes: string[] = []): ScenarioOutcome {
  return { status: 'skipped', reason, baseline, contenders: [], skipped: {}, metrics: [], notes };
}

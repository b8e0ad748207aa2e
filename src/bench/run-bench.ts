// Runs the selected scenarios in order and assembles the report.
import { cpus, loadavg, release, totalmem } from 'node:os';

import { buildCLimit } from './c-limit.js';
import { loadRuntimes } from './js-runtimes.js';
import type { CleanupRegistry } from './cleanup.js';
import { loadOneShots } from './one-shot.js';
import type { Progress } from './progress.js';
import type { BenchReport, ScenarioName, ScenarioReport } from './report.js';
import { titleOf, type BenchContext, type BenchTools, type Scenario } from './scenario.js';
import { bigHeapScenario } from './scenarios/big-heap.js';
import { idleFootprintScenario } from './scenarios/idle-footprint.js';
import { idleScalingScenario } from './scenarios/idle-scaling.js';
import { inFlightScenario } from './scenarios/in-flight.js';
import { launchCallScenario } from './scenarios/launch-call.js';
import { notifyFloodScenario } from './scenarios/notify-flood.js';
import { sequentialScenario } from './scenarios/sequential.js';
import { slurmScenario } from './scenarios/slurm.js';
import { systemdScenario } from './scenarios/systemd.js';
import { terminateScenario } from './scenarios/terminate.js';
import { evaluateTargets } from './targets.js';

/** Every scenario, in the issue's order (the number is the scenario's position there). */
export const SCENARIOS: readonly Scenario[] = [
  sequentialScenario,
  launchCallScenario,
  bigHeapScenario,
  inFlightScenario,
  idleScalingScenario,
  idleFootprintScenario,
  terminateScenario,
  systemdScenario,
  notifyFloodScenario,
  slurmScenario,
];

export interface RunBenchOptions {
  quick: boolean;
  scenarios: readonly ScenarioName[];
  progress: Progress;
  registry: CleanupRegistry;
}

export async function runBench(options: RunBenchOptions): Promise<BenchReport> {
  const started = new Date();
  const selected = SCENARIOS.filter((scenario) => options.scenarios.includes(scenario.name));
  for (const scenario of selected) options.progress.expect(scenario.units(options.quick));

  let tools: Promise<BenchTools> | undefined;
  const context: BenchContext = {
    quick: options.quick,
    registry: options.registry,
    progress: options.progress,
    tools: () => (tools ??= loadTools(options.registry, options.progress)),
    memo: new Map(),
  };
  const reports: ScenarioReport[] = [];
  try {
    for (const scenario of selected) reports.push(await runScenario(scenario, context));
  } finally {
    if (tools !== undefined) await closeTools(await tools);
    options.progress.done();
  }
  return {
    version: 1,
    meta: {
      node: process.version,
      v8: process.versions.v8,
      kernel: release(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      totalMemoryMb: Math.round(totalmem() / (1024 * 1024)),
      loadAverage: loadavg(),
      quick: options.quick,
      startedAt: started.toISOString(),
      durationMs: Date.now() - started.getTime(),
    },
    scenarios: reports,
    targets: evaluateTargets(reports, options.quick),
  };
}

async function runScenario(scenario: Scenario, context: BenchContext): Promise<ScenarioReport> {
  const t0 = performance.now();
  context.progress.label(`${scenario.name}: starting`);
  const head = { name: scenario.name, number: scenario.number, title: titleOf(scenario, context.quick) };
  try {
    const outcome = await scenario.run(context);
    return { ...head, ...outcome, title: outcome.title ?? head.title, durationMs: performance.now() - t0 };
  } catch (error) {
    // One broken scenario must not hide the others' figures.
    return {
      ...head,
      status: 'failed',
      reason: error instanceof Error ? error.message : String(error),
      baseline: 'child_process',
      contenders: [],
      skipped: {},
      metrics: [],
      notes: [],
      durationMs: performance.now() - t0,
    };
  }
}

async function loadTools(registry: CleanupRegistry, progress: Progress): Promise<BenchTools> {
  progress.label('loading launchers, Bun and Deno, and compiling bench/c-limit.c');
  const { available, skipped } = await loadOneShots(['native', 'native-inline', 'child_process', 'execa', 'tinyexec']);
  const runtimes = await loadRuntimes();
  return { oneShots: available, oneShotSkipped: skipped, cLimit: await buildCLimit(registry), runtimes: runtimes.available, runtimeSkipped: runtimes.skipped };
}

async function closeTools(tools: BenchTools): Promise<void> {
  for (const shot of tools.oneShots) await shot.close();
  if (typeof tools.cLimit !== 'string') tools.cLimit.dispose();
}

/** Scenario names from `--scenario` values: names, numbers 1-10, comma lists, or "all". */
export function resolveScenarioNames(values: readonly string[]): ScenarioName[] | string {
  if (values.length === 0) return SCENARIOS.map((scenario) => scenario.name);
  const names = new Set<ScenarioName>();
  for (const value of values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '')) {
    if (value === 'all') {
      for (const scenario of SCENARIOS) names.add(scenario.name);
      continue;
    }
    const scenario = SCENARIOS.find((s) => s.name === value || String(s.number) === value);
    if (scenario === undefined) return `unknown scenario "${value}" (one of: ${SCENARIOS.map((s) => `${s.number} ${s.name}`).join(', ')})`;
    names.add(scenario.name);
  }
  return SCENARIOS.filter((scenario) => names.has(scenario.name)).map((scenario) => scenario.name);
}

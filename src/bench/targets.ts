// The targets, checked against the figures of the same run. A target is met,
// missed, or null when a scenario it needs did not run (or was skipped) here, or when
// the run used --quick sizes (200 idle procs are not 5,000: no verdict from those).
import type { ContenderName, ScenarioName, ScenarioReport, TargetReport } from './report.js';

type Lookup = (scenario: ScenarioName, metric: string, contender: ContenderName) => number | null;

interface Part {
  ok: boolean | null;
  text: string;
}

export function evaluateTargets(scenarios: readonly ScenarioReport[], quick = false): TargetReport[] {
  const value: Lookup = (scenarioName, metricName, contender) => {
    const scenario = scenarios.find((s) => s.name === scenarioName && s.status === 'ok');
    const found = scenario?.metrics.find((m) => m.name === metricName)?.values[contender];
    return typeof found === 'number' && Number.isFinite(found) ? found : null;
  };
  const ratio = (scenario: ScenarioName, metricName: string, of: ContenderName, to: ContenderName, higherIsBetter: boolean): number | null => {
    const a = value(scenario, metricName, of);
    const b = value(scenario, metricName, to);
    if (a === null || b === null || a <= 0 || b <= 0) return null;
    return higherIsBetter ? a / b : b / a;
  };
  const atLeast = (x: number | null, min: number, text: (x: number) => string, missing: string): Part =>
    x === null ? { ok: null, text: missing } : { ok: x >= min, text: text(x) };
  const atMost = (x: number | null, max: number, text: (x: number) => string, missing: string): Part =>
    x === null ? { ok: null, text: missing } : { ok: x <= max, text: text(x) };

  const targets = [
    target(1, 'sequential throughput >= 2.5x child_process and >= 0.8x the C limit', [
      atLeast(ratio('sequential', 'throughput', 'native', 'child_process', true), 2.5, (x) => `${x.toFixed(2)}x child_process`, 'child_process ratio not measured'),
      atLeast(ratio('sequential', 'throughput', 'native', 'c-limit', true), 0.8, (x) => `${x.toFixed(2)}x c-limit`, 'c-limit ratio not measured'),
    ]),
    target(2, 'launch call p50 >= 10x shorter than child_process; <= 1.2x change with a 500 MB heap', [
      atLeast(ratio('launch-call', 'callP50', 'native', 'child_process', false), 10, (x) => `${x.toFixed(1)}x shorter`, 'launch-call not measured'),
      atMost(value('big-heap', 'callGrowth', 'native'), 1.2, (x) => `${x.toFixed(2)}x with the heap`, 'big-heap not measured'),
    ]),
    target(3, 'longest event-loop stall at 64 in flight <= 50 ms', [
      atMost(value('in-flight', 'maxStall', 'native'), 50, (x) => `${x.toFixed(1)} ms`, 'in-flight not measured'),
    ]),
    target(4, 'throughput with 5,000 idle procs >= 0.9x of none', [
      atLeast(value('idle-scaling', 'scaling', 'native'), 0.9, (x) => `${x.toFixed(2)}x`, 'idle-scaling not measured'),
    ]),
    target(5, '<= 3 KB of JS heap and exactly one fd per idle proc without stdio', [
      atMost(value('idle-footprint', 'heapPerProc', 'native'), 3072, (x) => `${Math.round(x)} B heap`, 'idle-footprint not measured'),
      fdPart(value('idle-footprint', 'fdsPerProc', 'native')),
    ]),
    target(6, 'systemd backend launch -> exit >= 1.5x faster than systemd-run --wait', [
      atLeast(ratio('systemd', 'latencyP50', 'systemd', 'systemd-run', false), 1.5, (x) => `${x.toFixed(2)}x faster`, 'systemd not measured'),
    ]),
    // Issue #10: against Bun and Deno, in the same interleaved rounds.
    target(7, 'launch call p50 <= 0.5x Bun.spawn\'s', [
      atMost(inverse(ratio('launch-call', 'callP50', 'native', 'bun', false)), 0.5, (x) => `${x.toFixed(2)}x Bun's`, 'bun not measured'),
    ]),
    target(8, 'sequential launch+exit >= 1.0x Bun', [
      atLeast(ratio('sequential', 'throughput', 'native', 'bun', true), 1.0, (x) => `${x.toFixed(2)}x bun`, 'bun not measured'),
    ]),
    target(9, '64 in flight >= 1.2x Bun, >= 1.2x Deno and >= 1.0x the C loop', [
      atLeast(ratio('in-flight', 'throughput', 'native', 'bun', true), 1.2, (x) => `${x.toFixed(2)}x bun`, 'bun not measured'),
      atLeast(ratio('in-flight', 'throughput', 'native', 'deno', true), 1.2, (x) => `${x.toFixed(2)}x deno`, 'deno not measured'),
      atLeast(ratio('in-flight', 'throughput', 'native', 'c-limit', true), 1.0, (x) => `${x.toFixed(2)}x c-limit`, 'c-limit not measured'),
    ]),
    target(10, 'longest 1 ms-timer stall at 64 in flight <= 0.25x Bun\'s', [
      atMost(inverse(ratio('in-flight', 'maxStall', 'native', 'bun', false)), 0.25, (x) => `${x.toFixed(2)}x Bun's`, 'bun not measured'),
    ]),
    // Issue #11: a step through SlurmProcLauncher against the raw srun of the same step.
    target(11, "Slurm backend launch -> exit <= 1.1x raw srun's latency", [
      atMost(inverse(ratio('slurm', 'latencyP50', 'slurm', 'srun', false)), 1.1, (x) => `${x.toFixed(2)}x srun's`, 'slurm not measured'),
    ]),
  ];
  if (!quick) return targets;
  return targets.map((t) => ({ ...t, met: null, measured: `${t.measured} (quick sizes: no verdict)` }));
}

/** "n times shorter" as "a fraction of the other's". */
function inverse(x: number | null): number | null {
  return x === null ? null : 1 / x;
}

function fdPart(fds: number | null): Part {
  if (fds === null) return { ok: null, text: 'fds not measured' };
  // "Exactly one": the count is a difference over N procs, so allow an unrelated fd or two.
  return { ok: Math.abs(fds - 1) < 0.01, text: `${fds.toFixed(2)} fd` };
}

function target(id: number, description: string, parts: Part[]): TargetReport {
  const met = parts.some((part) => part.ok === null) ? null : parts.every((part) => part.ok === true);
  return { id, description, met, measured: parts.map((part) => part.text).join('; ') };
}

// The shape of a bench run, as printed by `proclaunch bench --json` (version 1).

/**
 * Who is measured. `c-limit` is bench/c-limit.c (clone + exec + pidfd wait, nothing
 * else); `c-limit-setup` also does the addon's child-side setup before exec;
 * `c-limit-setsid` the same with setsid() instead of setpgid (autogroup cost);
 * `c-limit-unshare` gives each child a private 3-entry fd table (CLONE_FILES +
 * CLOSE_RANGE_UNSHARE) instead of a copy of the parent's. `bun` and `deno` are those
 * runtimes' own launch APIs (Bun.spawn, Deno.Command), each round a run of the runtime.
 * `slurm` is SlurmProcLauncher; `srun` a raw `srun --jobid J --overlap` step, its baseline.
 * `native-inline` is NativeProcLauncher cloning on the event loop's thread
 * (PROCLAUNCH_SPAWNER=inline), as before the spawn server: the before/after in one run.
 */
export type ContenderName =
  | 'native'
  | 'native-inline'
  | 'child_process'
  | 'execa'
  | 'tinyexec'
  | 'c-limit'
  | 'c-limit-setup'
  | 'c-limit-unshare'
  | 'c-limit-setsid'
  | 'bun'
  | 'deno'
  | 'systemd'
  | 'systemd-run'
  | 'slurm'
  | 'srun';

export type ScenarioName =
  | 'sequential'
  | 'launch-call'
  | 'big-heap'
  | 'in-flight'
  | 'idle-scaling'
  | 'idle-footprint'
  | 'terminate'
  | 'systemd'
  | 'notify-flood'
  | 'slurm';

export interface MetricReport {
  /** Machine name, e.g. "throughput". */
  name: string;
  /** What it is, for the table, e.g. "launch+exit / s". */
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** Median over rounds (or the single measured figure); null when the contender did not run. */
  values: Partial<Record<ContenderName, number | null>>;
  /**
   * How many times better than the scenario's baseline (value/baseline when higher is
   * better, baseline/value when lower is better): > 1 always means "better than baseline".
   */
  ratios: Partial<Record<ContenderName, number | null>>;
}

export interface ScenarioReport {
  name: ScenarioName;
  number: number;
  title: string;
  /** ok: every contender that could run produced numbers; skipped: nothing measured, see reason. */
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  /** The contender ratios are relative to (child_process; systemd-run for the systemd scenario, srun for slurm). */
  baseline: ContenderName;
  contenders: ContenderName[];
  /** Contenders that could not run here, with why (e.g. execa not installed). */
  skipped: Partial<Record<ContenderName, string>>;
  metrics: MetricReport[];
  /** Rounds, sizes and anything a reader needs to interpret the figures. */
  notes: string[];
  durationMs: number;
}

export interface TargetReport {
  id: number;
  description: string;
  /** null when the scenarios it needs were not run or were skipped. */
  met: boolean | null;
  measured: string;
}

export interface BenchMeta {
  node: string;
  v8: string;
  kernel: string;
  cpus: number;
  cpuModel: string;
  totalMemoryMb: number;
  loadAverage: number[];
  quick: boolean;
  startedAt: string;
  durationMs: number;
}

export interface BenchReport {
  version: 1;
  meta: BenchMeta;
  scenarios: ScenarioReport[];
  targets: TargetReport[];
}

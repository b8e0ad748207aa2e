// Scenario 10: the Slurm backend. (a) launch -> exit of /bin/true through
// SlurmProcLauncher against a raw `srun --jobid J --overlap` of the same step, in the
// same interleaved rounds, on the same node of one allocation; (b) N remote procs at
// once under a ProcManager: how fast they are all running, what each costs the
// manager's process, how long terminateAll takes. Runs only where a Slurm controller
// answers (else skipped, with why); the allocation is its own and released at the end.
import type { ProcExitResult, ProcLauncher } from '../../contract.js';
import { ProcManager } from '../../manager/proc-manager.js';
import { combinedOver, countOf } from '../count-noun.js';
import { forceGc, settledHeapUsed } from '../heap.js';
import { runInterleaved } from '../interleave.js';
import type { OneShot } from '../one-shot.js';
import type { ContenderName } from '../report.js';
import { metric, skippedOutcome, type Scenario } from '../scenario.js';
import { medianFigures, runSequential, TRUE_PROGRAM } from '../sequential.js';
import { allocate, probeSlurm, srunOneShot, SRUN_NOTE } from './slurm-allocation.js';

const SIZES = {
  full: { rounds: 5, perRound: 10, warmup: 2, burst: 100 },
  quick: { rounds: 1, perRound: 3, warmup: 1, burst: 10 },
};
const MAX_NODES = 3;
const BACKEND_MODULE = new URL('../../slurm/slurm-proc-launcher.js', import.meta.url).href;
/** The burst's procs wait to be stopped; far longer than any run of the scenario. */
const BURST_PROGRAM = { program: '/bin/sleep', args: ['3600'] };
const STOP_TIMEOUT_MS = 5000;

type LauncherClass = new (options?: Record<string, unknown>) => ProcLauncher;

interface BurstFigures {
  procsPerSec: number;
  heapPerProc: number;
  rssKbPerProc: number;
  terminateAllMs: number;
  hostsUsed: number;
}

export const slurmScenario: Scenario = {
  name: 'slurm',
  number: 10,
  title: (quick) => `Slurm backend launch -> exit vs raw srun; ${(quick ? SIZES.quick : SIZES.full).burst} remote procs at once`,
  units: (quick) => 2 * (quick ? SIZES.quick : SIZES.full).rounds + 1,
  async run(context) {
    const sizes = context.quick ? SIZES.quick : SIZES.full;
    const unreachable = await probeSlurm();
    if (unreachable !== null) return skippedOutcome('srun', unreachable);
    const Backend = await loadBackend();
    const skipped: Partial<Record<ContenderName, string>> = {};
    if (typeof Backend === 'string') skipped['slurm'] = Backend;

    const allocation = await allocate(MAX_NODES);
    const removeAllocation = context.registry.add(allocation.releaseNow);
    let launcher: ProcLauncher | null = null;
    let removeLauncher = (): void => {};
    try {
      const host = allocation.hosts[0]!;
      const contenders: OneShot[] = [srunOneShot(allocation.jobId, host)];
      if (typeof Backend !== 'string') {
        launcher = new Backend({ allocation: allocation.jobId });
        const owned = launcher;
        removeLauncher = context.registry.add(() => void owned.dispose());
        contenders.unshift(launcherOneShot(launcher, host));
      }
      const rounds = await runInterleaved(
        contenders,
        {
          rounds: sizes.rounds,
          warmup: (shot) => runSequential(shot, sizes.warmup),
          onStep: (shot, round) => context.progress.advance(1, `slurm: round ${round + 1}/${sizes.rounds}, ${shot.name}`),
        },
        (shot) => runSequential(shot, sizes.perRound),
      );
      const figures = new Map([...rounds].map(([name, samples]) => [name, medianFigures(samples)]));
      const pick = (key: 'latencyP50' | 'latencyP99' | 'throughput'): Partial<Record<ContenderName, number>> =>
        Object.fromEntries([...figures].map(([name, f]) => [name, f[key]]));

      context.progress.label(`slurm: ${sizes.burst} remote procs at once`);
      const burst = launcher === null ? null : await runBurst(launcher, sizes.burst);
      context.progress.advance(1, 'slurm: burst done');
      const only = (key: keyof BurstFigures): Partial<Record<ContenderName, number>> => (burst === null ? {} : { slurm: burst[key] });
      return {
        status: 'ok',
        baseline: 'srun',
        contenders: contenders.map((shot) => shot.name),
        skipped,
        metrics: [
          metric({ name: 'latencyP50', label: 'launch -> exit seen p50', unit: 'ms', better: 'lower' }, pick('latencyP50'), 'srun'),
          metric({ name: 'latencyP99', label: 'launch -> exit seen p99', unit: 'ms', better: 'lower' }, pick('latencyP99'), 'srun'),
          metric({ name: 'throughput', label: 'launch+exit/s (sequential)', unit: '/s', better: 'higher' }, pick('throughput'), 'srun'),
          metric({ name: 'burstThroughput', label: `${sizes.burst} at once: running/s`, unit: '/s', better: 'higher' }, only('procsPerSec'), 'srun'),
          metric({ name: 'heapPerProc', label: 'manager JS heap per remote proc', unit: 'B', better: 'lower' }, only('heapPerProc'), 'srun'),
          metric({ name: 'rssPerProc', label: 'manager RSS per remote proc', unit: 'KB', better: 'lower' }, only('rssKbPerProc'), 'srun'),
          metric({ name: 'terminateAllMs', label: `terminateAll of ${sizes.burst}`, unit: 'ms', better: 'lower' }, only('terminateAllMs'), 'srun'),
        ],
        notes: [
          `allocation ${allocation.jobId} of ${countOf(allocation.hosts.length, 'node')} (${allocation.hosts.join(', ')}), made for the run and released after it; latency steps on ${host}`,
          `${countOf(sizes.rounds, 'interleaved round')} of ${countOf(sizes.perRound, 'sequential launch', 'sequential launches')} of /bin/true per contender; ${combinedOver(sizes.rounds, 'medians')}`,
          SRUN_NOTE,
          `slurm: SlurmProcLauncher.launch (a local \`srun -v\` step supervised by the native launcher) until its exit promise resolves`,
          `burst: ${sizes.burst} ProcManager.spawn calls of \`sleep 3600\` at once, no host given (spread over ${burst === null ? 'no host: not run' : countOf(burst.hostsUsed, 'host')}); running/s = procs / wall time until every spawn resolved (every step running); heap and RSS of this process, after GC, per proc (the local srun processes are not counted: they are separate processes)`,
          `each proc is a local srun process too: ${sizes.burst} at once also cost ${sizes.burst} srun processes on this (login) node`,
        ],
      };
    } finally {
      await launcher?.dispose();
      removeLauncher();
      await allocation.release();
      removeAllocation();
    }
  },
};

/** N procs at once through one manager on `launcher` (the manager does not own it). */
async function runBurst(launcher: ProcLauncher, count: number): Promise<BurstFigures> {
  const manager = new ProcManager({ launcher, forwardOutput: false, terminateTimeoutMs: STOP_TIMEOUT_MS });
  try {
    forceGc();
    const heapBefore = await settledHeapUsed();
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const handles = await Promise.all(Array.from({ length: count }, (_, i) => manager.spawn(`bench-slurm-burst-${i}`, BURST_PROGRAM)));
    const spawnMs = performance.now() - t0;
    const heapAfter = await settledHeapUsed();
    const rssAfter = process.memoryUsage().rss;
    const hostsUsed = new Set(handles.map((handle) => handle.host)).size;
    const t1 = performance.now();
    const stopped = await manager.terminateAll({ timeoutMs: STOP_TIMEOUT_MS });
    const terminateAllMs = performance.now() - t1;
    if (stopped.ok !== count) throw new Error(`terminateAll stopped ${stopped.ok} of ${count} remote procs (${stopped.failed} failed)`);
    return {
      procsPerSec: (count * 1000) / spawnMs,
      heapPerProc: Math.max(0, heapAfter - heapBefore) / count,
      rssKbPerProc: Math.max(0, rssAfter - rssBefore) / 1024 / count,
      terminateAllMs,
      hostsUsed,
    };
  } finally {
    await manager.dispose();
  }
}

/** SlurmProcLauncher, or why there is none in this build. */
async function loadBackend(): Promise<LauncherClass | string> {
  try {
    const mod = (await import(BACKEND_MODULE)) as { SlurmProcLauncher?: LauncherClass };
    if (typeof mod.SlurmProcLauncher !== 'function') return 'dist/slurm/slurm-proc-launcher.js does not export SlurmProcLauncher';
    return mod.SlurmProcLauncher;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') return 'SlurmProcLauncher is not part of this build (no dist/slurm/slurm-proc-launcher.js)';
    return `SlurmProcLauncher failed to load: ${(error as Error).message}`;
  }
}

function launcherOneShot(launcher: ProcLauncher, host: string): OneShot {
  let sequence = 0;
  return {
    name: 'slurm',
    start(program, args) {
      const t0 = performance.now();
      const launched = launcher.launch(`bench-slurm-${process.pid}-${++sequence}`, { command: { program, args }, host } as Parameters<ProcLauncher['launch']>[1]);
      const callMs = performance.now() - t0;
      return { callMs, exited: launched.then((result) => result.exit).then(expectZero) };
    },
    close: async () => {},
  };
}

function expectZero(exit: ProcExitResult): void {
  if (exit.kind === 'exited' && exit.code === 0) return;
  const how = exit.kind === 'exited' ? `code ${exit.code}` : exit.kind === 'signaled' ? exit.signalName : exit.reason;
  throw new Error(`/bin/true ended with ${how}`);
}

// Scenario 8: the systemd backend (transient units over D-Bus), launch -> exit
// observed, against `systemd-run --user --wait`. Written against the ProcLauncher
// interface and loaded lazily: it runs only where the backend is built and a user
// bus with a systemd manager answers, and says why it was skipped otherwise.

import type { ProcExitResult, ProcLauncher } from '../../contract.js';
import { combinedOver, countOf } from '../count-noun.js';
import { commandOneShot, type OneShot } from '../one-shot.js';
import { runInterleaved } from '../interleave.js';
import type { ContenderName } from '../report.js';
import { metric, skippedOutcome, type Scenario } from '../scenario.js';
import { medianFigures, runSequential, TRUE_PROGRAM } from '../sequential.js';

const SIZES = {
  full: { rounds: 5, perRound: 20, warmup: 3 },
  quick: { rounds: 1, perRound: 3, warmup: 1 },
};
const PROBE_TIMEOUT_MS = 15_000;
const BACKEND_MODULE = new URL('../../systemd/systemd-proc-launcher.js', import.meta.url).href;
const SYSTEMD_RUN_ARGS = ['--user', '--wait', '--quiet', '--collect'];

type LauncherClass = new (options?: Record<string, unknown>) => ProcLauncher;

export const systemdScenario: Scenario = {
  name: 'systemd',
  number: 8,
  title: 'systemd backend launch -> exit observed vs systemd-run --user --wait',
  units: (quick) => 2 * (quick ? SIZES.quick : SIZES.full).rounds,
  async run(context) {
    const sizes = context.quick ? SIZES.quick : SIZES.full;
    if ((process.env['DBUS_SESSION_BUS_ADDRESS'] ?? '') === '') {
      return skippedOutcome('systemd-run', 'no user bus: DBUS_SESSION_BUS_ADDRESS is not set (needs a running `systemd --user`)');
    }
    const contenders: OneShot[] = [];
    const skipped: Partial<Record<ContenderName, string>> = {};
    const loaded = await loadBackend();
    let launcher: ProcLauncher | null = null;
    let remove = (): void => {};
    if (typeof loaded === 'string') skipped['systemd'] = loaded;
    else {
      launcher = loaded;
      remove = context.registry.add(() => void loaded.dispose());
    }
    try {
      if (launcher !== null) {
        const backend = launcherOneShot(launcher);
        const probe = await probeOnce(backend);
        if (probe === null) contenders.push(backend);
        else skipped['systemd'] = `the systemd backend did not run /bin/true: ${probe}`;
      }
      const runProbe = await probeOnce(systemdRunOneShot);
      if (runProbe === null) contenders.push(systemdRunOneShot);
      else skipped['systemd-run'] = `systemd-run --user --wait /bin/true failed: ${runProbe}`;
      if (contenders.length === 0) {
        return skippedOutcome('systemd-run', Object.entries(skipped).map(([name, why]) => `${name}: ${why}`).join('; '));
      }

      const rounds = await runInterleaved(
        contenders,
        {
          rounds: sizes.rounds,
          warmup: (shot) => runSequential(shot, sizes.warmup),
          onStep: (shot, round) => context.progress.advance(1, `systemd: round ${round + 1}/${sizes.rounds}, ${shot.name}`),
        },
        (shot) => runSequential(shot, sizes.perRound),
      );
      const figures = new Map([...rounds].map(([name, samples]) => [name, medianFigures(samples)]));
      const pick = (key: 'latencyP50' | 'latencyP99' | 'throughput'): Partial<Record<ContenderName, number>> =>
        Object.fromEntries([...figures].map(([name, f]) => [name, f[key]]));
      return {
        status: 'ok',
        baseline: 'systemd-run',
        contenders: contenders.map((shot) => shot.name),
        skipped,
        metrics: [
          metric({ name: 'latencyP50', label: 'launch -> exit seen p50', unit: 'ms', better: 'lower' }, pick('latencyP50'), 'systemd-run'),
          metric({ name: 'latencyP99', label: 'launch -> exit seen p99', unit: 'ms', better: 'lower' }, pick('latencyP99'), 'systemd-run'),
          metric({ name: 'throughput', label: 'launch+exit/s', unit: '/s', better: 'higher' }, pick('throughput'), 'systemd-run'),
        ],
        notes: [
          `${countOf(sizes.rounds, 'interleaved round')} of ${countOf(sizes.perRound, 'sequential launch', 'sequential launches')} of /bin/true per contender; ${combinedOver(sizes.rounds, 'medians')}`,
          `systemd-run: \`systemd-run ${SYSTEMD_RUN_ARGS.join(' ')} /bin/true\` through child_process, until it exits`,
        ],
      };
    } finally {
      await launcher?.dispose();
      remove();
    }
  },
};

/** A SystemdProcLauncher (its default: the user bus), or why there is none. */
async function loadBackend(): Promise<ProcLauncher | string> {
  let Backend: LauncherClass | undefined;
  try {
    const mod = (await import(BACKEND_MODULE)) as { SystemdProcLauncher?: LauncherClass };
    Backend = mod.SystemdProcLauncher;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') return 'SystemdProcLauncher is not part of this build (no dist/systemd/systemd-proc-launcher.js)';
    return `SystemdProcLauncher failed to load: ${(error as Error).message}`;
  }
  if (typeof Backend !== 'function') return 'dist/systemd/systemd-proc-launcher.js does not export SystemdProcLauncher';
  try {
    return new Backend();
  } catch (error) {
    return `new SystemdProcLauncher() failed: ${(error as Error).message}`;
  }
}

function launcherOneShot(launcher: ProcLauncher): OneShot {
  let sequence = 0;
  return {
    name: 'systemd',
    start(program, args) {
      const t0 = performance.now();
      const launched = launcher.launch(`bench-systemd-${process.pid}-${++sequence}`, { command: { program, args } });
      const callMs = performance.now() - t0;
      return { callMs, exited: launched.then((result) => result.exit).then(expectZero) };
    },
    close: () => launcher.dispose(),
  };
}

const systemdRunOneShot: OneShot = commandOneShot('systemd-run', 'systemd-run', (program, args) => [...SYSTEMD_RUN_ARGS, program, ...args]);

/** null when one launch of /bin/true exits 0 in time, else why not. */
async function probeOnce(shot: OneShot): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no exit observed within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
  });
  try {
    const attempt = (async () => {
      await shot.start(TRUE_PROGRAM, []).exited;
      return null;
    })().catch((error: unknown) => (error as Error).message);
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function expectZero(exit: ProcExitResult): void {
  if (exit.kind === 'exited' && exit.code === 0) return;
  const how = exit.kind === 'exited' ? `code ${exit.code}` : exit.kind === 'signaled' ? exit.signalName : exit.reason;
  throw new Error(`/bin/true ended with ${how}`);
}

// The launcher `proclaunch run` drives, set up before the first copy starts, so that a
// missing user bus, an unusable --cgroup or an unreachable Slurm is one clear error
// instead of COUNT failed procs.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';

import { ProcLauncherError, type ProcLauncher } from '../contract.js';
import { createLauncher } from '../manager/launcher-choice.js';
import { NativeProcLauncher } from '../native/native-proc-launcher.js';
import type { RunArgs } from './run-args.js';
import { UsageError } from './usage-error.js';

/** The launcher cannot be set up here; the message says what is missing and what to do. */
export class LauncherSetupError extends Error {
  override readonly name = 'LauncherSetupError';
}

export async function openRunLauncher(
  args: Pick<RunArgs, 'launcher' | 'cgroup'> & Partial<Pick<RunArgs, 'nodes' | 'allocation'>>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProcLauncher> {
  if (args.launcher === 'systemd') return openSystemd(env);
  if (args.launcher === 'slurm') return openSlurm(args.nodes ?? null, args.allocation ?? null);
  return openNative(args.cgroup);
}

function openNative(cgroup: string | null): ProcLauncher {
  if (cgroup === null) return new NativeProcLauncher();
  try {
    return new NativeProcLauncher({ cgroup });
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`--cgroup: ${error.message}`);
    if (error instanceof ProcLauncherError) {
      const what = error.message.includes(cgroup) ? error.message : `--cgroup ${cgroup}: ${error.message}`;
      throw new LauncherSetupError(`${what}\n(--cgroup DIR must be on a cgroup v2 mount, where this user may create cgroups)`);
    }
    throw error;
  }
}

async function openSystemd(env: NodeJS.ProcessEnv): Promise<ProcLauncher> {
  let launcher: ProcLauncher;
  try {
    launcher = await createLauncher('systemd', {});
  } catch (error) {
    throw new LauncherSetupError(`--launcher systemd: ${(error as Error).message}\nUse --launcher native.`);
  }
  const connectable = launcher as ProcLauncher & { connect?: () => Promise<void> };
  try {
    // Connect now: without it the first launch would find out, once per copy.
    await connectable.connect?.();
  } catch (error) {
    await launcher.dispose().catch(() => {});
    throw new LauncherSetupError(missingBusMessage(error, env));
  }
  return launcher;
}

/** The hosts a multi-host launcher runs on (SlurmProcLauncher.hosts()). */
interface HostedLauncher extends ProcLauncher {
  hosts(): Promise<string[]>;
}

async function openSlurm(nodes: number | null, allocation: string | null): Promise<ProcLauncher> {
  const options: Record<string, unknown> = {};
  if (nodes !== null) options['nodes'] = nodes;
  if (allocation !== null) options['allocation'] = allocation;
  let launcher: HostedLauncher;
  try {
    launcher = (await createLauncher('slurm', options)) as HostedLauncher;
  } catch (error) {
    throw new LauncherSetupError(`--launcher slurm: ${(error as Error).message}`);
  }
  try {
    // Allocate (or check the allocation) now: a missing srun, an unknown job or an
    // unreachable controller is then one message, not COUNT failed copies.
    await launcher.hosts();
  } catch (error) {
    await launcher.dispose().catch(() => {});
    const what = allocation !== null ? `allocation ${allocation}` : `an allocation of ${nodes ?? 1} node${(nodes ?? 1) === 1 ? '' : 's'}`;
    throw new LauncherSetupError(
      `--launcher slurm: cannot get ${what}: ${(error as Error).message}\n(run it where the Slurm client commands work: salloc, srun, squeue and scancel on PATH, the controller reachable)`,
    );
  }
  return launcher;
}

/** What is missing for --launcher systemd, and the ways to get it. */
export function missingBusMessage(error: unknown, env: NodeJS.ProcessEnv): string {
  const address = env['DBUS_SESSION_BUS_ADDRESS'] || undefined;
  const runtimeDir = env['XDG_RUNTIME_DIR'] || undefined;
  const socket = `${runtimeDir ?? `/run/user/${process.getuid?.() ?? 0}`}/bus`;
  const code = (error as { code?: unknown }).code;
  let missing: string;
  if (code === 'ESRCH') missing = `the bus answers, but no systemd user manager (org.freedesktop.systemd1) is on it`;
  else if (address !== undefined) missing = `nothing usable answers at DBUS_SESSION_BUS_ADDRESS=${address}`;
  else if (!existsSync(socket)) {
    missing = `DBUS_SESSION_BUS_ADDRESS is not set and ${runtimeDir === undefined ? `XDG_RUNTIME_DIR is not set either; ${socket}` : `$XDG_RUNTIME_DIR/bus (${socket})`} does not exist`;
  } else missing = `DBUS_SESSION_BUS_ADDRESS is not set and nothing usable answers on ${socket}`;
  return [
    `--launcher systemd needs a systemd user manager on the user bus: ${missing}`,
    `(${(error as Error).message})`,
    `To get one: run from a login session that starts 'systemd --user' (check with 'systemctl --user status'),`,
    `or keep one running for this user with 'loginctl enable-linger ${env['USER'] || userName()}' (then XDG_RUNTIME_DIR=/run/user/${process.getuid?.() ?? 0});`,
    `or use --launcher native.`,
  ].join('\n');
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'USER';
  }
}

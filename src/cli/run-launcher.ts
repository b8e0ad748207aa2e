// The launcher `proclaunch run` drives, set up before the first copy starts, so that a
// missing user bus or an unusable --cgroup is one clear error instead of COUNT failed
// procs.
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

export async function openRunLauncher(args: Pick<RunArgs, 'launcher' | 'cgroup'>, env: NodeJS.ProcessEnv = process.env): Promise<ProcLauncher> {
  return args.launcher === 'systemd' ? openSystemd(env) : openNative(args.cgroup);
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

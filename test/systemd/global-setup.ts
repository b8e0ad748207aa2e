// Vitest global setup: makes a real systemd manager available to test/systemd/ when those
// tests are selected. An existing user bus with systemd on it is used as it is; otherwise
// user-manager.sh brings up a private `systemd --user` (root only) and takes it down after.
// Under CI=true the systemd tests must run: if no manager can be had, the run fails here.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

import { SystemdProcLauncher } from '../../src/index.js';
import { leftoverUnits } from './bus-tools.js';
import { TEST_UNIT_PREFIX, type SystemdTestContext } from './systemd-context.js';

const here = dirname(fileURLToPath(import.meta.url));
const SCRIPT = join(here, 'user-manager.sh');
const READY_TIMEOUT_MS = 75_000; // user-manager.sh waits up to 30 s for the manager, then 30 s for its bus name
const STOP_TIMEOUT_MS = 20_000;
const TOOLS = ['/lib/systemd/systemd', '/usr/bin/dbus-daemon', 'unshare', 'script', 'setsid', 'systemctl', 'busctl', 'mount'];

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const unavailable = (reason: string): undefined => {
    if (process.env['CI'] === 'true') {
      throw new Error(`CI=true requires the systemd tests to run, but no systemd manager is available: ${reason}`);
    }
    console.warn(`\n[systemd tests skipped] ${reason}\n`);
    project.provide('systemd', { available: false, reason, address: null, runtimeDir: null, source: 'none' });
    return undefined;
  };

  if (!(await systemdTestsSelected(project))) {
    project.provide('systemd', { available: false, reason: 'no systemd test selected', address: null, runtimeDir: null, source: 'none' });
    return undefined;
  }

  const existing = await existingUserManager();
  if (existing !== null) {
    project.provide('systemd', existing);
    return async () => {
      const leftovers = await leftoverUnits(existing.address!, `${TEST_UNIT_PREFIX}*`);
      if (leftovers.length > 0) throw new Error(`systemd tests left units loaded: ${leftovers.join(', ')}`);
    };
  }

  const missing = whyWeCannotStartOne();
  if (missing !== null) return unavailable(missing);

  const runtimeDir = mkdtempSync('/run/proclaunch-test-');
  const address = `unix:path=${runtimeDir}/bus`;
  const manager = spawn('bash', [SCRIPT, 'start', runtimeDir], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => manager.once('exit', (code) => resolve(code)));
  // If vitest dies without running the teardown, still take the manager down.
  const emergencyStop = (): void => void stopSync(runtimeDir);
  process.once('exit', emergencyStop);

  const ready = await waitReady(runtimeDir, exited);
  if (ready !== null) {
    await stop(runtimeDir, manager, exited);
    process.off('exit', emergencyStop);
    return unavailable(`a private systemd --user did not come up: ${ready}`);
  }
  process.env['XDG_RUNTIME_DIR'] = runtimeDir;
  process.env['DBUS_SESSION_BUS_ADDRESS'] = address;
  project.provide('systemd', { available: true, reason: '', address, runtimeDir, source: 'started' });

  return async () => {
    let leftovers: string[] = [];
    try {
      leftovers = await leftoverUnits(address, `${TEST_UNIT_PREFIX}*`);
    } finally {
      await stop(runtimeDir, manager, exited);
      process.off('exit', emergencyStop);
    }
    if (existsSync(runtimeDir)) throw new Error(`the systemd test runtime directory ${runtimeDir} was not removed`);
    if (leftovers.length > 0) throw new Error(`systemd tests left units loaded: ${leftovers.join(', ')}`);
  };
}

/** True when the run includes a file under test/systemd/ (vitest keeps the CLI filters in filenamePattern). */
async function systemdTestsSelected(project: TestProject): Promise<boolean> {
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern ?? [];
  const { testFiles } = await project.globTestFiles(filters);
  return testFiles.some((file) => file.includes(`${sep}test${sep}systemd${sep}`));
}

/** A user bus that already has systemd on it (a desktop session, a CI image with systemd). */
async function existingUserManager(): Promise<SystemdTestContext | null> {
  const runtimeDir = process.env['XDG_RUNTIME_DIR'];
  const hasBus = process.env['DBUS_SESSION_BUS_ADDRESS'] !== undefined || (runtimeDir !== undefined && existsSync(join(runtimeDir, 'bus')));
  if (!hasBus) return null;
  const launcher = new SystemdProcLauncher({ connectTimeoutMs: 3_000 });
  try {
    await launcher.connect();
    return { available: true, reason: '', address: launcher.address, runtimeDir: runtimeDir ?? null, source: 'existing' };
  } catch {
    return null;
  } finally {
    await launcher.dispose();
  }
}

function whyWeCannotStartOne(): string | null {
  if (process.platform !== 'linux') return `this is ${process.platform}, not Linux`;
  if (process.getuid?.() !== 0) return 'no user bus with systemd here, and starting a private systemd --user needs root (mount namespace, cgroup)';
  for (const tool of TOOLS) {
    if (!onPath(tool)) return `${tool} is not installed (Debian: systemd dbus dbus-user-session util-linux bsdutils)`;
  }
  const cgroup2 = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].some((dir) => existsSync(join(dir, 'cgroup.procs')) && existsSync(join(dir, 'cgroup.subtree_control')));
  if (!cgroup2) return 'no cgroup2 hierarchy is mounted (at /sys/fs/cgroup or /sys/fs/cgroup/unified)';
  return null;
}

function onPath(tool: string): boolean {
  const candidates = tool.includes('/') ? [tool] : (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').map((dir) => join(dir, tool));
  return candidates.some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}

/** null when ready, else what went wrong (with the manager's log when there is one). */
async function waitReady(runtimeDir: string, exited: Promise<number | null>): Promise<string | null> {
  const ready = new Promise<string | null>((resolve) => {
    execFile('bash', [SCRIPT, 'ready', runtimeDir], { timeout: READY_TIMEOUT_MS }, (err, _stdout, stderr) => {
      resolve(err === null ? null : `${stderr.trim() || err.message}`);
    });
  });
  const died = exited.then((code) => `the manager's launcher exited with code ${code} before it was ready`);
  return Promise.race([ready, died]);
}

async function stop(runtimeDir: string, manager: ChildProcess, exited: Promise<number | null>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile('bash', [SCRIPT, 'down', runtimeDir], { timeout: STOP_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (err === null) resolve();
      else reject(new Error(`user-manager.sh down failed: ${stderr.trim() || err.message}`));
    });
  });
  // The script killed the cgroup; reap our child (bounded) so nothing is left as a zombie.
  const timer = setTimeout(() => manager.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function stopSync(runtimeDir: string): void {
  try {
    execFileSync('bash', [SCRIPT, 'down', runtimeDir], { stdio: 'ignore', timeout: STOP_TIMEOUT_MS });
  } catch {
    // best effort at exit
  }
}

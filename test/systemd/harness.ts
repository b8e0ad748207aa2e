// Shared by the systemd test files: the manager the global setup found or started, a
// launcher per file with its own unit prefix, and the end-of-file check that nothing of
// that file is left loaded.
import { execFile } from 'node:child_process';

import { afterAll, expect, inject } from 'vitest';

import { SystemdProcLauncher, type SystemdProcLauncherOptions } from '../../src/index.js';
import { leftoverUnits } from './bus-tools.js';
import { TEST_UNIT_PREFIX } from './systemd-context.js';

export const systemd = inject('systemd');

/** Title suffix that makes a skip say why. */
export const skipNote = systemd.available ? '' : ` (skipped: ${systemd.reason})`;

/** The address the tests talk to the manager on. */
export function busAddress(): string {
  if (systemd.address === null) throw new Error('no systemd manager for this test run');
  return systemd.address;
}

/**
 * A launcher whose units are named `proclaunch-test-<group>-…`, disposed after the file;
 * afterAll also checks that no unit of the group is still loaded.
 */
export function launcherFor(group: string, options: SystemdProcLauncherOptions = {}): SystemdProcLauncher {
  const prefix = `${TEST_UNIT_PREFIX}${group}-`;
  const launcher = new SystemdProcLauncher({ unitPrefix: prefix, ...options });
  afterAll(async () => {
    await launcher.dispose();
    await expectNoUnitsLeft(`${prefix}*`);
  });
  return launcher;
}

export async function expectNoUnitsLeft(pattern: string): Promise<void> {
  let left: string[] = [];
  // Every exit was read, so the units should be unloaded; allow a moment, bounded.
  const deadline = Date.now() + 5_000;
  do {
    left = await leftoverUnits(busAddress(), pattern);
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  } while (Date.now() < deadline);
  expect(left).toEqual([]);
}

/**
 * `systemctl --user daemon-reload` against the test manager: systemd drops every unit and
 * loads them again from their files (transient units from $XDG_RUNTIME_DIR/systemd/transient).
 * Resolves once the reload is done (systemctl waits for the manager's reply).
 */
export async function daemonReload(): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, DBUS_SESSION_BUS_ADDRESS: busAddress() };
  if (systemd.runtimeDir !== null) env['XDG_RUNTIME_DIR'] = systemd.runtimeDir;
  await new Promise<void>((resolve, reject) => {
    execFile('systemctl', ['--user', 'daemon-reload'], { env, timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err === null) resolve();
      else reject(new Error(`systemctl --user daemon-reload failed: ${stderr.trim() || err.message}`));
    });
  });
}

/** Every unit's exit carries the tree's CPU (CPUUsageNSec): its value is the tree-usage tests' business. */
export const TREE_USAGE = { cpuMs: expect.any(Number) as unknown as number };

import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { SystemdProcLauncher } from '../../src/index.js';
import { fixture } from '../helpers/fixtures.js';
import { isRunning, waitFor } from '../helpers/proc-table.js';
import { killUnit } from './bus-tools.js';
import { busAddress, expectNoUnitsLeft, skipNote, systemd, TREE_USAGE } from './harness.js';

describe('SystemdProcLauncher without a bus', () => {
  it('rejects at connect and at launch with a ProcLauncherError naming the address tried', async () => {
    const address = 'unix:path=/nonexistent/proclaunch-test/bus';
    const launcher = new SystemdProcLauncher({ bus: { address } });
    expect(launcher.address).toBe(address);
    await expect(launcher.connect()).rejects.toMatchObject({ name: 'ProcLauncherError', code: 'ENOENT', path: '/nonexistent/proclaunch-test/bus' });
    const error = await launcher.launch('x', { command: { program: '/bin/true' } }).catch((err: unknown) => err);
    expect(error).toMatchObject({ name: 'ProcLauncherError', kind: 'launch', code: 'ENOENT', stage: 'connect' });
    expect((error as Error).message).toContain(address);
    await launcher.dispose();
  });

  it('resolves the user and system bus addresses from the environment', () => {
    const saved = { ...process.env };
    try {
      process.env['DBUS_SESSION_BUS_ADDRESS'] = 'unix:path=/run/a/bus';
      process.env['DBUS_SYSTEM_BUS_ADDRESS'] = 'unix:path=/run/b/bus';
      expect(new SystemdProcLauncher().address).toBe('unix:path=/run/a/bus');
      expect(new SystemdProcLauncher({ bus: 'system' }).address).toBe('unix:path=/run/b/bus');
      delete process.env['DBUS_SESSION_BUS_ADDRESS'];
      delete process.env['DBUS_SYSTEM_BUS_ADDRESS'];
      process.env['XDG_RUNTIME_DIR'] = '/run/c';
      expect(new SystemdProcLauncher().address).toBe('unix:path=/run/c/bus');
      expect(new SystemdProcLauncher({ bus: 'system' }).address).toBe('unix:path=/run/dbus/system_bus_socket');
    } finally {
      process.env = saved;
    }
  });
});

/** A unix-socket relay in front of the real bus, so a test can cut the launcher's connection. */
function startRelay(target: string, path: string): Promise<{ cut: () => void; close: () => Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = createConnection(target);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  return new Promise((resolve) => {
    server.listen(path, () =>
      resolve({
        cut: () => {
          for (const [client, upstream] of pairs) {
            client.destroy();
            upstream.destroy();
          }
        },
        close: () => new Promise((done) => server.close(() => done())),
      }),
    );
  });
}

describe.skipIf(!systemd.available)(`SystemdProcLauncher when the bus drops${skipNote}`, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-sd-relay-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('resolves the exit once as failed with the reason, and redials for the next launch', async () => {
    const relayPath = join(scratch, 'bus');
    const relay = await startRelay(busAddress().replace(/^unix:path=/, '').split(',')[0]!, relayPath);
    const launcher = new SystemdProcLauncher({ bus: { address: `unix:path=${relayPath}` }, unitPrefix: 'proclaunch-test-bus-' });
    try {
      const result = await launcher.launch('cut', { command: { program: fixture('forever') } });
      relay.cut();
      const exit = await result.exit;
      expect(exit.kind).toBe('failed');
      expect(exit.kind === 'failed' && exit.reason).toMatch(/connection to the D-Bus address at unix:path=.*bus was closed/);
      expect(launcher.size).toBe(0);
      // The unit itself lives on under systemd (its pin went with our connection): clean it up.
      expect(isRunning(result.pid!)).toBe(true);
      await killUnit(busAddress(), launcher.unitNameOf('cut'));
      await waitFor(() => !isRunning(result.pid!), `pid ${result.pid} to be gone`);

      const next = await launcher.launch('after', { command: { program: fixture('exit-n'), args: ['3'] } });
      expect(await next.exit).toEqual({ kind: 'exited', code: 3, treeUsage: TREE_USAGE });
    } finally {
      await launcher.dispose();
      await relay.close();
    }
    await expectNoUnitsLeft('proclaunch-test-bus-*');
  });
});

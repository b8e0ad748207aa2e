import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

import { NativeProcLauncher } from '../../src/index.js';
import { fixture } from '../helpers/fixtures.js';
import { envOf, LineCollector, quietManager, expectNoLeftovers } from '../helpers/manager.js';
import { isRunning, openFds, waitFor, zombieChildren } from '../helpers/proc-table.js';

describe('ProcManager.dispose', () => {
  it('leaves no proc, zombie, socket file or fd, and refuses spawns after', async () => {
    // Warm up: the addon, its loop handles and the log machinery are loaded once per process.
    const warm = quietManager();
    await (await warm.spawn('warm', { program: '/bin/sh', args: ['-c', 'systemd-notify --ready'] })).wait();
    await warm.dispose();

    const dir = mkdtempSync(join(tmpdir(), 'proclaunch-sock-'));
    const fdsBefore = openFds().length;
    const zombiesBefore = zombieChildren().length;
    const output = new LineCollector();
    const m = quietManager({ notifySocketDir: dir, logSink: output.sink, logFile: join(dir, 'all.log'), terminateTimeoutMs: 300 });
    const pids: number[] = [];
    for (let i = 0; i < 4; i++) {
      const h = await m.spawn(`p${i}`, { program: '/bin/sh', args: ['-c', 'systemd-notify --ready; exec sleep 1000'] });
      await h.ready();
      pids.push(h.pid!);
    }
    const stubborn = await m.spawn('stubborn', { program: fixture('ignore-term') });
    await output.waitFor('stubborn', 'ready');
    pids.push(stubborn.pid!);
    const ended = await m.spawn('ended', { program: fixture('exit-n'), args: ['0'] });
    await ended.wait();

    // Filesystem sockets: one per live proc, named in NOTIFY_SOCKET.
    expect(envOf(pids[0]!, 'NOTIFY_SOCKET')).toMatch(new RegExp(`^${dir}/proclaunch-[0-9a-f]{32}\\.sock$`));
    expect(readdirSync(dir).filter((name) => name.endsWith('.sock'))).toHaveLength(5);

    await m.dispose();
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
    expect(m.list().map((entry) => entry.status.state)).toEqual(['killed', 'killed', 'killed', 'killed', 'killed', 'stopped']);
    expect(readdirSync(dir)).toEqual(['all.log']);
    await waitFor(() => openFds().length <= fdsBefore, `fd count back to ${fdsBefore} (now ${openFds().length})`);
    expect(openFds().length).toBe(fdsBefore);
    expect(zombieChildren().length).toBe(zombiesBefore);
    await expect(m.spawn('after', { program: fixture('forever') })).rejects.toMatchObject({ kind: 'launch', code: 'ERR_DISPOSED' });
    rmSync(dir, { recursive: true });
  });

  it('a manager never disposed still removes its socket files when the process exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proclaunch-sock-'));
    const index = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js');
    const script = `
      import { ProcManager } from ${JSON.stringify(index)};
      import { readdirSync } from 'node:fs';
      const m = new ProcManager({ notifySocketDir: ${JSON.stringify(dir)}, forwardOutput: false, launcherOptions: { keepAlive: false } });
      await m.spawn('left-running', { program: '/bin/sleep', args: ['1000'] });
      console.log(readdirSync(${JSON.stringify(dir)}).length);
      process.exit(0);`;
    // The kill is a safety net so a broken run cannot leave the child behind (its procs die with it: PDEATHSIG).
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, killSignal: 'SIGKILL' });
    expect(stdout).toBe('1\n');
    expect(readdirSync(dir)).toEqual([]);
    rmSync(dir, { recursive: true });
  });

  it('ended procs release their socket at once (abstract namespace: no file at all)', async () => {
    // The native launcher's spawn server (a socket and a pidfd) lives while a launcher
    // that used it does: one kept alive across the count, so only the proc's fds differ.
    const keep = new NativeProcLauncher();
    await (await keep.launch('keep-server', { command: { program: '/bin/true' } })).exit;
    const m = quietManager();
    const fdsBefore = openFds().length;
    const h = await m.spawn('short', { program: fixture('exit-n'), args: ['1'] });
    await h.wait();
    await waitFor(() => openFds().length <= fdsBefore, `fd count back to ${fdsBefore} (now ${openFds().length})`);
    expect(openFds().length).toBe(fdsBefore);
    await m.dispose();
    await keep.dispose();
  });
});

afterAll(() => expectNoLeftovers());

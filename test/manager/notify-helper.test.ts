import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { formatNotifyMessage, notify, notifySync } from '../../src/manager/notify.js';
import { parseNotifyMessage } from '../../src/manager/notify-message.js';
import { fixture } from '../helpers/fixtures.js';
import { quietManager, expectNoLeftovers } from '../helpers/manager.js';

function realPython(): string | null {
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

const manager = quietManager();
afterAll(async () => {
  await manager.dispose();
  await expectNoLeftovers();
});

describe('proclaunch/notify', () => {
  it('formats fields as an sd_notify message and refuses what would corrupt it', () => {
    expect(formatNotifyMessage({ READY: 1, STATUS: 'up 3/3', PROCLAUNCH_ADDR: 'tcp://h:1', FLAG: true })).toBe(
      'READY=1\nSTATUS=up 3/3\nPROCLAUNCH_ADDR=tcp://h:1\nFLAG=1',
    );
    expect(() => formatNotifyMessage({ STATUS: 'two\nlines' })).toThrow(/must not contain a newline/);
    expect(() => formatNotifyMessage({ 'BAD KEY': 1 })).toThrow(RangeError);
    expect(() => formatNotifyMessage({})).toThrow(RangeError);
  });

  it('is a no-op returning false when there is no NOTIFY_SOCKET (not run under a manager)', async () => {
    expect(await notify({ READY: 1 }, { socket: '' })).toBe(false);
    expect(notifySync({ READY: 1 }, { socket: '' })).toBe(false);
  });

  it('rejects when nobody listens at the socket', async () => {
    await expect(notify({ READY: 1 }, { socket: `@proclaunch-nobody-${process.pid}`, timeoutMs: 500 })).rejects.toThrow(/could not notify/);
  });

  it.skipIf(realPython() === null)('works through python3 where systemd-notify is missing', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'proclaunch-bin-'));
    try {
      symlinkSync(realPython()!, join(bin, 'python3'));
      const h = await manager.spawn('via-python', {
        program: process.execPath,
        args: [fixture('node-notify.mjs'), 'exit'],
        env: { PATH: bin, PROCLAUNCH_TEST_PORT_OFFSET: '7' },
      });
      expect(await h.ready()).toMatchObject({ state: 'ready', statusText: 'serving', addr: 'tcp://127.0.0.1:9007' });
      expect(await h.wait()).toMatchObject({ state: 'stopped', exitCode: 0 });
    } finally {
      rmSync(bin, { recursive: true });
    }
  });
});

describe('sd_notify message parsing', () => {
  it('reads READY, STOPPING, STATUS and the address (PROCLAUNCH_ADDR preferred over ADDR)', () => {
    expect(parseNotifyMessage('READY=1\nSTATUS=ok\nADDR=a\nPROCLAUNCH_ADDR=b')).toEqual({ ready: true, stopping: false, statusText: 'ok', addr: 'b' });
    expect(parseNotifyMessage('ADDR=a')).toEqual({ ready: false, stopping: false, addr: 'a' });
    expect(parseNotifyMessage('READY=0\nSTOPPING=1\nBARRIER=1\ngarbage\n=x')).toEqual({ ready: false, stopping: true });
    expect(parseNotifyMessage('STATUS=a=b\nSTATUS=later')).toEqual({ ready: false, stopping: false, statusText: 'later' });
  });
});

// What a datagram may hold (systemd's rules: embedded NUL, UTF-8, size, empty STATUS=;
// ours for addresses), and what the sender learns when its message cannot count.
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';

import { openNotifyChannel } from '../../src/manager/notify-channel.js';
import { parseNotifyMessage } from '../../src/manager/notify-message.js';
import { MAX_NOTIFY_MESSAGE_BYTES, notify, notifySync } from '../../src/manager/notify.js';
import { expectNoLeftovers, LineCollector, quietManager } from '../helpers/manager.js';

const output = new LineCollector();
const manager = quietManager({ logSink: output.sink });
afterAll(async () => {
  await manager.dispose();
  await expectNoLeftovers();
});

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const sender = new URL('../fixtures/notify-stranger.py', import.meta.url).pathname;
const hex = (bytes: Buffer | string): string => Buffer.from(bytes as string, typeof bytes === 'string' ? 'latin1' : undefined).toString('hex');

describe('parsing a datagram as systemd does', () => {
  it('ignores a datagram with a NUL byte anywhere but at its end', () => {
    expect(parseNotifyMessage(Buffer.from('READY=1\0STATUS=x'))).toEqual({ ready: false, stopping: false });
    expect(parseNotifyMessage(Buffer.from('\0READY=1'))).toEqual({ ready: false, stopping: false });
    expect(parseNotifyMessage(Buffer.from('READY=1\nSTATUS=x\0'))).toEqual({ ready: true, stopping: false, statusText: 'x' });
  });

  it('ignores a field that is not UTF-8 and keeps the others', () => {
    const message = parseNotifyMessage(Buffer.concat([Buffer.from('READY=1\nSTATUS='), Buffer.from([0xff, 0xfe]), Buffer.from('\nADDR=tcp://h:1')]));
    expect(message).toEqual({ ready: true, stopping: false, addr: 'tcp://h:1' });
  });

  it('clears the status on an empty STATUS=, keeps control characters in a status, and refuses them in an address', () => {
    expect(parseNotifyMessage('STATUS=')).toEqual({ ready: false, stopping: false, statusText: null });
    expect(parseNotifyMessage('STATUS=a\tb\u001b[1m')).toMatchObject({ statusText: 'a\tb\u001b[1m' });
    expect(parseNotifyMessage('PROCLAUNCH_ADDR=tcp://h:1\u001b[2J\nADDR=tcp://h:2')).toMatchObject({ addr: 'tcp://h:2' });
    expect(parseNotifyMessage('ADDR=tcp://h:1\r')).not.toHaveProperty('addr');
    expect(parseNotifyMessage('ADDR=tcp://h:1\u0085')).not.toHaveProperty('addr');
    expect(parseNotifyMessage('ADDR=tcp://[::1]:1')).toMatchObject({ addr: 'tcp://[::1]:1' });
  });
});

describe("a proc's own malformed datagrams", () => {
  it('drops oversize and NUL-holding datagrams, ignores a non-UTF-8 status and a control-character address, honours STATUS=', async () => {
    const step = (bytes: string): string => `${python} ${sender} send "$NOTIFY_SOCKET" ${hex(bytes)} barrier >/dev/null`;
    const script = [
      step(`READY=1\nSTATUS=${'x'.repeat(MAX_NOTIFY_MESSAGE_BYTES)}`), // truncated by the kernel: dropped
      step('READY=1\0STATUS=nul'), // embedded NUL: dropped whole
      step('STATUS=first'),
      step('READY=1\nSTATUS=\xff\xfe\nPROCLAUNCH_ADDR=tcp://a:1\x1b[2J'),
      'echo step-ready',
      step('STATUS=tab\there'),
      'echo step-tab',
      step('STATUS='),
      'echo step-cleared',
      'exec sleep 1000',
    ].join('; ');
    const h = await manager.spawn('malformed', { program: '/bin/sh', args: ['-c', script] });
    const ready = await h.ready();
    expect(ready).toEqual({ state: 'ready', pid: h.pid, startedAt: ready.startedAt, statusText: 'first' });
    await output.waitFor('malformed', 'step-tab');
    expect(h.status()).toMatchObject({ state: 'ready', statusText: 'tab\there' });
    await output.waitFor('malformed', 'step-cleared');
    expect(h.status()).toEqual({ state: 'ready', pid: h.pid, startedAt: ready.startedAt });
    await h.kill();
  });
});

describe('what the sender learns', () => {
  it(`refuses a message over ${MAX_NOTIFY_MESSAGE_BYTES} bytes instead of reporting it delivered; takes one of exactly that size`, async () => {
    const received: Buffer[] = [];
    // BARRIER=1 datagrams (every notify() ends with one) are not counted.
    const channel = openNotifyChannel(`@proclaunch-test-size-${process.pid}`, (_pid, _uid, message) => {
      if (message.toString() !== 'BARRIER=1') received.push(message);
    });
    // We are the "proc": our own datagrams pass the sender check.
    channel.arm(process.pid);
    try {
      const fits = `STATUS=${'s'.repeat(MAX_NOTIFY_MESSAGE_BYTES - 7)}`;
      expect(await notify(fits, { socket: channel.address })).toBe(true);
      expect(received.map((m) => m.length)).toEqual([MAX_NOTIFY_MESSAGE_BYTES]);
      const over = { STATUS: 's'.repeat(MAX_NOTIFY_MESSAGE_BYTES - 6) };
      await expect(notify(over, { socket: channel.address })).rejects.toThrow(
        expect.objectContaining({ name: 'RangeError', code: 'EMSGSIZE', message: expect.stringMatching(/4097 bytes, over the 4096-byte limit/) }),
      );
      expect(() => notifySync(over, { socket: channel.address })).toThrow(RangeError);
      // A multi-byte character counts as its UTF-8 bytes.
      expect(() => notifySync(`STATUS=${'é'.repeat(2045)}`, { socket: channel.address })).toThrow(/4097 bytes/);
      await expect(notify('READY=1\0STATUS=x', { socket: channel.address })).rejects.toThrow(/NUL/);
      expect(() => notifySync({ STATUS: 'a\0b' }, { socket: channel.address })).toThrow(/NUL/);
      expect(received).toHaveLength(1);
    } finally {
      channel.close();
    }
  });

  it('validates timeoutMs, naming it, before anything is sent (even with no socket to notify)', async () => {
    for (const timeoutMs of [Infinity, -Infinity, NaN, 0, -1, 1.5, 2 ** 31]) {
      await expect(notify({ READY: 1 }, { socket: '@nowhere', timeoutMs })).rejects.toThrow(expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(/^timeoutMs /) }));
      expect(() => notifySync({ READY: 1 }, { socket: '', timeoutMs })).toThrow(RangeError);
      expect(() => notifySync({ READY: 1 }, { socket: '', timeoutMs })).toThrow(/timeoutMs/);
    }
    for (const timeoutMs of ['100', null, {}]) {
      await expect(notify({ READY: 1 }, { timeoutMs: timeoutMs as unknown as number })).rejects.toThrow(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/^timeoutMs /) }));
    }
    expect(await notify({ READY: 1 }, { socket: '', timeoutMs: 2 ** 31 - 1 })).toBe(false);
  });

  it('a receiver that never confirms makes notifySync fail within its timeout (not at once)', () => {
    // A bound socket nobody reads (never armed): the barrier is never released.
    const channel = openNotifyChannel(`@proclaunch-test-deaf-${process.pid}`, () => {});
    try {
      expect(() => notifySync({ READY: 1 }, { socket: channel.address, timeoutMs: 50 })).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    } finally {
      channel.close();
    }
  });
});

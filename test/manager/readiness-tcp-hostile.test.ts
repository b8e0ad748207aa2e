// The TCP readiness listener against whoever can reach its port: wrong, missing or
// borrowed secrets, garbage, huge and slow connections, floods of idle ones. None may
// change a proc's status, crash or wedge the manager, or keep a good proc from getting
// ready. Every wait is bounded; nothing here measures time.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { ProcManager } from '../../src/index.js';
import { CALLBACK_LIMITS, CallbackServer } from '../../src/manager/callback-server.js';
import { ManagedProc } from '../../src/manager/managed-proc.js';
import { OutputRouter } from '../../src/manager/output-router.js';
import { InMemoryLauncher } from '../helpers/fake-launchers.js';
import { fixture } from '../helpers/fixtures.js';
import { envOf, expectNoLeftovers } from '../helpers/manager.js';
import { within } from '../helpers/proc-table.js';
import { openIdle, RemoteLikeLauncher, sendRaw } from './tcp-helpers.js';

const launcher = new RemoteLikeLauncher();
const manager = new ProcManager({ launcher, forwardOutput: false, callbackHost: '127.0.0.1' });
const servers: CallbackServer[] = [];
const idle: Array<{ socket: { destroy(): void } }> = [];
const markers: string[] = [];
afterEach(() => {
  for (const connection of idle.splice(0)) connection.socket.destroy();
});
afterAll(async () => {
  await manager.dispose();
  await launcher.dispose();
  for (const server of servers) await server.close();
  for (const marker of markers) rmSync(marker, { force: true });
  await expectNoLeftovers();
});

let markerCount = 0;
function marker(): string {
  const path = `/tmp/proclaunch-tcp-hostile-${process.pid}-${markerCount++}`;
  markers.push(path);
  return path;
}

/** A bash proc that waits for `go` to appear, then sends READY=1 STATUS=mine over TCP with its own secret. */
function readyAfter(go: string): { program: string; args: string[] } {
  const send = `a=$PROCLAUNCH_NOTIFY_ADDR; exec 3<>/dev/tcp/\${a%:*}/\${a##*:}; printf '%s\\nREADY=1\\nSTATUS=mine\\n\\n' "$PROCLAUNCH_NOTIFY_SECRET" >&3; read -r -t 10 ok <&3; exec 3<&-`;
  return { program: '/bin/bash', args: ['-c', `while [ ! -e ${go} ]; do sleep 0.02; done; ${send}; exec sleep 1000`] };
}

async function spawnTarget(procId: string): Promise<{ go: string; address: string; secret: string; handle: Awaited<ReturnType<ProcManager['spawn']>> }> {
  const go = marker();
  const handle = await manager.spawn(procId, readyAfter(go));
  return { go, handle, address: envOf(handle.pid!, 'PROCLAUNCH_NOTIFY_ADDR')!, secret: envOf(handle.pid!, 'PROCLAUNCH_NOTIFY_SECRET')! };
}

function otherSecret(secret: string): string {
  // Same length and alphabet, one digit off: the closest a guess can come.
  const last = secret.at(-1) === '0' ? '1' : '0';
  return secret.slice(0, -1) + last;
}

describe('messages that do not carry the exact secret of a live proc', () => {
  it('are answered like good ones and change nothing; then the proc gets ready by its own message', async () => {
    const { go, handle, address, secret } = await spawnTarget('target');
    const forged = [
      `${otherSecret(secret)}\nREADY=1\nSTATUS=forged\n\n`,
      `${randomBytes(16).toString('hex')}\nREADY=1\nSTATUS=forged\n\n`,
      'READY=1\nSTATUS=no-secret\n\n',
      `\nREADY=1\n\n`,
      `${secret.toUpperCase()}\nREADY=1\n\n`,
      `${secret.slice(0, 31)}\nREADY=1\n\n`,
      `${secret}0\nREADY=1\n\n`,
      ` ${secret}\nREADY=1\n\n`,
      `${secret}\r\nREADY=1\n\n`,
      `PROCLAUNCH_NOTIFY_SECRET=${secret}\nREADY=1\n\n`,
    ];
    for (const bytes of forged) {
      expect(await sendRaw(address, bytes), JSON.stringify(bytes)).toEqual({ answer: 'OK\n', ended: 'closed' });
      expect(handle.status(), JSON.stringify(bytes)).toMatchObject({ state: 'running' });
    }
    // The secret on the right line, but the message is not on its own line after it.
    expect((await sendRaw(address, `${secret}READY=1\n\n`)).answer).toBe('OK\n');
    expect(handle.status()).toMatchObject({ state: 'running' });
    writeFileSync(go, '');
    expect(await within(handle.ready(), 'ready')).toMatchObject({ state: 'ready', statusText: 'mine' });
    await handle.kill();
  });

  it('garbage, binary and NUL bytes: dropped, the listener keeps serving', async () => {
    const { go, handle, address } = await spawnTarget('garbage-target');
    for (let i = 0; i < 20; i++) {
      const reply = await sendRaw(address, randomBytes(1 + ((i * 397) % 3000)));
      // Under the byte bound: answered like anything else, at a newline pair or at EOF.
      expect(reply.answer).toBe('OK\n');
    }
    expect((await sendRaw(address, Buffer.from([0, 0, 10, 10]))).answer).toBe('OK\n');
    expect(handle.status()).toMatchObject({ state: 'running' });
    writeFileSync(go, '');
    expect(await within(handle.ready(), 'ready')).toMatchObject({ state: 'ready', statusText: 'mine' });
    await handle.kill();
  });

  it("proc B's secret touches B only", async () => {
    const a = await spawnTarget('owner-a');
    const b = await spawnTarget('owner-b');
    expect(a.secret).not.toBe(b.secret);
    expect((await sendRaw(a.address, `${b.secret}\nREADY=1\nSTATUS=for-b\n\n`)).answer).toBe('OK\n');
    expect(b.handle.status()).toMatchObject({ state: 'ready', statusText: 'for-b' });
    expect(a.handle.status()).toMatchObject({ state: 'running' });
    await a.handle.kill();
    await b.handle.kill();
  });

  it("an ended proc's secret is forgotten: a replay changes nothing", async () => {
    const h = await manager.spawn('ended', { program: fixture('forever') });
    const address = envOf(h.pid!, 'PROCLAUNCH_NOTIFY_ADDR')!;
    const secret = envOf(h.pid!, 'PROCLAUNCH_NOTIFY_SECRET')!;
    const ended = await h.kill();
    expect(ended).toMatchObject({ state: 'killed', signalName: 'SIGKILL' });
    expect((await sendRaw(address, `${secret}\nREADY=1\nSTATUS=replayed\n\n`)).answer).toBe('OK\n');
    expect(h.status()).toBe(ended);
    // The id spawned again gets a new secret; the old one does not reach the new proc.
    const again = await manager.spawn('ended', { program: fixture('forever') });
    expect(envOf(again.pid!, 'PROCLAUNCH_NOTIFY_SECRET')).not.toBe(secret);
    expect((await sendRaw(address, `${secret}\nREADY=1\nSTATUS=replayed\n\n`)).answer).toBe('OK\n');
    expect(again.status()).toMatchObject({ state: 'running' });
    await again.kill();
  });
});

describe('bounds on every connection', () => {
  it('a huge message, even with the right secret, is cut off unanswered and unread', async () => {
    const { go, handle, address, secret } = await spawnTarget('huge-target');
    const huge = `${secret}\nREADY=1\nSTATUS=${'x'.repeat(1 << 20)}\n\n`;
    const reply = await sendRaw(address, huge);
    expect(reply.answer).toBe('');
    expect(handle.status()).toMatchObject({ state: 'running' });
    // A stream with no line end at all is cut off too.
    expect((await sendRaw(address, 'y'.repeat(64 * 1024))).answer).toBe('');
    writeFileSync(go, '');
    expect(await within(handle.ready(), 'ready')).toMatchObject({ state: 'ready', statusText: 'mine' });
    await handle.kill();
  });

  it('slowloris: a flood of idle connections, kept topped up, never keeps a good proc from getting ready', async () => {
    const { go, handle, address, secret } = await spawnTarget('slow-target');
    const flood = CALLBACK_LIMITS.maxConnections + 36;
    const connections: Array<Awaited<ReturnType<typeof openIdle>>> = [];
    let flooding = true;
    let opened = 0;
    // Every idle connection the listener drops is replaced at once, so it stays at its cap.
    const openOne = async (): Promise<void> => {
      const connection = await openIdle(address, opened++ % 2 === 0 ? secret.slice(0, 10) : '');
      idle.push(connection);
      connections.push(connection);
      void connection.closed.then(() => {
        if (flooding) void openOne().catch(() => {});
      });
    };
    for (let i = 0; i < flood; i++) await openOne();
    // The oldest beyond the limit were closed by the listener to make room.
    await within(Promise.all(connections.slice(0, flood - CALLBACK_LIMITS.maxConnections).map((c) => c.closed)), 'the oldest idle connections closed');
    writeFileSync(go, '');
    expect(await within(handle.ready(), 'ready under the flood')).toMatchObject({ state: 'ready', statusText: 'mine' });
    flooding = false;
    expect(opened).toBeGreaterThan(flood);
    // Those left are closed once their time is up, unanswered.
    const left = [...connections];
    await within(Promise.all(left.map((c) => c.closed)), 'every idle connection closed', CALLBACK_LIMITS.connectionMs * 6);
    await handle.kill();
  }, 60_000);

  it('a byte-at-a-time sender within the time bound still counts', async () => {
    const { handle, address, secret } = await spawnTarget('trickle-target');
    const { socket, closed } = await openIdle(address);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    for (const byte of `${secret}\nSTATUS=trickled\nREADY=1\n\n`) {
      await new Promise<void>((resolve) => socket.write(byte, () => resolve()));
    }
    await within(closed, 'answered');
    expect(answer).toBe('OK\n');
    expect(handle.status()).toMatchObject({ state: 'ready', statusText: 'trickled' });
    await handle.kill();
  });
});

describe('CallbackServer', () => {
  async function server(): Promise<{ server: CallbackServer; address: string }> {
    const s = new CallbackServer({ host: '127.0.0.1', port: 0 });
    servers.push(s);
    return { server: s, address: await s.address() };
  }

  it('delivers the message only, ended by an empty line or by EOF; forgets a closed registration', async () => {
    const { server: s, address } = await server();
    const got: string[] = [];
    const reg = s.register((message) => got.push(message.toString()));
    expect(reg.secret).toMatch(/^[0-9a-f]{32}$/);
    expect(s.registeredCount).toBe(1);
    await sendRaw(address, `${reg.secret}\nREADY=1\nSTATUS=a\n\nSTATUS=after-the-end\n`);
    await sendRaw(address, `${reg.secret}\nSTATUS=b`);
    await sendRaw(address, `${reg.secret}\n\n`);
    expect(got).toEqual(['READY=1\nSTATUS=a\n', 'STATUS=b', '']);
    reg.close();
    expect(s.registeredCount).toBe(0);
    expect((await sendRaw(address, `${reg.secret}\nREADY=1\n\n`)).answer).toBe('OK\n');
    expect(got).toHaveLength(3);
  });

  it('a full 4096-byte message is delivered, a longer one is not', async () => {
    const { server: s, address } = await server();
    const got: number[] = [];
    const reg = s.register((message) => got.push(message.length));
    const fits = `STATUS=${'f'.repeat(4096 - 'STATUS='.length)}`;
    expect((await sendRaw(address, `${reg.secret}\n${fits}\n\n`)).answer).toBe('OK\n');
    expect((await sendRaw(address, `${reg.secret}\n${fits}xxxxx\n\n`)).answer).toBe('');
    expect(got).toEqual([4097]);
  });

  it('a listener that throws does not take the server down', async () => {
    const { server: s, address } = await server();
    let calls = 0;
    const reg = s.register(() => {
      calls++;
      throw new Error('listener bug');
    });
    expect((await sendRaw(address, `${reg.secret}\nREADY=1\n\n`)).answer).toBe('OK\n');
    expect((await sendRaw(address, `${reg.secret}\nREADY=1\n\n`)).answer).toBe('OK\n');
    expect(calls).toBe(2);
  });

  it('keeps at most maxConnections open, closing the oldest', async () => {
    const { server: s, address } = await server();
    const opened = [];
    for (let i = 0; i < CALLBACK_LIMITS.maxConnections + 10; i++) {
      const connection = await openIdle(address);
      idle.push(connection);
      opened.push(connection);
    }
    await within(Promise.all(opened.slice(0, 10).map((c) => c.closed)), 'the 10 oldest closed');
    expect(s.connectionCount).toBeLessThanOrEqual(CALLBACK_LIMITS.maxConnections);
  });

  it('close() drops open connections, forgets secrets, and refuses to listen again', async () => {
    const { server: s, address } = await server();
    s.register(() => {});
    const connection = await openIdle(address);
    idle.push(connection);
    await s.close();
    await within(connection.closed, 'closed by close()');
    expect(s.registeredCount).toBe(0);
    expect(s.connectionCount).toBe(0);
    await expect(s.address()).rejects.toMatchObject({ code: 'ERR_DISPOSED', stage: 'notify-listen' });
  });
});

describe('ManagedProc and its secret', () => {
  const router = new OutputRouter({ sink: null, forwardTo: null, prefix: null, captureFile: null });

  it('forgets the secret when the proc ends, and when its launch fails', async () => {
    const launcher = new InMemoryLauncher();
    const ended = new ManagedProc('forget-on-exit', 1000);
    let closes = 0;
    ended.useCallback({ secret: '0'.repeat(32), close: () => closes++ });
    ended.onLaunched(launcher, await launcher.launch('forget-on-exit', { command: { program: '/bin/true' } }), 0, router);
    expect(closes).toBe(0);
    launcher.finish('forget-on-exit', { kind: 'exited', code: 0 });
    await ended.wait();
    expect(closes).toBe(1);
    // After the end, a message changes nothing.
    ended.onCallback(Buffer.from('READY=1\nSTATUS=late'));
    expect(ended.status).toMatchObject({ state: 'stopped' });

    const refused = new ManagedProc('forget-on-failure', 1000);
    let refusedCloses = 0;
    refused.useCallback({ secret: '1'.repeat(32), close: () => refusedCloses++ });
    refused.failLaunch(new Error('no such program'));
    expect(refusedCloses).toBe(1);
  });

  it('READY=1 and STATUS= before the launch returned are applied once it has', async () => {
    const launcher = new InMemoryLauncher();
    const proc = new ManagedProc('early-unit', 1000);
    proc.onCallback(Buffer.from('STATUS=early\nREADY=1'));
    expect(proc.status).toEqual({ state: 'starting' });
    proc.onLaunched(launcher, await launcher.launch('early-unit', { command: { program: '/bin/true' } }), 0, router);
    expect(proc.status).toMatchObject({ state: 'ready', pid: null, statusText: 'early' });
    launcher.finish('early-unit', { kind: 'exited', code: 0 });
    await proc.wait();
  });
});

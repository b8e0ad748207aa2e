// The harness options (issue #12) as one suite every backend runs: stdin, deadline,
// AbortSignal, rlimits. Each backend's contract file calls it with its own launcher.
import { readFileSync, readlinkSync } from 'node:fs';
import { expect, it } from 'vitest';

import { fixture, firstLines, readAll } from '../helpers/fixtures.js';
import { capturedOut, contractIt, type ContractBackend } from './backend.js';

/** One soft/hard pair of a limits table, e.g. "Max open files  64  128  files". */
export function limitIn(limits: string, label: string): [string, string] {
  const line = limits.split('\n').find((l) => l.startsWith(label));
  if (line === undefined) throw new Error(`no "${label}" in the limits`);
  const [soft, hard] = line.slice(label.length).trim().split(/\s+/);
  return [soft!, hard!];
}

/** One soft/hard pair of /proc/<pid>/limits. */
export function limitOf(pid: number, label: string): [string, string] {
  return limitIn(readFileSync(`/proc/${pid}/limits`, 'utf8'), label);
}

export function defineHarnessContract(backend: ContractBackend): void {
  it("stdin 'pipe': 10 MB round trip through cat while stdout is captured (no deadlock)", async () => {
    const result = await backend.launcher().launch('cat-10mb', {
      command: { program: '/bin/cat' },
      stdin: 'pipe',
      wantStdio: true,
    });
    expect(result.stdin).not.toBeNull();
    const payload = Buffer.alloc(10 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 13)) & 0xff;
    const out = capturedOut(result);
    const chunks: Buffer[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => out.once('end', resolve));
    result.stdin!.end(payload);
    await ended;
    const echoed = Buffer.concat(chunks);
    expect(echoed.length).toBe(payload.length);
    expect(echoed.equals(payload)).toBe(true);
    expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
  });

  contractIt(backend, 'stdin-null')("stdin defaults to /dev/null and is null in the result; 'pipe' reaches the proc's fd 0", async () => {
    const plain = await backend.launcher().launch('stdin-default', {
      command: { program: '/bin/sh', args: ['-c', 'readlink /proc/self/fd/0'] },
      wantStdio: true,
    });
    expect(plain.stdin).toBeNull();
    expect((await readAll(capturedOut(plain))).trim()).toBe('/dev/null');
    await plain.exit;
    const piped = await backend.launcher().launch('stdin-pipe', {
      command: { program: '/bin/sh', args: ['-c', 'readlink /proc/self/fd/0; read line; echo "got $line"'] },
      wantStdio: true,
      stdin: 'pipe',
    });
    piped.stdin!.end('hello\n');
    const lines = (await readAll(capturedOut(piped))).trim().split('\n');
    expect(lines[0]).toMatch(/^pipe:\[\d+\]$/);
    expect(lines[1]).toBe('got hello');
    expect(await piped.exit).toMatchObject({ kind: 'exited', code: 0 });
  });

  if (backend.capabilities.stdinInherit === 'same-file') {
    it("stdin 'inherit': the proc's fd 0 is this process's own", async () => {
      const ours = readlinkSync('/proc/self/fd/0');
      const result = await backend.launcher().launch('stdin-inherit', {
        command: { program: '/bin/sh', args: ['-c', 'readlink /proc/self/fd/0'] },
        wantStdio: true,
        stdin: 'inherit',
      });
      expect(result.stdin).toBeNull();
      expect((await readAll(capturedOut(result))).trim()).toBe(ours);
      expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
    });
  } else {
    it("stdin 'inherit': our stdin is forwarded to the proc's fd 0 (a pipe or socket, not /dev/null)", async () => {
      const result = await backend.launcher().launch('stdin-inherit', {
        command: { program: '/bin/sh', args: ['-c', 'readlink /proc/self/fd/0'] },
        wantStdio: true,
        stdin: 'inherit',
      });
      expect(result.stdin).toBeNull();
      expect((await readAll(capturedOut(result))).trim()).toMatch(/^(pipe|socket):\[\d+\]$/);
      expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
    });
  }

  it('a write after the proc stopped reading (EPIPE) is not an unhandled error', async () => {
    const result = await backend.launcher().launch('epipe', {
      command: { program: '/bin/sh', args: ['-c', 'read line; exit 0'] },
      stdin: 'pipe',
    });
    const stdin = result.stdin!;
    // More than a pipe holds: the proc reads one line and leaves the rest unread.
    const failed = new Promise<NodeJS.ErrnoException | null | undefined>((resolve) => stdin.write(`one\n${'x'.repeat(4 << 20)}`, resolve));
    expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
    const error = await failed;
    // The kernel's EPIPE, or our end already closed because the proc had exited: the
    // pending write is then cancelled (ECANCELED, or nothing on older Node); never another error.
    expect([undefined, 'EPIPE', 'ECANCELED', 'ERR_STREAM_DESTROYED']).toContain(error?.code);
    // Only the launcher's own guard listens: an EPIPE 'error' met nobody else, and vitest
    // fails the file on any unhandled error.
    expect(stdin.listenerCount('error')).toBe(1);
    // And writing again later changes nothing.
    await new Promise<void>((resolve) => stdin.write('more', () => resolve()));
    expect(stdin.destroyed).toBe(true);
  });

  it('deadlineMs: terminates at the deadline and the exit says timedOut', async () => {
    const result = await backend.launcher().launch('deadline', {
      command: { program: fixture('forever') },
      deadlineMs: 100,
    });
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'signaled', signal: 15, signalName: 'SIGTERM', timedOut: true });
    expect(exit.aborted).toBeUndefined();
  });

  it('deadlineMs: a TERM-ignoring proc is SIGKILLed after deadlineGraceMs', async () => {
    const result = await backend.launcher().launch('deadline-kill', {
      command: { program: fixture('ignore-term') },
      wantStdio: true,
      // Room for the fixture to set its trap first: the SIGTERM must meet the trap.
      deadlineMs: 3000,
      deadlineGraceMs: 200,
    });
    const ready = await firstLines(capturedOut(result), 1);
    expect(ready).toEqual(['ready']);
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9, timedOut: true });
  });

  it('signal: an already aborted signal rejects with AbortError and starts nothing', async () => {
    const before = backend.size();
    const controller = new AbortController();
    controller.abort(new Error('user gave up'));
    const launching = backend.launcher().launch('pre-aborted', { command: { program: fixture('forever') }, signal: controller.signal });
    await expect(launching).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(backend.size()).toBe(before);
  });

  it('signal: an abort after the start terminates with the grace and the exit says aborted', async () => {
    const controller = new AbortController();
    const result = await backend.launcher().launch('abort', {
      command: { program: fixture('ignore-term') },
      wantStdio: true,
      signal: controller.signal,
      deadlineGraceMs: 200,
    });
    expect(await firstLines(capturedOut(result), 1)).toEqual(['ready']);
    controller.abort();
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'signaled', signal: 9, aborted: true });
    expect(exit.timedOut).toBeUndefined();
  });

  it('a proc that ends before its deadline or abort is not marked, and a later abort does nothing', async () => {
    const controller = new AbortController();
    const result = await backend.launcher().launch('ends-first', {
      command: { program: '/bin/sh', args: ['-c', 'exit 4'] },
      deadlineMs: 600_000,
      signal: controller.signal,
    });
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'exited', code: 4 });
    expect('timedOut' in exit || 'aborted' in exit).toBe(false);
    controller.abort();
    expect(backend.size()).toBe(0);
  });

  contractIt(backend, 'rlimits')('rlimits are applied before exec (read from the live proc\'s /proc/<pid>/limits)', async () => {
    const rlimits = { nofile: [64, 128], core: 0, fsize: 1 << 20, as: Infinity, cpu: [3600, Infinity] } as const;
    let limits: string;
    if (backend.capabilities.localPids) {
      const result = await backend.launcher().launch('rlimits', { command: { program: fixture('forever') }, rlimits });
      try {
        expect(result.pid).not.toBeNull();
        // Through `exec sleep`: the limits survive exec.
        limits = readFileSync(`/proc/${result.pid!}/limits`, 'utf8');
      } finally {
        await backend.launcher().kill('rlimits');
      }
      expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
    } else {
      // No local pid to look at: the proc reads its own table, after an exec too.
      const result = await backend.launcher().launch('rlimits', { command: { program: '/bin/sh', args: ['-c', 'exec cat /proc/self/limits'] }, rlimits, wantStdio: true });
      limits = await readAll(capturedOut(result));
      expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
    }
    expect(limitIn(limits, 'Max open files')).toEqual(['64', '128']);
    expect(limitIn(limits, 'Max core file size')).toEqual(['0', '0']);
    expect(limitIn(limits, 'Max file size')).toEqual([String(1 << 20), String(1 << 20)]);
    expect(limitIn(limits, 'Max address space')).toEqual(['unlimited', 'unlimited']);
    expect(limitIn(limits, 'Max cpu time')).toEqual(['3600', 'unlimited']);
  });

  it('bad rlimits are TypeError/RangeError naming rlimits.<key>, misspellings get "did you mean"', async () => {
    const launch = (rlimits: unknown): Promise<unknown> =>
      backend.launcher().launch('bad-rlimits', { command: { program: '/bin/true' }, rlimits: rlimits as never });
    await expect(launch({ nofiles: 10 })).rejects.toThrow(/Unknown option "nofiles" in opts\.rlimits \(did you mean "nofile"\?\)/);
    await expect(launch({ NOFILE: 10 })).rejects.toThrow(TypeError);
    await expect(launch({ nofile: -1 })).rejects.toThrow(/opts\.rlimits\.nofile must be an integer/);
    await expect(launch({ nofile: -1 })).rejects.toThrow(RangeError);
    await expect(launch({ nofile: 1.5 })).rejects.toThrow(RangeError);
    await expect(launch({ nofile: NaN })).rejects.toThrow(RangeError);
    await expect(launch({ nproc: '10' })).rejects.toThrow(/opts\.rlimits\.nproc must be a number or a \[soft, hard\] pair/);
    await expect(launch({ stack: [10, 5] })).rejects.toThrow(/opts\.rlimits\.stack: the soft limit 10 is above the hard limit 5/);
    await expect(launch({ memlock: [1] })).rejects.toThrow(/opts\.rlimits\.memlock must be a number or a \[soft, hard\] pair/);
    await expect(launch({ as: [1, 'x'] })).rejects.toThrow(/opts\.rlimits\.as\[1\] \(hard\) must be a number/);
    await expect(launch(5)).rejects.toThrow(/opts\.rlimits must be an object/);
    expect(backend.size()).toBe(0);
  });

  it('bad stdin, deadline and signal options name the option', async () => {
    const launch = (extra: Record<string, unknown>): Promise<unknown> =>
      backend.launcher().launch('bad-harness', { command: { program: '/bin/true' }, ...extra } as never);
    await expect(launch({ stdin: 'pipes' })).rejects.toThrow(/opts\.stdin must be 'null', 'inherit' or 'pipe'/);
    await expect(launch({ stdin: 0 })).rejects.toThrow(TypeError);
    await expect(launch({ deadlineMs: -1 })).rejects.toThrow(/opts\.deadlineMs/);
    await expect(launch({ deadlineMs: '5' })).rejects.toThrow(TypeError);
    await expect(launch({ deadlineGraceMs: Infinity })).rejects.toThrow(/opts\.deadlineGraceMs/);
    await expect(launch({ signal: {} })).rejects.toThrow(/opts\.signal must be an AbortSignal/);
    await expect(launch({ deadlinems: 5 })).rejects.toThrow(/did you mean "deadlineMs"/);
    expect(backend.size()).toBe(0);
  });
}


import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { LineTail, TRUNCATION_MARKER } from '../../src/common/line-tail.js';
import { LineSplitter } from '../../src/manager/line-splitter.js';
import { OutputRouter } from '../../src/manager/output-router.js';
import { readAll } from '../helpers/fixtures.js';
import { LineCollector, quietManager, expectNoLeftovers } from '../helpers/manager.js';

const output = new LineCollector();
const manager = quietManager({ logSink: output.sink, tailLines: 3, readyTimeoutMs: null });
afterAll(async () => {
  await manager.dispose();
  await expectNoLeftovers();
});

describe('stderr tail', () => {
  it('keeps whole lines across chunk boundaries (real proc, writes split by pauses)', async () => {
    const h = await manager.spawn('chunks', {
      program: '/bin/sh',
      args: ['-c', "printf 'first hal' >&2; sleep 0.1; printf 'f\\nsec' >&2; sleep 0.1; printf 'ond\\nthird' >&2; exit 3"],
    });
    expect(await h.wait()).toEqual({ state: 'stopped', exitCode: 3, stderrTail: ['first half', 'second', 'third'] });
  });

  it('keeps only the last tailLines lines, and truncates a runaway line with a marker', async () => {
    const h = await manager.spawn('many', {
      program: '/bin/sh',
      args: ['-c', "for i in 1 2 3 4 5 6; do echo line-$i >&2; done; head -c 10000 /dev/zero | tr '\\0' x >&2; echo >&2; exit 1"],
    });
    const status = await h.wait();
    if (status.state !== 'stopped') throw new Error(`unexpected ${status.state}`);
    expect(status.stderrTail.slice(0, 2)).toEqual(['line-5', 'line-6']);
    expect(status.stderrTail[2]).toBe('x'.repeat(4096) + TRUNCATION_MARKER);
  });

  it('is present when the proc is killed', async () => {
    const h = await manager.spawn('killed-tail', { program: '/bin/sh', args: ['-c', 'echo "about to hang" >&2; exec sleep 1000'] });
    await output.waitFor('killed-tail', 'about to hang');
    expect(await h.kill()).toEqual({ state: 'killed', signal: 9, signalName: 'SIGKILL', coreDumped: false, stderrTail: ['about to hang'] });
  });

  it('is present when the proc fails (ready timeout)', async () => {
    const h = await manager.spawn(
      'failed-tail',
      { program: '/bin/sh', args: ['-c', 'echo "waiting for db" >&2; exec sleep 1000'] },
      // Long enough for the shell to have written its line before the deadline stops it.
      { readyTimeoutMs: 1000 },
    );
    expect(await h.wait()).toEqual({ state: 'failed', reason: 'not ready within 1000 ms', stderrTail: ['waiting for db'] });
  });

  it('tailLines 0 keeps no tail', async () => {
    const h = await manager.spawn('no-tail', { program: '/bin/sh', args: ['-c', 'echo oops >&2; exit 2'] }, { tailLines: 0 });
    expect(await h.wait()).toEqual({ state: 'stopped', exitCode: 2, stderrTail: [] });
    // Output is still forwarded.
    await output.waitFor('no-tail', 'oops');
  });
});

describe('log forwarding', () => {
  it('the sink gets every line with the proc id and stream, in order per stream', async () => {
    const h = await manager.spawn('sink', {
      program: '/bin/sh',
      args: ['-c', "printf 'a\\nb\\n'; printf 'e1\\n' >&2; printf 'partial'"],
    });
    await h.wait();
    const mine = output.lines.filter((entry) => entry.procId === 'sink');
    expect(mine.filter((e) => e.stream === 'stdout').map((e) => e.line)).toEqual(['a', 'b', 'partial']);
    expect(mine.filter((e) => e.stream === 'stderr').map((e) => e.line)).toEqual(['e1']);
  });

  it('captures every line of every proc to the manager file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proclaunch-log-'));
    const file = join(dir, 'procs.log');
    const m = quietManager({ logFile: file });
    try {
      await (await m.spawn('one', { program: '/bin/sh', args: ['-c', 'echo hello; echo warn >&2'] })).wait();
      await (await m.spawn('two', { program: '/bin/sh', args: ['-c', 'echo world'] })).wait();
    } finally {
      await m.dispose();
    }
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => line.replace(/^\S+ /, ''));
    expect(lines.sort()).toEqual(['one stderr warn', 'one stdout hello', 'two stdout world']);
    expect(readFileSync(file, 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z one /);
    rmSync(dir, { recursive: true });
  });

  it('forwards to stdout/stderr with a prefix (default "[procId] " or a function)', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const router = new OutputRouter({ sink: null, forwardTo: { stdout, stderr }, prefix: (id, stream) => `${id}/${stream}| `, captureFile: null });
    const out = new PassThrough();
    const err = new PassThrough();
    const attached = router.attach('p1', out, err, null);
    out.write('hel');
    out.write('lo\nwor');
    err.end('bad\n');
    out.end('ld');
    await attached.closed;
    stdout.end();
    stderr.end();
    expect(await readAll(stdout)).toBe('p1/stdout| hello\np1/stdout| world\n');
    expect(await readAll(stderr)).toBe('p1/stderr| bad\n');
  });

  it('tail and splitter agree on lines split at any byte, multi-byte characters included', () => {
    const text = 'αβγ first\nsecond line\r\n\nlast ✓';
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const tail = new LineTail(10);
      const lines: string[] = [];
      const splitter = new LineSplitter((line) => lines.push(line));
      for (const chunk of [bytes.subarray(0, cut), bytes.subarray(cut)]) {
        tail.push(chunk);
        splitter.push(chunk);
      }
      tail.end();
      splitter.end();
      expect(tail.lines()).toEqual(['αβγ first', 'second line', '', 'last ✓']);
      expect(lines).toEqual(['αβγ first', 'second line', '', 'last ✓']);
    }
  });

  it('the splitter passes a very long line on in pieces, losing nothing', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line), 10);
    splitter.push('x'.repeat(25) + '\nshort\n');
    splitter.end();
    expect(lines).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5), 'short']);
  });

  it('a slow target pauses the proc output instead of buffering it', async () => {
    const stdout = new PassThrough({ highWaterMark: 8 });
    const router = new OutputRouter({ sink: null, forwardTo: { stdout, stderr: new PassThrough() }, prefix: null, captureFile: null });
    const source = new PassThrough();
    router.attach('slow', source, new PassThrough(), null);
    source.write('0123456789\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.isPaused()).toBe(true);
    stdout.read(); // drain
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.isPaused()).toBe(false);
  });

  it('a throwing sink does not stop the manager', async () => {
    const m = quietManager({
      logSink: () => {
        throw new Error('sink broke');
      },
    });
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const h = await m.spawn('throws', { program: '/bin/sh', args: ['-c', 'echo a; echo b; exit 0'] });
      expect(await h.wait()).toMatchObject({ state: 'stopped', exitCode: 0 });
      // Said once, not once per line.
      expect(emitWarning).toHaveBeenCalledTimes(1);
      expect(String(emitWarning.mock.calls[0]![0])).toContain('the log sink threw');
    } finally {
      emitWarning.mockRestore();
      await m.dispose();
    }
  });

});

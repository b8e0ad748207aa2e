import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createLiveView, type TerminalLike } from '../../src/cli/live-view.js';
import type { ProcRow } from '../../src/cli/status-table.js';

class Capture extends Writable {
  text = '';
  isTTY: boolean;
  columns = 80;
  rows = 24;

  constructor(isTTY: boolean) {
    super();
    this.isTTY = isTTY;
  }

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }

  take(): string {
    const text = this.text;
    this.text = '';
    return text;
  }
}

const row = (state: 'running' | 'ready'): ProcRow => ({
  procId: 'p-0',
  pid: 5,
  status: { state, pid: 5, startedAt: new Date(0) },
  startedAt: 0,
  endedAt: null,
});

afterEach(() => vi.useRealTimers());

describe('live view', () => {
  it('not a TTY: one line per transition, output passed through, nothing redrawn', () => {
    const err = new Capture(false);
    const out = new Capture(false);
    const view = createLiveView(err as TerminalLike);
    view.transition(row('running'), [row('running')]);
    view.output('[p-0] hello\n', out);
    view.transition(row('ready'), [row('ready')]);
    view.note('all 1 ready');
    view.finish();
    expect(err.take()).toBe('proclaunch: p-0 running pid 5\nproclaunch: p-0 ready pid 5\nproclaunch: all 1 ready\n');
    expect(out.take()).toBe('[p-0] hello\n');
  });

  it('a TTY: the table is redrawn in place, and lifted for proc output', () => {
    vi.useFakeTimers();
    const tty = new Capture(true);
    const view = createLiveView(tty as TerminalLike, () => 2000);
    view.transition(row('running'), [row('running')]);
    expect(tty.take()).toBe(''); // redraws are batched
    vi.advanceTimersByTime(50);
    const table = 'ID   PID  STATE    TIME   INFO\np-0  5    running  2.00s\n';
    expect(tty.take()).toBe(table);

    view.transition(row('ready'), [row('ready')]);
    vi.advanceTimersByTime(50);
    // Up two lines, erase, draw the new table.
    expect(tty.take()).toBe('\x1b[2F\x1b[JID   PID  STATE  TIME   INFO\np-0  5    ready  2.00s\n');

    view.output('[p-0] line 1\n', tty);
    view.output('[p-0] line 2\n', tty);
    expect(tty.take()).toBe('\x1b[2F\x1b[J[p-0] line 1\n[p-0] line 2\n');
    vi.advanceTimersByTime(50);
    expect(tty.take()).toBe('ID   PID  STATE  TIME   INFO\np-0  5    ready  2.00s\n');

    // The clock ticks the TIME column even without events.
    vi.advanceTimersByTime(1000);
    expect(tty.take()).toBe('\x1b[2F\x1b[JID   PID  STATE  TIME   INFO\np-0  5    ready  2.00s\n');

    view.finish();
    expect(tty.take()).toBe('\x1b[2F\x1b[J');
    vi.advanceTimersByTime(5000);
    expect(tty.take()).toBe('');
  });
});

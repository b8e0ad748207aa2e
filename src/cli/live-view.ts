// What `proclaunch run` shows while procs run. On a terminal: a status table kept at
// the bottom and redrawn in place (proc output scrolls above it). Elsewhere: one line
// per status change, nothing rewritten, so logs and pipes stay readable.
import type { Writable } from 'node:stream';

import { liveTableLines, transitionLine, type ProcRow } from './status-table.js';

export interface LiveView {
  /** A proc changed status (`row` is its new row, `rows` every row). */
  transition(row: ProcRow, rows: readonly ProcRow[]): void;
  /** A line of proc output (with its newline), to `to`. */
  output(text: string, to: Writable): void;
  /** A message from proclaunch itself. */
  note(text: string): void;
  /** Stops redrawing and removes the table. */
  finish(): void;
}

export interface TerminalLike extends Writable {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

const REDRAW_DELAY_MS = 50;
const TICK_MS = 1000;

export function createLiveView(out: TerminalLike, now: () => number = Date.now): LiveView {
  return out.isTTY === true ? new TerminalView(out, now) : new LineView(out);
}

class LineView implements LiveView {
  readonly #out: Writable;

  constructor(out: Writable) {
    this.#out = out;
  }

  transition(row: ProcRow): void {
    this.#out.write(`${transitionLine(row)}\n`);
  }

  output(text: string, to: Writable): void {
    to.write(text);
  }

  note(text: string): void {
    this.#out.write(`proclaunch: ${text}\n`);
  }

  finish(): void {}
}

export class TerminalView implements LiveView {
  readonly #out: TerminalLike;
  readonly #now: () => number;
  #rows: readonly ProcRow[] = [];
  /** Lines of the table currently on screen, right above the cursor. */
  #height = 0;
  #redraw: NodeJS.Timeout | undefined;
  readonly #tick: NodeJS.Timeout;
  #finished = false;

  constructor(out: TerminalLike, now: () => number) {
    this.#out = out;
    this.#now = now;
    // The TIME column moves even when nothing else does.
    this.#tick = setInterval(() => this.#draw(), TICK_MS);
    this.#tick.unref();
  }

  transition(_row: ProcRow, rows: readonly ProcRow[]): void {
    this.#rows = rows;
    this.#schedule();
  }

  output(text: string, to: Writable): void {
    // Lift the table out of the way once per burst; redraw it after the burst.
    this.#clear();
    to.write(text);
    this.#schedule();
  }

  note(text: string): void {
    this.#clear();
    this.#out.write(`proclaunch: ${text}\n`);
    this.#schedule();
  }

  finish(): void {
    this.#finished = true;
    clearInterval(this.#tick);
    clearTimeout(this.#redraw);
    this.#redraw = undefined;
    this.#clear();
  }

  #schedule(): void {
    if (this.#finished || this.#redraw !== undefined) return;
    this.#redraw = setTimeout(() => {
      this.#redraw = undefined;
      this.#draw();
    }, REDRAW_DELAY_MS);
  }

  #clear(): void {
    if (this.#height === 0) return;
    // Cursor up to the table's first line, then erase to the end of the screen.
    this.#out.write(`\x1b[${this.#height}F\x1b[J`);
    this.#height = 0;
  }

  #draw(): void {
    if (this.#finished) return;
    // A pseudo-terminal without a size reports 0 columns: assume the classic 80x24.
    const width = Math.max(20, this.#out.columns || 80);
    const maxRows = Math.max(3, (this.#out.rows || 24) - 2);
    // A line wider than the terminal would wrap and break the line count: cut it.
    const lines = liveTableLines(this.#rows, this.#now(), maxRows).map((line) => (line.length >= width ? `${line.slice(0, width - 2)}…` : line));
    this.#clear();
    this.#out.write(`${lines.join('\n')}\n`);
    this.#height = lines.length;
  }
}

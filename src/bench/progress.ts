// A one-line progress bar on stderr, drawn only when stderr is a terminal.

export interface Progress {
  /** Adds `units` of expected work (each scenario announces its own). */
  expect(units: number): void;
  /** Marks `units` as done and shows what is running now. */
  advance(units: number, label: string): void;
  /** Shows what is running without advancing (long single steps). */
  label(text: string): void;
  /** Erases the bar. */
  done(): void;
}

interface BarStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

const REDRAW_MS = 80;

export function createProgress(stream: BarStream, enabled = stream.isTTY === true): Progress {
  let total = 0;
  let doneUnits = 0;
  let text = '';
  let lastDraw = 0;
  let drawn = false;
  const draw = (force: boolean): void => {
    if (!enabled) return;
    const now = performance.now();
    if (!force && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    const fraction = total > 0 ? Math.min(1, doneUnits / total) : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% `;
    const room = Math.max(10, (stream.columns ?? 80) - bar.length - 1);
    stream.write(`\r\x1b[2K${bar}${text.length > room ? `${text.slice(0, room - 1)}…` : text}`);
    drawn = true;
  };
  return {
    expect(units) {
      total += units;
    },
    advance(units, label) {
      doneUnits += units;
      text = label;
      draw(false);
    },
    label(label) {
      text = label;
      draw(true);
    },
    done() {
      if (enabled && drawn) stream.write('\r\x1b[2K');
    },
  };
}

/** A progress that draws nothing (tests, --json pipelines without a terminal). */
export const silentProgress: Progress = createProgress({ write: () => true }, false);

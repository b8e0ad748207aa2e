// Routes the captured stdout/stderr of every proc: line by line to the user's sink,
// to this process's stdout/stderr (optionally prefixed), to the manager's capture file,
// and stderr into the proc's tail. Slow targets pause the sources instead of buffering.
import type { Readable, Writable } from 'node:stream';

import type { LineTail } from '../common/line-tail.js';
import { LineSplitter } from './line-splitter.js';

export type OutputStream = 'stdout' | 'stderr';
/** Receives every line a proc writes, without its newline. */
export type LogSink = (line: string, procId: string, stream: OutputStream) => void;
export type PrefixFunction = (procId: string, stream: OutputStream) => string;

export interface OutputRouterOptions {
  sink: LogSink | null;
  /** Where forwarded lines go; null: not forwarded. */
  forwardTo: { stdout: Writable; stderr: Writable } | null;
  prefix: PrefixFunction | null;
  captureFile: Writable | null;
}

export interface AttachedOutput {
  /** Settles once both streams have closed. */
  readonly closed: Promise<void>;
  /** Stops reading (an escaped descendant may hold the pipes open forever) and flushes partial lines. */
  detach(): void;
}

export class OutputRouter {
  readonly #options: OutputRouterOptions;
  readonly #blocked = new Map<Writable, Set<Readable>>();
  #sinkFailed = false;

  constructor(options: OutputRouterOptions) {
    this.#options = options;
  }

  attach(procId: string, stdout: Readable, stderr: Readable, tail: LineTail | null): AttachedOutput {
    const out = this.#follow(procId, 'stdout', stdout, null);
    const err = this.#follow(procId, 'stderr', stderr, tail);
    return {
      closed: Promise.all([out.closed, err.closed]).then(() => undefined),
      detach: () => {
        out.detach();
        err.detach();
      },
    };
  }

  #follow(procId: string, stream: OutputStream, source: Readable, tail: LineTail | null): AttachedOutput {
    const { sink, forwardTo, prefix, captureFile } = this.#options;
    const target = forwardTo === null ? null : forwardTo[stream];
    const splitter =
      sink === null && target === null && captureFile === null
        ? null
        : new LineSplitter((line) => {
            if (sink !== null) this.#callSink(sink, line, procId, stream);
            if (target !== null) this.#write(target, `${prefix === null ? '' : prefix(procId, stream)}${line}\n`, source);
            if (captureFile !== null) this.#write(captureFile, `${new Date().toISOString()} ${procId} ${stream} ${line}\n`, source);
          });
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      splitter?.end();
      tail?.end();
    };
    const closed = new Promise<void>((resolve) => {
      source.once('close', () => {
        finish();
        resolve();
      });
    });
    source.on('error', () => {}); // a broken pipe just ends the stream; 'close' follows
    source.on('data', (chunk: Buffer) => {
      tail?.push(chunk);
      splitter?.push(chunk);
    });
    source.once('end', finish);
    return {
      closed,
      detach: () => {
        finish();
        source.destroy();
      },
    };
  }

  #callSink(sink: LogSink, line: string, procId: string, stream: OutputStream): void {
    try {
      sink(line, procId, stream);
    } catch (error) {
      // A throwing sink must not take the manager down; say so once.
      if (this.#sinkFailed) return;
      this.#sinkFailed = true;
      process.emitWarning(`proclaunch: the log sink threw (further errors are ignored): ${String(error)}`, 'ProcManagerWarning');
    }
  }

  /** Writes, and pauses `source` until `target` drains; one 'drain' listener per target. */
  #write(target: Writable, text: string, source: Readable): void {
    if (target.write(text)) return;
    let paused = this.#blocked.get(target);
    if (paused === undefined) {
      paused = new Set();
      this.#blocked.set(target, paused);
      target.once('drain', () => {
        const waiting = this.#blocked.get(target);
        this.#blocked.delete(target);
        for (const stream of waiting ?? []) if (!stream.destroyed) stream.resume();
      });
    }
    paused.add(source);
    source.pause();
  }
}

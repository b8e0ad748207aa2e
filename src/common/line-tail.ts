// The last N whole lines of a byte stream. Lines may span chunks; a line longer than
// `maxLineBytes` is cut and marked, so one runaway line cannot eat the memory.
import { StringDecoder } from 'node:string_decoder';

export const TRUNCATION_MARKER = '…[truncated]';

export class LineTail {
  readonly #maxLines: number;
  readonly #maxLineChars: number;
  readonly #ring: string[] = [];
  #start = 0;
  #partial = '';
  #partialTruncated = false;
  readonly #decoder = new StringDecoder('utf8');

  constructor(maxLines: number, maxLineChars = 4096) {
    this.#maxLines = maxLines;
    this.#maxLineChars = maxLineChars;
  }

  push(chunk: Buffer | string): void {
    if (this.#maxLines === 0) return;
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    let from = 0;
    for (;;) {
      const newline = text.indexOf('\n', from);
      if (newline < 0) {
        this.#appendPartial(text.slice(from));
        return;
      }
      this.#appendPartial(text.slice(from, newline));
      this.#commitPartial();
      from = newline + 1;
    }
  }

  /** Flushes a last line that had no newline. */
  end(): void {
    this.#appendPartial(this.#decoder.end());
    if (this.#partial.length > 0 || this.#partialTruncated) this.#commitPartial();
  }

  /** The kept lines, oldest first (without the unterminated partial line). */
  lines(): string[] {
    return [...this.#ring.slice(this.#start), ...this.#ring.slice(0, this.#start)];
  }

  #appendPartial(text: string): void {
    if (this.#partialTruncated || text.length === 0) return;
    const room = this.#maxLineChars - this.#partial.length;
    if (text.length > room) {
      this.#partial += text.slice(0, room);
      this.#partialTruncated = true;
    } else {
      this.#partial += text;
    }
  }

  #commitPartial(): void {
    let line = this.#partialTruncated ? this.#partial + TRUNCATION_MARKER : this.#partial;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    this.#partial = '';
    this.#partialTruncated = false;
    if (this.#ring.length < this.#maxLines) {
      this.#ring.push(line);
    } else {
      this.#ring[this.#start] = line;
      this.#start = (this.#start + 1) % this.#maxLines;
    }
  }
}

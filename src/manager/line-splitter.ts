// Cuts a byte stream into lines for log forwarding. Lines may span chunks; a line
// longer than `maxLineChars` is passed on in pieces (forwarding never drops output,
// unlike the tail, which truncates).
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  readonly #onLine: (line: string) => void;
  readonly #maxLineChars: number;
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';

  constructor(onLine: (line: string) => void, maxLineChars = 64 * 1024) {
    this.#onLine = onLine;
    this.#maxLineChars = maxLineChars;
  }

  push(chunk: Buffer | string): void {
    this.#take(typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
  }

  /** Passes on a last line that had no newline. */
  end(): void {
    this.#take(this.#decoder.end());
    if (this.#partial.length > 0) this.#emit(this.#partial);
    this.#partial = '';
  }

  #take(text: string): void {
    let from = 0;
    for (;;) {
      const newline = text.indexOf('\n', from);
      if (newline < 0) break;
      this.#emit(this.#partial + text.slice(from, newline));
      this.#partial = '';
      from = newline + 1;
    }
    this.#partial += text.slice(from);
    while (this.#partial.length > this.#maxLineChars) {
      this.#onLine(this.#partial.slice(0, this.#maxLineChars));
      this.#partial = this.#partial.slice(this.#maxLineChars);
    }
  }

  #emit(line: string): void {
    let rest = line.endsWith('\r') ? line.slice(0, -1) : line;
    while (rest.length > this.#maxLineChars) {
      this.#onLine(rest.slice(0, this.#maxLineChars));
      rest = rest.slice(this.#maxLineChars);
    }
    this.#onLine(rest);
  }
}

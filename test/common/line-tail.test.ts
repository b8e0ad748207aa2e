import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { LineTail, TRUNCATION_MARKER } from '../../src/common/line-tail.js';

/** The obvious, slow model: split the whole text at the end. */
function naiveTail(text: string, maxLines: number, maxLineChars: number): string[] {
  if (maxLines === 0) return [];
  const parts = text.split('\n');
  if (parts.at(-1) === '') parts.pop();
  return parts
    .map((line) => {
      const cut = line.length > maxLineChars ? line.slice(0, maxLineChars) + TRUNCATION_MARKER : line;
      return cut.endsWith('\r') ? cut.slice(0, -1) : cut;
    })
    .slice(-maxLines);
}

/** Splits `bytes` at the given cut points (so multi-byte characters get split too). */
function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    out.push(bytes.subarray(from, point));
    from = point;
  }
  out.push(bytes.subarray(from));
  return out;
}

describe('LineTail', () => {
  it('keeps whole lines across chunk boundaries (examples)', () => {
    const tail = new LineTail(2);
    for (const piece of ['al', 'pha\nbe', 'ta\ngam', 'ma\n', 'delta']) tail.push(Buffer.from(piece));
    expect(tail.lines()).toEqual(['beta', 'gamma']);
    tail.end();
    expect(tail.lines()).toEqual(['gamma', 'delta']);
  });

  it('truncates very long lines with a marker', () => {
    const tail = new LineTail(3, 5);
    tail.push('0123456789\nshort\n');
    expect(tail.lines()).toEqual([`01234${TRUNCATION_MARKER}`, 'short']);
  });

  it('matches a naive model for random text and random chunkings', () => {
    const line = fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\r', ' ', 'z'), maxLength: 30 });
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 40 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 25 }),
        (lines, trailingNewline, cuts, maxLines, maxLineChars) => {
          const text = lines.join('\n') + (trailingNewline && lines.length > 0 ? '\n' : '');
          const tail = new LineTail(maxLines, maxLineChars);
          for (const piece of chunk(Buffer.from(text, 'utf8'), cuts)) tail.push(piece);
          tail.end();
          expect(tail.lines()).toEqual(naiveTail(text, maxLines, maxLineChars));
        },
      ),
      { numRuns: 500 },
    );
  });
});

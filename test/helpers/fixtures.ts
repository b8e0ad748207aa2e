import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';

const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export type FixtureName =
  | 'forever'
  | 'exit-n'
  | 'print-pid'
  | 'spawn-grandchild'
  | 'spawn-escaped-grandchild'
  | 'escaped-busy-grandchild'
  | 'ignore-term'
  | 'list-fds'
  | 'segfault'
  | 'node-notify.mjs';

export function fixture(name: FixtureName): string {
  return join(fixturesDir, name);
}

/** Everything a stream produces until it ends. */
export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The first `count` whole lines a stream produces. */
export function firstLines(stream: NodeJS.ReadableStream, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const lines = text.split('\n');
      if (lines.length > count) {
        stream.off('data', onData);
        resolve(lines.slice(0, count));
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended before ${count} whole line(s): ${JSON.stringify(text)}`)));
  });
}

/** The first line a stream produces. */
export async function firstLine(stream: Readable): Promise<string> {
  return (await firstLines(stream, 1))[0]!;
}

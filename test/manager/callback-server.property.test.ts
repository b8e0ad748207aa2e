// Property: whatever bytes arrive on a connection, in whatever chunks, the TCP readiness
// listener answers and delivers exactly what the wire form says (docs/readiness.md),
// and nothing reaches a proc unless the first line is that proc's exact secret.
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { CALLBACK_LIMITS, CallbackServer } from '../../src/manager/callback-server.js';
import { within } from '../helpers/proc-table.js';
import { splitAddress } from './tcp-helpers.js';

const server = new CallbackServer({ host: '127.0.0.1', port: 0 });
afterAll(() => server.close());

const RUNS = Number(process.env['PROCLAUNCH_PROPERTY_RUNS'] ?? 300);

interface Expected {
  answered: boolean;
  /** The message handed to the proc with `secret`, or null. */
  delivered: string | null;
}

/** The wire form, written out independently of the implementation. */
function model(bytes: Buffer, secret: string): Expected {
  const first = bytes.indexOf(0x0a);
  const blank = first < 0 ? -1 : bytes.indexOf('\n\n', first);
  const end = blank < 0 ? bytes.length : blank + 1;
  if (end > CALLBACK_LIMITS.maxBytes) return { answered: false, delivered: null };
  const opens = first === 32 && bytes.subarray(0, 32).toString('latin1') === secret;
  return { answered: true, delivered: opens ? bytes.subarray(33, Math.max(33, end)).toString('latin1') : null };
}

/** Sends `chunks` one write at a time, then EOF; resolves with the answer once the connection ends. */
function send(address: string, chunks: Buffer[]): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(splitAddress(address));
    let answer = '';
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.once('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) break;
        await new Promise<void>((done) => socket.write(chunk, () => done()));
      }
      if (!socket.destroyed) socket.end();
    });
  });
}

describe('CallbackServer framing (property)', () => {
  it(`answers and delivers as the wire form says, for any bytes in any chunks (${RUNS} runs)`, async () => {
    let delivered: string[] = [];
    const own = server.register((message) => delivered.push(message.toString('latin1')));
    const other = server.register(() => {
      throw new Error('a message reached the wrong proc');
    });
    const address = await server.address();
    const line = fc.oneof(
      fc.constantFrom('READY=1', 'STATUS=up', 'STOPPING=1', 'PROCLAUNCH_ADDR=tcp://h:1', '', '\r', 'READY=1\r'),
      fc.string({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    const head = fc.oneof(
      fc.constant(own.secret),
      fc.constant(own.secret.toUpperCase()),
      fc.constant(own.secret.slice(0, 31)),
      fc.constant(`${own.secret}x`),
      fc.stringMatching(/^[0-9a-f]{32}$/),
      fc.constant(''),
    );
    const payload = fc.record({
      head,
      lines: fc.array(line, { maxLength: 12 }),
      // Sometimes a body large enough to cross the byte bound.
      filler: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 3900, max: 4400 })),
      terminator: fc.constantFrom('\n\n', '\n', ''),
      cuts: fc.array(fc.integer({ min: 1, max: 4500 }), { maxLength: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(payload, async ({ head: first, lines, filler, terminator, cuts }) => {
        const body = filler > 0 ? [...lines, `STATUS=${'z'.repeat(filler)}`] : lines;
        const bytes = Buffer.from(`${first}\n${body.join('\n')}${terminator}`, 'latin1');
        const points = [...new Set(cuts.filter((cut) => cut < bytes.length))].sort((a, b) => a - b);
        const chunks = [0, ...points].map((start, i) => bytes.subarray(start, points[i] ?? bytes.length));
        delivered = [];
        const expected = model(bytes, own.secret);
        const answer = await within(send(address, chunks), 'the connection ended');
        expect(answer).toBe(expected.answered ? 'OK\n' : '');
        expect(delivered).toEqual(expected.delivered === null ? [] : [expected.delivered]);
      }),
      { numRuns: RUNS },
    );
    own.close();
    other.close();
    expect(server.registeredCount).toBe(0);
  }, 120_000);
});

// The manager's TCP readiness listener, for procs that cannot reach its Unix sockets
// (another host, another network namespace). One connection carries one message:
//
//   <the proc's 32-hex secret>\n<sd_notify assignments, one per line>\n  then \n or EOF
//
// and is answered "OK\n" once handled. The secret alone names the proc, so anyone may
// connect: whatever does not carry a live proc's exact secret is answered the same way
// and changes nothing, and every connection is bounded in bytes, time and number.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

import { ProcLauncherError } from '../contract.js';
import { formatCallbackAddress, SECRET_HEX_LENGTH, type CallbackEndpoint } from './callback-host.js';
import { MAX_NOTIFY_MESSAGE_BYTES } from './notify.js';

/** Called with the message (the assignments, without the secret line) sent with this proc's secret. */
export type CallbackListener = (message: Buffer) => void;

export interface CallbackRegistration {
  /** The value for PROCLAUNCH_NOTIFY_SECRET. */
  readonly secret: string;
  /** Forgets the secret: later messages carrying it are ignored. */
  close(): void;
}

export const CALLBACK_LIMITS = {
  /** Open connections at once; a new one beyond this closes the oldest. */
  maxConnections: 64,
  /** From accept to the end of the message; a slower connection is closed unanswered. */
  connectionMs: 5000,
  /** The secret line, a full sd_notify message and the closing empty line. */
  maxBytes: SECRET_HEX_LENGTH + 1 + MAX_NOTIFY_MESSAGE_BYTES + 2,
} as const;

const HEX_SECRET = /^[0-9a-f]{32}$/;
const ACK = 'OK\n';

interface Registered {
  secret: Buffer;
  listener: CallbackListener;
}

export class CallbackServer {
  readonly #endpoint: CallbackEndpoint;
  /** Keyed by the SHA-256 of the secret, so the lookup's timing tells nothing about any secret. */
  readonly #procs = new Map<string, Registered>();
  /** In accept order: the first is the oldest. */
  readonly #connections = new Set<Socket>();
  #listening: Promise<{ server: Server; address: string }> | null = null;
  #closed = false;

  constructor(endpoint: CallbackEndpoint) {
    this.#endpoint = endpoint;
  }

  /** Live secrets (for tests: terminal procs' secrets are forgotten). */
  get registeredCount(): number {
    return this.#procs.size;
  }

  /** Open connections right now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Listens on first use; the value for PROCLAUNCH_NOTIFY_ADDR. A failed listen is retried by the next call. */
  async address(): Promise<string> {
    if (this.#closed) throw new ProcLauncherError('launch', 'the readiness listener is closed (the manager is disposed)', { code: 'ERR_DISPOSED', stage: 'notify-listen' });
    this.#listening ??= this.#listen();
    try {
      return (await this.#listening).address;
    } catch (error) {
      this.#listening = null;
      throw error;
    }
  }

  /** A fresh 128-bit secret bound to `listener` until `close()`. */
  register(listener: CallbackListener): CallbackRegistration {
    const secret = randomBytes(16).toString('hex');
    const key = keyOf(Buffer.from(secret));
    this.#procs.set(key, { secret: Buffer.from(secret), listener });
    return {
      secret,
      close: () => {
        this.#procs.delete(key);
      },
    };
  }

  /** Stops listening, drops every connection and forgets every secret. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#procs.clear();
    for (const socket of this.#connections) socket.destroy();
    this.#connections.clear();
    const listening = this.#listening;
    if (listening === null) return;
    const opened = await listening.catch(() => null);
    if (opened === null) return;
    await new Promise<void>((resolve) => opened.server.close(() => resolve()));
  }

  #listen(): Promise<{ server: Server; address: string }> {
    const { host, port } = this.#endpoint;
    return new Promise((resolve, reject) => {
      // Half-open: the sender's EOF may end its message, and the answer still goes back.
      const server = createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
      server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, formatCallbackAddress(host, port))));
      server.listen({ host, port, exclusive: true }, () => {
        server.removeAllListeners('error');
        // A failure after listening (none is expected) must not crash the manager.
        server.on('error', () => {});
        // The listener alone does not keep the process alive: the procs' own watchers do.
        server.unref();
        const bound = server.address();
        const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
        resolve({ server, address: formatCallbackAddress(host, boundPort) });
      });
    });
  }

  #accept(socket: Socket): void {
    socket.on('error', () => {});
    if (this.#closed) {
      socket.destroy();
      return;
    }
    // Evict the oldest rather than refuse the newest: a proc's message arrives whole at
    // once, so a flood of idle connections cannot keep it out.
    if (this.#connections.size >= CALLBACK_LIMITS.maxConnections) {
      const oldest = this.#connections.values().next().value as Socket;
      this.#connections.delete(oldest);
      oldest.destroy();
    }
    this.#connections.add(socket);
    socket.unref();
    const timer = setTimeout(() => socket.destroy(), CALLBACK_LIMITS.connectionMs);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      this.#connections.delete(socket);
    });
    // One fixed buffer, filled in place and searched only where a new byte could end the
    // message: a byte-at-a-time sender costs linear work, not quadratic.
    let received: Buffer | null = null;
    let length = 0;
    let firstNewline = -1;
    let done = false;
    const finish = (end: number): void => {
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.pause();
      // Only the bytes received: the rest of the buffer is uninitialized.
      this.#handle(received === null ? Buffer.alloc(0) : received.subarray(0, length), end);
      socket.end(ACK);
      // Half-closed by us; the peer's close (or our timer, re-armed) ends it.
      setTimeout(() => socket.destroy(), CALLBACK_LIMITS.connectionMs).unref();
    };
    socket.on('data', (chunk: Buffer) => {
      received ??= Buffer.allocUnsafe(CALLBACK_LIMITS.maxBytes + 1);
      // Bytes past the bound cannot change the verdict: never copied or searched.
      const from = length;
      length += chunk.copy(received, from, 0, Math.min(chunk.length, received.length - from));
      if (firstNewline < 0) {
        const at = received.subarray(from, length).indexOf(0x0a);
        if (at >= 0) firstNewline = from + at;
      }
      const blank = firstNewline < 0 ? -1 : received.subarray(0, length).indexOf('\n\n', Math.max(firstNewline, from - 1));
      const end = blank < 0 ? -1 : blank + 1;
      if (end > CALLBACK_LIMITS.maxBytes || (end < 0 && length > CALLBACK_LIMITS.maxBytes)) socket.destroy();
      else if (end >= 0) finish(end);
    });
    socket.once('end', () => {
      if (done) return;
      if (length > CALLBACK_LIMITS.maxBytes) socket.destroy();
      else finish(length);
    });
  }

  /** Hands the message to the proc whose exact secret opens `data`; anything else is dropped. */
  #handle(data: Buffer, end: number): void {
    const newline = data.indexOf(0x0a);
    if (newline !== SECRET_HEX_LENGTH) return;
    const presented = data.subarray(0, SECRET_HEX_LENGTH);
    if (!HEX_SECRET.test(presented.toString('latin1'))) return;
    const entry = this.#procs.get(keyOf(presented));
    if (entry === undefined || !timingSafeEqual(entry.secret, presented)) return;
    try {
      entry.listener(data.subarray(newline + 1, Math.max(newline + 1, end)));
    } catch {
      // A listener bug must not take the listener down with it.
    }
  }
}

function keyOf(secret: Buffer): string {
  return createHash('sha256').update(secret).digest('hex');
}

function listenError(error: NodeJS.ErrnoException, where: string): ProcLauncherError {
  const code = error.code ?? 'EINVAL';
  const errno = typeof error.errno === 'number' && Math.abs(error.errno) < 1000 ? Math.abs(error.errno) : undefined;
  return new ProcLauncherError('launch', `cannot listen for readiness at ${where} (callbackHost): ${code}: ${error.message}`, {
    code,
    ...(errno === undefined ? {} : { errno }),
    ...(error.syscall === undefined ? {} : { syscall: error.syscall }),
    stage: 'notify-listen',
    cause: error,
  });
}

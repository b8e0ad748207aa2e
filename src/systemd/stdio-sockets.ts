// Captured stdio for units, where the bus cannot carry file descriptors (otherwise
// stdio-pipes.ts passes real pipes in the start message). Each captured stream is a
// listening AF_UNIX socket given to the
// unit as `StandardOutputFile=<path>`: systemd connects to a socket path it is given
// (systemd.exec(5), "file:path"), in the forked child before exec, and the accepted
// connection is the stream. It ends when the last process holding it exits.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import type { StdioHandling } from '../contract.js';
import type { LineTail } from '../common/line-tail.js';
import { PipeCapture } from './stdio-pipes.js';

/** sockaddr_un.sun_path holds 108 bytes with the NUL. */
const MAX_SOCKET_PATH = 107;

/** Socket directories still on disk, removed at process exit if dispose() never ran. */
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function removeLiveDirs(): void {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

/** One captured stream: a socket path for the unit and a Readable for the user. */
export class SocketCapture {
  readonly path: string;
  /** What the user reads; ends when the unit's side closes (or never connected). */
  readonly stream = new PassThrough();
  /** Settles when the unit's side has closed, or at finish() when it never connected. */
  readonly ended: Promise<void>;
  readonly #server: Server;
  readonly #dataListeners: ((chunk: Buffer) => void)[] = [];
  #connection: Socket | null = null;
  #connected!: () => void;
  readonly #whenConnected = new Promise<void>((resolve) => (this.#connected = resolve));
  #markEnded!: () => void;

  private constructor(path: string, server: Server) {
    this.path = path;
    this.#server = server;
    this.ended = new Promise((resolve) => (this.#markEnded = resolve));
    server.on('connection', (socket) => {
      if (this.#connection !== null) return void socket.destroy(); // only the unit's first process
      this.#connection = socket;
      this.#closeServer();
      socket.on('error', () => {}); // a reset connection just ends the stream
      socket.once('close', () => this.#markEnded());
      for (const fn of this.#dataListeners) socket.on('data', fn);
      socket.pipe(this.stream);
      this.#connected();
    });
  }

  static open(path: string): Promise<SocketCapture> {
    return new Promise((resolve, reject) => {
      const server = createServer({ allowHalfOpen: false });
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        server.on('error', () => {});
        server.unref(); // the unit keeps the loop alive through the bus, not through this
        resolve(new SocketCapture(path, server));
      });
    });
  }

  /** Calls `fn` with every chunk the unit writes (for a stderr tail), beside the user's stream. */
  onData(fn: (chunk: Buffer) => void): void {
    this.#dataListeners.push(fn);
    this.#connection?.on('data', fn);
  }

  /**
   * The unit is finished: its program connected before exec, so the connection is at most
   * an event-loop turn away. Wait that long (bounded), then stop listening; a stream the
   * unit never connected to ends empty.
   */
  async finish(graceMs: number): Promise<void> {
    if (this.#connection === null) {
      await Promise.race([this.#whenConnected, new Promise((resolve) => setTimeout(resolve, graceMs))]);
    }
    this.#closeServer();
    if (this.#connection === null) {
      this.stream.end();
      this.#markEnded();
    }
  }

  /** Drops everything at once (launch failed, bus lost, dispose). */
  destroy(): void {
    this.#closeServer();
    if (this.#connection !== null) this.#connection.destroy();
    this.stream.end();
    this.#markEnded();
  }

  #closeServer(): void {
    // Closing a listening unix socket also unlinks its path.
    if (this.#server.listening) this.#server.close();
  }
}

/** The launcher's directory of stdio sockets, made on first use, removed by `remove()`. */
export class SocketDir {
  readonly #base: string | null;
  #dir: string | null = null;
  #counter = 0;

  constructor(base: string | null) {
    this.#base = base;
  }

  async open(kind: 'out' | 'err'): Promise<SocketCapture> {
    const dir = this.#ensureDir();
    return SocketCapture.open(join(dir, `${++this.#counter}.${kind}`));
  }

  remove(): void {
    if (this.#dir === null) return;
    rmSync(this.#dir, { recursive: true, force: true });
    liveDirs.delete(this.#dir);
    this.#dir = null;
  }

  #ensureDir(): string {
    if (this.#dir !== null) return this.#dir;
    const candidates = this.#base === null ? [tmpdir()] : [this.#base, tmpdir()];
    // The name must leave room for "/<counter>.err" within sun_path.
    const base = candidates.find((dir) => dir.length + 40 <= MAX_SOCKET_PATH) ?? '/tmp';
    this.#dir = mkdtempSync(join(base, 'proclaunch-stdio-'));
    liveDirs.add(this.#dir);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', removeLiveDirs);
    }
    return this.#dir;
  }
}

/**
 * The sockets one unit needs: stdout and stderr for `wantStdio`, stderr alone when only a
 * tail is kept (then copied to our stderr, as the native backend does; stdout stays with
 * systemd), none otherwise.
 */
export async function openUnitStdio(
  dir: SocketDir,
  wantStdio: boolean,
  tail: LineTail | null,
  usePipes: boolean,
): Promise<{ stdio: StdioHandling; stdout: SocketCapture | PipeCapture | null; stderr: SocketCapture | PipeCapture | null }> {
  if (!wantStdio && tail === null) return { stdio: { kind: 'managed-by-launcher' }, stdout: null, stderr: null };
  // Real pipes when the bus carries fds; listening sockets given by path otherwise.
  const open = async (kind: 'out' | 'err'): Promise<SocketCapture | PipeCapture> => (usePipes ? new PipeCapture() : dir.open(kind));
  const stdout = wantStdio ? await open('out') : null;
  const stderr = await open('err').catch((err: unknown) => {
    stdout?.destroy();
    throw err;
  });
  if (tail !== null) {
    stderr.onData((chunk) => tail.push(chunk));
    void stderr.ended.then(() => tail.end());
  }
  if (stdout !== null) return { stdio: { kind: 'captured', stdout: stdout.stream, stderr: stderr.stream }, stdout, stderr };
  stderr.stream.pipe(process.stderr, { end: false });
  return { stdio: { kind: 'managed-by-launcher' }, stdout, stderr };
}

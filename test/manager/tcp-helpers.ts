// Bits for the readiness-over-TCP tests: a local launcher that poses as a multi-host one
// (so the manager gives its procs the TCP channel only), raw connections to the
// listener, and what /proc/net/tcp says is listening.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

import { NativeProcLauncher, type LaunchOptions, type LaunchResult, type ProcLauncher } from '../../src/index.js';

/**
 * Native procs behind a `hosts()` method, as a multi-host launcher has: the manager then
 * sets no NOTIFY_SOCKET. `pid: null` poses as a launcher that cannot tell the remote pid;
 * `beforeResult` holds the launch result back (a remote proc reporting before srun does).
 */
export class RemoteLikeLauncher implements ProcLauncher {
  readonly #inner = new NativeProcLauncher();
  readonly launched: LaunchOptions[] = [];

  constructor(private readonly opts: { hidePid?: boolean; beforeResult?: () => Promise<void> } = {}) {}

  async hosts(): Promise<string[]> {
    return ['localhost'];
  }

  async launch(procId: string, opts: LaunchOptions): Promise<LaunchResult> {
    this.launched.push(opts);
    const result = await this.#inner.launch(procId, opts);
    await this.opts.beforeResult?.();
    return this.opts.hidePid === true ? { ...result, pid: null } : result;
  }

  terminate(procId: string, timeoutMs: number): Promise<void> {
    return this.#inner.terminate(procId, timeoutMs);
  }

  kill(procId: string): Promise<void> {
    return this.#inner.kill(procId);
  }

  dispose(): Promise<void> {
    return this.#inner.dispose();
  }
}

export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}

export interface RawReply {
  /** What the listener sent back before the connection ended. */
  answer: string;
  /** How it ended: 'closed' (by either side, cleanly) or the error code. */
  ended: string;
}

/** Sends `bytes` on one connection (then EOF unless `keepOpen`) and collects the answer until the connection ends (bounded). */
export function sendRaw(address: string, bytes: string | Buffer, { keepOpen = false, boundMs = 20_000 } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(splitAddress(address));
    let answer = '';
    let ended = 'closed';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`sendRaw: the connection to ${address} did not end within ${boundMs} ms`));
    }, boundMs);
    socket.on('connect', () => (keepOpen ? socket.write(bytes) : socket.end(bytes)));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', (error: NodeJS.ErrnoException) => (ended = error.code ?? error.message));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, ended });
    });
  });
}

/** A connection that stays open until the listener drops it; `closed` resolves then. */
export function openIdle(address: string, firstBytes = ''): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(splitAddress(address));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => {});
    socket.once('connect', () => {
      if (firstBytes !== '') socket.write(firstBytes);
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

/** Connects and reports the outcome: 'connected' or the error code (ECONNREFUSED once nothing listens). */
export function probe(address: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(splitAddress(address));
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Local ports in state LISTEN on IPv4 and IPv6 (this network namespace). */
export function listeningPorts(): number[] {
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || fields[3] !== '0A') continue;
      ports.push(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

// The sender side of readiness over TCP, for `proclaunch/notify` in a proc that cannot
// reach the manager's Unix socket: one connection per message, the proc's secret on the
// first line, the assignments, an empty line; the manager answers "OK\n" once it has
// handled the message (so, as with the Unix barrier, the caller may exit right after).
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';

import { NOTIFY_ADDR_ENV, NOTIFY_SECRET_ENV, parseCallbackHost, SECRET_HEX_LENGTH } from './callback-host.js';

export interface TcpTarget {
  host: string;
  port: number;
  /** As given in PROCLAUNCH_NOTIFY_ADDR, for messages. */
  address: string;
  secret: string;
}

/** A connection closed without the answer (the manager shed it under load) is tried again this often, spaced out. */
const RETRY_DELAY_MS = 50;
const ACK = 'OK\n';

/** True when the environment names a TCP channel (both variables, or either one: a half-set pair is an error when used). */
export function hasTcpTarget(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env[NOTIFY_ADDR_ENV] ?? '') !== '' || (env[NOTIFY_SECRET_ENV] ?? '') !== '';
}

/** PROCLAUNCH_NOTIFY_ADDR and PROCLAUNCH_NOTIFY_SECRET, checked: a RangeError names the variable at fault. */
export function readTcpTarget(env: NodeJS.ProcessEnv = process.env): TcpTarget {
  const address = env[NOTIFY_ADDR_ENV] ?? '';
  const secret = env[NOTIFY_SECRET_ENV] ?? '';
  if (address === '') throw new RangeError(`${NOTIFY_SECRET_ENV} is set but ${NOTIFY_ADDR_ENV} is not: both are needed to notify over TCP`);
  const { host, port } = parseCallbackHost(address, NOTIFY_ADDR_ENV, true);
  if (!new RegExp(`^[0-9a-f]{${SECRET_HEX_LENGTH}}$`).test(secret)) {
    throw new RangeError(`${NOTIFY_SECRET_ENV} must be ${SECRET_HEX_LENGTH} lowercase hex digits (as the manager sets it)${secret === '' ? ', and it is not set' : ''}`);
  }
  return { host, port, address, secret };
}

/** What goes on the wire: empty lines carry nothing in sd_notify, and one would end the message early. */
export function formatTcpPayload(target: TcpTarget, message: string): string {
  const body = message.replace(/\0$/, '').split('\n').filter((line) => line !== '').join('\n');
  return `${target.secret}\n${body}\n\n`;
}

/** Sends and waits for the manager's answer; rejects with `code` ECONNREFUSED (nobody listens), ETIMEDOUT, or the socket's own. */
export async function sendOverTcp(target: TcpTarget, message: string, timeoutMs: number): Promise<void> {
  const payload = formatTcpPayload(target, message);
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const outcome = await sendOnce(target, payload, deadline - Date.now());
    if (outcome === 'ok') return;
    if (outcome instanceof Error) throw outcome;
    // Closed unanswered: try again while time is left.
    const pause = Math.min(RETRY_DELAY_MS * attempt, deadline - Date.now());
    if (pause <= 0) throw timeoutError(target, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

function sendOnce(target: TcpTarget, payload: string, ms: number): Promise<'ok' | 'unanswered' | Error> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    let answer = '';
    let settled = false;
    const settle = (outcome: 'ok' | 'unanswered' | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle(timeoutError(target, ms)), Math.max(1, ms));
    socket.setNoDelay(true);
    socket.once('connect', () => socket.end(payload));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.startsWith(ACK)) settle('ok');
      else if (answer.length >= ACK.length) settle('unanswered');
    });
    socket.once('close', () => settle('unanswered'));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      // Refused or unreachable: nobody listens there; a reset: shed, worth another try.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') settle('unanswered');
      else settle(Object.assign(new Error(`proclaunch/notify: could not notify ${target.address}: ${error.code ?? error.message}`, { cause: error }), { code: error.code, errno: error.errno, syscall: error.syscall }));
    });
  });
}

function timeoutError(target: TcpTarget, ms: number): Error {
  return Object.assign(new Error(`proclaunch/notify: ${target.address} did not confirm the message within ${ms} ms`), { code: 'ETIMEDOUT' });
}

// notifySync's sender: Node has no blocking socket, so a child Node does the send and the
// parent blocks in execFileSync. The secret travels in the child's environment, never argv.
const SYNC_SENDER = `
const net = require('node:net');
const { host, port, payload, timeoutMs } = JSON.parse(process.env.PROCLAUNCH_NOTIFY_SYNC);
const deadline = Date.now() + timeoutMs;
function attempt(n) {
  const left = deadline - Date.now();
  if (left <= 0) { process.stderr.write('ETIMEDOUT'); process.exit(3); }
  const s = net.connect({ host, port });
  let answer = '';
  const t = setTimeout(() => { process.stderr.write('ETIMEDOUT'); process.exit(3); }, left);
  s.on('connect', () => s.end(payload));
  s.on('data', (c) => { answer += c.toString('latin1'); if (answer.startsWith('OK\\n')) process.exit(0); });
  s.on('error', (e) => { if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') { process.stderr.write(String(e.code)); process.exit(2); } });
  s.on('close', () => { clearTimeout(t); setTimeout(() => attempt(n + 1), Math.min(${RETRY_DELAY_MS} * n, Math.max(0, deadline - Date.now()))); });
}
attempt(1);
`;

/** `sendOverTcp`, blocking. */
export function sendOverTcpSync(target: TcpTarget, message: string, timeoutMs: number): void {
  const payload = formatTcpPayload(target, message);
  const env = { ...process.env, PROCLAUNCH_NOTIFY_SYNC: JSON.stringify({ host: target.host, port: target.port, payload, timeoutMs }) };
  try {
    execFileSync(process.execPath, ['-e', SYNC_SENDER], { env, timeout: timeoutMs + 5000, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const code = (error as { stderr?: Buffer }).stderr?.toString().trim() || 'ETIMEDOUT';
    if (code === 'ETIMEDOUT') throw timeoutError(target, timeoutMs);
    throw Object.assign(new Error(`proclaunch/notify: could not notify ${target.address}: ${code}`, { cause: error }), { code });
  }
}

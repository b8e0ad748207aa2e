// `proclaunch/notify`: sd_notify for Node programs run under a ProcManager (or systemd).
//
// Node cannot send an AF_UNIX datagram (dgram is UDP only, net is stream only), so the
// addon sends it; where the addon cannot be loaded, a tiny helper process does (the
// stock `systemd-notify`, else python3). Every path then waits in a barrier
// (BARRIER=1 with a pipe fd the receiver closes once it has handled everything before
// it), so when `notify()` resolves the manager has already seen and attributed the
// message, and the caller may exit at once.
//
// A proc the manager reaches over TCP (callbackHost: another host or network namespace)
// has PROCLAUNCH_NOTIFY_ADDR and PROCLAUNCH_NOTIFY_SECRET; NOTIFY_SOCKET, when also set,
// is tried first and TCP used only when that socket does not exist here (notify-tcp.ts).
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { delimiter, join } from 'node:path';

import { codeOfErrno } from '../common/system-error.js';
import { describeValue } from '../common/validate.js';
import { addon, isFailure } from '../native/addon.js';
import { hasTcpTarget, readTcpTarget, sendOverTcp, sendOverTcpSync } from './notify-tcp.js';

export type NotifyValue = string | number | boolean;
/** VARIABLE=VALUE fields, e.g. { READY: 1, STATUS: 'listening', PROCLAUNCH_ADDR: 'tcp://…' }. */
export type NotifyFields = Readonly<Record<string, NotifyValue>>;

export interface NotifyOptions {
  /** The socket to notify (default: $NOTIFY_SOCKET, else TCP through $PROCLAUNCH_NOTIFY_ADDR). Given, only it is used. */
  socket?: string;
  /** How long to wait for the receiver to confirm: an integer from 1 to 2147483647 (default: 5000 ms). */
  timeoutMs?: number;
}

export interface ReadyInfo {
  /** Sent as STATUS=… */
  status?: string;
  /** Sent as PROCLAUNCH_ADDR=…: becomes the proc's `addr`. */
  addr?: string;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** poll() and setTimeout() both take a signed 32-bit millisecond count. */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** The longest datagram a receiver accepts: a pipe buffer (systemd's NOTIFY_BUFFER_MAX); longer ones are dropped. */
export const MAX_NOTIFY_MESSAGE_BYTES = 4096;

// A complete sd_notify sender with barrier, for machines without systemd-notify.
const PYTHON_SENDER = `
import array, os, select, socket, sys
address, message, timeout_ms = os.environ['NOTIFY_SOCKET'], sys.argv[1].encode(), int(sys.argv[2])
if address.startswith('@'):
    address = '\\0' + address[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
s.connect(address)
s.sendall(message)
r, w = os.pipe()
s.sendmsg([b'BARRIER=1'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [w]))])
os.close(w)
p = select.poll()
p.register(r, select.POLLHUP)
sys.exit(0 if p.poll(timeout_ms) else 3)
`;

/** Joins fields into an sd_notify message; a value may not hold a newline (it would start a new field). */
export function formatNotifyMessage(fields: NotifyFields): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new RangeError(`notify field name ${JSON.stringify(key)} is not a VARIABLE name`);
    const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    if (text.includes('\n')) throw new RangeError(`notify field ${key} must not contain a newline`);
    if (text.includes('\0')) throw new RangeError(`notify field ${key} must not contain a NUL byte (the receiver would ignore the whole message)`);
    lines.push(`${key}=${text}`);
  }
  if (lines.length === 0) throw new RangeError('notify needs at least one field');
  return lines.join('\n');
}

/**
 * Sends `fields` (or a preformatted message) to the notify socket and waits until the
 * receiver has handled it. Resolves false when there is no socket to notify (not run
 * under a manager), true once delivered; rejects when it could not be delivered.
 */
export async function notify(fields: NotifyFields | string, options: NotifyOptions = {}): Promise<boolean> {
  const target = targetOf(fields, options);
  if (target === null) return false;
  const barrier = useTcp(target) ? null : sendOrFallBack(target);
  if (barrier === null) {
    await sendOverTcp(readTcpTarget(), target.message, target.timeoutMs);
    return true;
  }
  if (barrier !== undefined) {
    await awaitBarrier(barrier, target);
    return true;
  }
  const plan = planSend(target);
  await new Promise<void>((resolve, reject) => {
    execFile(plan.file, plan.args, { env: plan.env, timeout: plan.timeoutMs + 1000 }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(sendError(plan, error, stderr));
    });
  });
  return true;
}

/** `notify` for code that cannot await (blocks until the receiver has handled the message). */
export function notifySync(fields: NotifyFields | string, options: NotifyOptions = {}): boolean {
  const target = targetOf(fields, options);
  if (target === null) return false;
  const barrier = useTcp(target) ? null : sendOrFallBack(target);
  if (barrier === null) {
    sendOverTcpSync(readTcpTarget(), target.message, target.timeoutMs);
    return true;
  }
  if (barrier !== undefined) {
    if (!addon().awaitBarrierSync(barrier, target.timeoutMs)) throw barrierTimeout(target);
    return true;
  }
  const plan = planSend(target);
  try {
    execFileSync(plan.file, plan.args, { env: plan.env, timeout: plan.timeoutMs + 1000, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw sendError(plan, error as Error, (error as { stderr?: Buffer }).stderr?.toString() ?? '');
  }
  return true;
}

/** READY=1, with an optional status text and address. */
export function notifyReady(info: ReadyInfo = {}, options: NotifyOptions = {}): Promise<boolean> {
  const fields: Record<string, NotifyValue> = { READY: 1 };
  if (info.status !== undefined) fields['STATUS'] = info.status;
  if (info.addr !== undefined) fields['PROCLAUNCH_ADDR'] = info.addr;
  return notify(fields, options);
}

/** STATUS=text: kept as the proc's `statusText`. */
export function notifyStatus(text: string, options: NotifyOptions = {}): Promise<boolean> {
  return notify({ STATUS: text }, options);
}

interface NotifyTarget {
  /** '' when there is no NOTIFY_SOCKET (the TCP variables are set). */
  socket: string;
  message: string;
  timeoutMs: number;
  /** The TCP variables may be used: the socket was not given as an option. */
  tcpAllowed: boolean;
}

/** Checks everything before anything is sent, so a message the receiver would drop is never reported as delivered. */
function targetOf(fields: NotifyFields | string, options: NotifyOptions): NotifyTarget | null {
  const message = typeof fields === 'string' ? fields : formatNotifyMessage(fields);
  checkMessage(message);
  const timeoutMs = checkTimeout(options.timeoutMs);
  const tcpAllowed = options.socket === undefined && hasTcpTarget();
  const socket = options.socket ?? process.env['NOTIFY_SOCKET'] ?? '';
  if (socket === '') return tcpAllowed ? { socket, message, timeoutMs, tcpAllowed } : null;
  if (!socket.startsWith('/') && !socket.startsWith('@')) throw new RangeError(`NOTIFY_SOCKET must be a path or an @abstract name, got ${JSON.stringify(socket)}`);
  return { socket, message, timeoutMs, tcpAllowed };
}

/** No NOTIFY_SOCKET, or (without the addon to try it) one that does not exist in this network namespace. */
function useTcp(target: NotifyTarget): boolean {
  if (!target.tcpAllowed) return false;
  if (target.socket === '') return true;
  if (addonLoads()) return false;
  return !socketExists(target.socket);
}

function addonLoads(): boolean {
  try {
    addon();
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends over NOTIFY_SOCKET: the barrier fd, undefined when the addon is unavailable, or
 * null when the socket does not exist here and TCP is set (another host's socket).
 */
function sendOrFallBack(target: NotifyTarget): number | null | undefined {
  try {
    return sendNatively(target);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // ENOENT: no such path; ECONNREFUSED: no such abstract name in this network namespace.
    if (target.tcpAllowed && (code === 'ENOENT' || code === 'ECONNREFUSED')) return null;
    throw error;
  }
}

/** A path socket is a file; an abstract one is listed in /proc/net/unix (of our own network namespace). */
function socketExists(socket: string): boolean {
  if (socket.startsWith('/')) return existsSync(socket);
  try {
    return readFileSync('/proc/net/unix', 'utf8').split('\n').some((line) => line.endsWith(` ${socket}`));
  } catch {
    return true;
  }
}

function checkMessage(message: string): void {
  if (typeof message !== 'string') throw new TypeError(`notify message must be a string or an object of fields, got ${describeValue(message)}`);
  const bytes = Buffer.byteLength(message);
  if (bytes > MAX_NOTIFY_MESSAGE_BYTES) {
    throw Object.assign(new RangeError(`notify message is ${bytes} bytes, over the ${MAX_NOTIFY_MESSAGE_BYTES}-byte limit of sd_notify receivers (it would be dropped)`), { code: 'EMSGSIZE' });
  }
  const nul = message.indexOf('\0');
  if (nul >= 0 && nul < message.length - 1) throw new RangeError('notify message must not contain a NUL byte (the receiver would ignore the whole message)');
}

function checkTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  if (typeof value !== 'number') throw new TypeError(`timeoutMs must be a number, got ${describeValue(value)}`);
  if (!Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MS) {
    throw new RangeError(`timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS} (milliseconds), got ${value}`);
  }
  return value;
}

/** Sends through the addon; the barrier's read end, or undefined when the addon is unavailable. */
function sendNatively(target: NotifyTarget): number | undefined {
  let native: ReturnType<typeof addon>;
  try {
    native = addon();
  } catch {
    return undefined;
  }
  const result = native.sendNotify(target.socket, target.message);
  if (isFailure(result)) {
    const code = codeOfErrno(result.errno);
    throw Object.assign(new Error(`proclaunch/notify: could not notify ${target.socket}: ${code} (${result.stage})`), {
      code,
      errno: result.errno,
      syscall: result.syscall,
    });
  }
  return result;
}

/** EOF on the barrier pipe: the receiver closed its end, having handled our message. */
function awaitBarrier(fd: number, target: NotifyTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    const pipe = new Socket({ fd, readable: true, writable: false });
    const timer = setTimeout(() => {
      pipe.destroy();
      reject(barrierTimeout(target));
    }, target.timeoutMs);
    pipe.on('data', () => {});
    pipe.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    pipe.once('error', () => {});
  });
}

function barrierTimeout(target: NotifyTarget): Error {
  return Object.assign(new Error(`proclaunch/notify: ${target.socket} did not confirm the message within ${target.timeoutMs} ms`), { code: 'ETIMEDOUT' });
}

interface SendPlan {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  via: string;
}

/** The helper-process fallback, for where the addon cannot be loaded. */
function planSend({ socket, message, timeoutMs }: NotifyTarget): SendPlan {
  const env = { ...process.env, NOTIFY_SOCKET: socket };
  const systemdNotify = findProgram('systemd-notify');
  if (systemdNotify !== null) {
    // systemd-notify sends every VARIABLE=VALUE argument, then waits in sd_notify_barrier.
    return { file: systemdNotify, args: ['--', ...message.split('\n')], env, timeoutMs, via: 'systemd-notify' };
  }
  const python = findProgram('python3');
  if (python !== null) return { file: python, args: ['-c', PYTHON_SENDER, message, String(timeoutMs)], env, timeoutMs, via: 'python3' };
  throw new Error('proclaunch/notify needs systemd-notify or python3 in PATH to send an AF_UNIX datagram');
}

function findProgram(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function sendError(plan: SendPlan, error: Error, stderr: string): Error {
  const detail = stderr.trim();
  return new Error(`proclaunch/notify: ${plan.via} could not notify ${plan.env['NOTIFY_SOCKET']}: ${detail || error.message}`, { cause: error });
}

// Readiness across hosts: where a proc on another host reaches the manager over TCP
// (monarch's bootstrap callback_addr), and the environment variables that tell it.
import { isIP } from 'node:net';

import { describeValue } from '../common/validate.js';

/** `host:port` of the manager's readiness listener (IPv6 as `[addr]:port`). */
export const NOTIFY_ADDR_ENV = 'PROCLAUNCH_NOTIFY_ADDR';
/** The proc's own secret: 32 lowercase hex digits (128 random bits). */
export const NOTIFY_SECRET_ENV = 'PROCLAUNCH_NOTIFY_SECRET';
export const SECRET_HEX_LENGTH = 32;

export interface CallbackEndpoint {
  /** A hostname, an IPv4 address, or an IPv6 address without brackets. */
  host: string;
  /** 0: an ephemeral port chosen at listen time. */
  port: number;
}

const MAX_HOST_LENGTH = 253;
// RFC 1123 labels, plus '_' (found in real cluster node names); no leading or trailing '-'.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const UNSPECIFIED = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

/**
 * Parses `host`, `host:port`, `v6addr`, `[v6addr]` or `[v6addr]:port`. Throws a
 * TypeError/RangeError naming `option`. `portRequired`: for an advertised address.
 */
export function parseCallbackHost(value: unknown, option = 'callbackHost', portRequired = false): CallbackEndpoint {
  if (typeof value !== 'string') throw new TypeError(`${option} must be a string (a host name or IP address, optionally with ":port"), got ${describeValue(value)}`);
  if (value.length === 0) throw new RangeError(`${option} must not be empty`);
  const { host, portText } = splitHostPort(value, option);
  if (host.length > MAX_HOST_LENGTH || (isIP(host) === 0 && !HOSTNAME.test(host))) {
    throw new RangeError(`${option} must be a host name or an IP address, got ${JSON.stringify(value)}`);
  }
  if (UNSPECIFIED.has(host)) {
    throw new RangeError(`${option} must be an address the procs can reach us at, not the unspecified address ${host} (got ${JSON.stringify(value)})`);
  }
  if (portText === undefined) {
    if (portRequired) throw new RangeError(`${option} must be "host:port", got ${JSON.stringify(value)}`);
    return { host, port: 0 };
  }
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
  const min = portRequired ? 1 : 0;
  if (!(port >= min && port <= 65535)) throw new RangeError(`${option}: the port must be an integer from ${min} to 65535, got ${JSON.stringify(portText)} in ${JSON.stringify(value)}`);
  return { host, port };
}

function splitHostPort(value: string, option: string): { host: string; portText?: string } {
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    const host = close < 0 ? '' : value.slice(1, close);
    const rest = close < 0 ? '' : value.slice(close + 1);
    if (isIP(host) !== 6 || (rest !== '' && !rest.startsWith(':'))) {
      throw new RangeError(`${option}: a bracketed address must be an IPv6 address, as "[::1]" or "[::1]:port", got ${JSON.stringify(value)}`);
    }
    return rest === '' ? { host } : { host, portText: rest.slice(1) };
  }
  // A bare IPv6 address has no port (its last group would be read as one).
  if (isIP(value) === 6) return { host: value };
  const colon = value.lastIndexOf(':');
  return colon < 0 ? { host: value } : { host: value.slice(0, colon), portText: value.slice(colon + 1) };
}

/** The value of PROCLAUNCH_NOTIFY_ADDR for a listener at `host`, `port`. */
export function formatCallbackAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}


/**
 * A launcher whose procs may run on another host (a multi-host launcher: 'slurm', or an
 * instance with a `hosts()` method). With callbackHost, its procs get the TCP channel
 * only: a Unix socket there is absent, or reachable yet unable to vouch for a sender
 * outside our process tree (it would drop the message while confirming it).
 */
export function runsProcsElsewhere(launcher: unknown): boolean {
  if (launcher === 'slurm') return true;
  return typeof launcher === 'object' && launcher !== null && typeof (launcher as { hosts?: unknown }).hosts === 'function';
}

// Small option checkers: every failure names the option, as TypeError or RangeError,
// and strings that cannot reach the kernel (a NUL byte) are rejected up front.
import { types } from 'node:util';

import { ProcLauncherError } from '../contract.js';

const EINVAL = 22;

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  // Before Array.isArray, which throws on a revoked Proxy; isProxy runs no trap.
  if (types.isProxy(value)) return 'a Proxy';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  return `type ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  try {
    if (Array.isArray(value)) return false;
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  } catch {
    return false; // a revoked Proxy, or a getPrototypeOf trap that throws
  }
}

/** What a getter or Proxy trap threw while `option` was read, as a TypeError naming it. */
export function unreadableOption(option: string, error: unknown): TypeError {
  let reason: string;
  try {
    reason = error instanceof Error ? error.message : String(error);
  } catch {
    reason = 'it threw a value that cannot be shown';
  }
  return new TypeError(`${option} could not be read: ${reason}`, { cause: error });
}

function ownKeysOf(value: object, option: string): string[] {
  try {
    return Object.keys(value);
  } catch (error) {
    throw unreadableOption(option, error);
  }
}

/**
 * A plain copy of an options object, each property read exactly once: a throwing
 * getter or Proxy trap becomes a TypeError naming the option, and what is validated
 * is what is used (a getter cannot answer differently the second time).
 */
export function readOptionObject(value: unknown, option: string, known?: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(value)) throw new TypeError(`${option} must be an object, got ${describeValue(value)}`);
  const keys = ownKeysOf(value, option);
  if (known !== undefined) checkKeyList(keys, known, option);
  // No prototype: a key named "__proto__" stays a plain entry.
  const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of keys) {
    try {
      copy[key] = value[key];
    } catch (error) {
      throw unreadableOption(`${option}.${key}`, error);
    }
  }
  return copy;
}

function isArrayValue(value: unknown): value is readonly unknown[] {
  try {
    return Array.isArray(value);
  } catch {
    return false; // a revoked Proxy
  }
}

/**
 * A dense array of NUL-free strings, copied. Sparse arrays (`new Array(2)`, `['a', , 'b']`)
 * and array-likes are rejected, naming the element (`opts.command.args[1]`); so is
 * anything whose reading throws. More than `maxLength` elements: `onTooLong()` decides.
 */
export function readStringArray(value: unknown, option: string, maxLength: number, onTooLong: (length: number) => Error): string[] {
  if (!isArrayValue(value)) throw new TypeError(`${option} must be an array of strings, got ${describeValue(value)}`);
  let length: unknown;
  try {
    length = value.length;
  } catch (error) {
    throw unreadableOption(`${option}.length`, error);
  }
  // Only a Proxy can answer something else than an array length.
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
    throw new TypeError(`${option} has an invalid length ${String(length)}`);
  }
  if (length > maxLength) throw onTooLong(length);
  const out: string[] = [];
  for (let i = 0; i < length; i++) {
    let item: unknown;
    let present = true;
    try {
      item = value[i];
      if (item === undefined) present = i in value;
    } catch (error) {
      throw unreadableOption(`${option}[${i}]`, error);
    }
    if (!present) throw new TypeError(`${option}[${i}] is a hole: sparse arrays are not accepted`);
    out.push(checkString(item, `${option}[${i}]`));
  }
  return out;
}

/** Rejects keys that are not in `known`, suggesting the closest known name. */
export function checkKnownKeys(value: Record<string, unknown>, known: readonly string[], option: string): void {
  checkKeyList(ownKeysOf(value, option), known, option);
}

function checkKeyList(keys: readonly string[], known: readonly string[], option: string): void {
  for (const key of keys) {
    if (known.includes(key)) continue;
    const suggestion = known.find((k) => k.toLowerCase() === key.toLowerCase()) ?? closestName(key, known);
    const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
    throw new TypeError(`Unknown option "${key}" in ${option}${hint}; known options: ${known.join(', ')}`);
  }
}

/** The known name closest to `key` (edit distance under 3, case ignored), if any: for "did you mean". */
export function closestName(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** A string without NUL bytes (a NUL cannot cross execve: ProcLauncherError EINVAL). */
export function checkString(value: unknown, option: string, { nonEmpty = false } = {}): string {
  if (typeof value !== 'string') throw new TypeError(`${option} must be a string, got ${describeValue(value)}`);
  if (nonEmpty && value.length === 0) throw new RangeError(`${option} must not be empty`);
  if (value.includes('\0')) {
    throw new ProcLauncherError('launch', `${option} contains a NUL byte, which cannot be passed to a process`, {
      code: 'EINVAL',
      errno: EINVAL,
      stage: 'validate',
    });
  }
  return value;
}

export function checkOptionalString(value: unknown, option: string): string | undefined {
  return value === undefined ? undefined : checkString(value, option);
}

export function checkBoolean(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${option} must be a boolean, got ${describeValue(value)}`);
  return value;
}

/** A finite integer in [min, max]. */
export function checkInteger(value: unknown, option: string, min: number, max: number): number {
  if (typeof value !== 'number') throw new TypeError(`${option} must be a number, got ${describeValue(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${option} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** A duration in milliseconds: finite and >= 0. */
export function checkTimeoutMs(value: unknown, option: string): number {
  if (typeof value !== 'number') throw new TypeError(`${option} must be a number of milliseconds, got ${describeValue(value)}`);
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${option} must be a finite number of milliseconds >= 0, got ${value}`);
  }
  // setTimeout cannot wait longer than 2^31-1 ms.
  if (value > 2 ** 31 - 1) throw new RangeError(`${option} must be at most ${2 ** 31 - 1} ms, got ${value}`);
  return value;
}

export function checkProcId(value: unknown): string {
  return checkString(value, 'procId', { nonEmpty: true });
}

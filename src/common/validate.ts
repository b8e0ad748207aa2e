// Small option checkers: every failure names the option, as TypeError or RangeError,
// and strings that cannot reach the kernel (a NUL byte) are rejected up front.
import { ProcLauncherError } from '../contract.js';

const EINVAL = 22;

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  return `type ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Rejects keys that are not in `known`, suggesting the closest known name. */
export function checkKnownKeys(value: Record<string, unknown>, known: readonly string[], option: string): void {
  for (const key of Object.keys(value)) {
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

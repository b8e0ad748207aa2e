// Reads the `rlimits` option: each key a resource, each value a number (soft = hard) or
// [soft, hard], in prlimit(1) units (bytes, seconds for cpu, counts); Infinity = unlimited.
import type { RlimitName } from '../contract.js';
import { describeValue, readOptionObject } from './validate.js';

export interface NormalizedRlimit {
  name: RlimitName;
  /** RLIMIT_* from <sys/resource.h>. */
  resource: number;
  /** Infinity = RLIM_INFINITY. */
  soft: number;
  hard: number;
}

/** RLIMIT_* numbers (asm-generic/resource.h, the same on every Linux architecture we build for). */
export const RLIMIT_RESOURCES: Readonly<Record<RlimitName, number>> = {
  cpu: 0,
  fsize: 1,
  stack: 3,
  core: 4,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
};
const RLIMIT_KEYS = Object.keys(RLIMIT_RESOURCES) as RlimitName[];

export function normalizeRlimits(value: unknown): NormalizedRlimit[] {
  const limits = readOptionObject(value, 'opts.rlimits', RLIMIT_KEYS);
  const out: NormalizedRlimit[] = [];
  for (const name of RLIMIT_KEYS) {
    const entry = limits[name];
    if (entry === undefined) continue;
    const option = `opts.rlimits.${name}`;
    let soft: number;
    let hard: number;
    if (typeof entry === 'number') {
      soft = hard = checkLimit(entry, option);
    } else if (Array.isArray(entry)) {
      // A plain copy first: a sparse or odd-length pair is refused as a whole.
      const pair = [...(entry as unknown[])];
      if (pair.length !== 2 || !(0 in entry) || !(1 in entry)) {
        throw new TypeError(`${option} must be a number or a [soft, hard] pair, got an array of ${pair.length} elements`);
      }
      soft = checkLimit(pair[0], `${option}[0] (soft)`);
      hard = checkLimit(pair[1], `${option}[1] (hard)`);
      if (soft > hard) throw new RangeError(`${option}: the soft limit ${soft} is above the hard limit ${hard}`);
    } else {
      throw new TypeError(`${option} must be a number or a [soft, hard] pair, got ${describeValue(entry)}`);
    }
    out.push({ name, resource: RLIMIT_RESOURCES[name], soft, hard });
  }
  return out;
}

function checkLimit(value: unknown, option: string): number {
  if (typeof value !== 'number') throw new TypeError(`${option} must be a number, got ${describeValue(value)}`);
  if (value === Infinity) return value;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${option} must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, or Infinity (unlimited), got ${value}`);
  }
  return value;
}

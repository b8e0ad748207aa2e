// SlurmProcLauncher's constructor options: validated once, misspelled names rejected with
// a did-you-mean, and the allocation-making options refused next to an existing allocation
// (they would be silently ignored there).
import { checkInteger, checkString, checkTimeoutMs, readOptionObject } from '../common/validate.js';

export interface SlurmProcLauncherOptions {
  /** Job id of an existing, running allocation to run the steps in; it is never cancelled (default: the launcher allocates one). */
  allocation?: string;
  /** Nodes to allocate when no `allocation` is given (default: 1). */
  nodes?: number;
  /** Partition for the allocation the launcher makes (default: the cluster's default partition). */
  partition?: string;
  /** Account for the allocation the launcher makes (default: the user's default account). */
  account?: string;
  /** Time limit for the allocation the launcher makes, in Slurm's format ("30", "1:00:00", "1-0") (default: the partition's). */
  timeLimit?: string;
  /** How long `dispose()` lets each step handle SIGTERM before SIGKILL (default: 10_000). */
  stopTimeoutMs?: number;
}

export interface ResolvedSlurmOptions {
  allocation: string | undefined;
  nodes: number;
  partition: string | undefined;
  account: string | undefined;
  timeLimit: string | undefined;
  stopTimeoutMs: number;
}

const OPTION_KEYS = ['allocation', 'nodes', 'partition', 'account', 'timeLimit', 'stopTimeoutMs'] as const;
const MAKING_KEYS = ['nodes', 'partition', 'account', 'timeLimit'] as const;
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const MAX_NODES = 100_000;

export function resolveSlurmOptions(value: unknown): ResolvedSlurmOptions {
  const options = readOptionObject(value === undefined ? {} : value, 'SlurmProcLauncher options', OPTION_KEYS);
  const allocation = options['allocation'] === undefined ? undefined : checkJobId(options['allocation']);
  if (allocation !== undefined) {
    const given = MAKING_KEYS.filter((key) => options[key] !== undefined);
    if (given.length > 0) {
      throw new RangeError(`${given.join(', ')} only apply to an allocation the launcher makes; with allocation "${allocation}" leave them out`);
    }
  }
  const optional = (key: 'partition' | 'account' | 'timeLimit'): string | undefined =>
    options[key] === undefined ? undefined : checkSlurmWord(options[key], key);
  return {
    allocation,
    nodes: options['nodes'] === undefined ? 1 : checkInteger(options['nodes'], 'nodes', 1, MAX_NODES),
    partition: optional('partition'),
    account: optional('account'),
    timeLimit: optional('timeLimit'),
    stopTimeoutMs: options['stopTimeoutMs'] === undefined ? DEFAULT_STOP_TIMEOUT_MS : checkTimeoutMs(options['stopTimeoutMs'], 'stopTimeoutMs'),
  };
}

function checkJobId(value: unknown): string {
  const text = checkString(value, 'allocation', { nonEmpty: true });
  if (!/^[0-9]+$/.test(text)) throw new RangeError(`allocation must be a Slurm job id (digits), got ${JSON.stringify(text)}`);
  return text;
}

/** A value passed as one salloc argument: non-empty, no whitespace or control characters. */
function checkSlurmWord(value: unknown, option: string): string {
  const text = checkString(value, option, { nonEmpty: true });
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f]/.test(text)) throw new RangeError(`${option} must not contain whitespace or control characters, got ${JSON.stringify(text)}`);
  return text;
}

// What a backend tells the contract suite: how to get its launcher, and what it can
// offer. Where a backend cannot offer something, the suite asserts the documented
// alternative (absent field, clear error) instead of skipping the test.
import { expect, it } from 'vitest';

import type { LaunchResult, ProcExitResult, ProcLauncher } from '../../src/index.js';

export interface ContractCapabilities {
  /** `result.pid` is a pid of this machine's pid namespace, so /proc/<pid> tells about the proc. Else pid is null or remote. */
  localPids: boolean;
  /** `exit.rusage` is the leader's own usage (waitid); else it is absent. */
  rusage: boolean;
  /** `exit.treeUsage`: cpuMs with the user/system split, the total only, or absent. */
  treeUsage: 'split' | 'total' | 'none';
  /** `exit.orphansKilled` counts what was left of the group when the leader exited; else it is absent. */
  orphansKilled: boolean;
  /** `command.arg0` becomes argv[0]; else launch rejects with a TypeError/RangeError naming opts.command.arg0. */
  arg0: boolean;
  /** `procBind` is applied; else launch rejects with an error naming opts.procBind. */
  procBind: boolean;
  /**
   * 'written': a SIGSEGV with RLIMIT_CORE left as is writes a core into the proc's cwd and
   * `coreDumped` says so; 'agrees': `coreDumped` agrees with the disk, whatever the backend's core policy.
   */
  signalsWithCore: 'written' | 'agrees';
  /** What `stdio` is without `wantStdio`. */
  uncapturedStdio: 'inherited' | 'managed-by-launcher';
  /** What termination reaches: the process group (a setsid'd descendant escapes: the documented limit), or the whole tree. */
  treeKill: 'group' | 'tree';
  /**
   * What dispose does to a proc still running: 'kill' (SIGKILL at once), or 'terminate' (SIGTERM,
   * SIGKILL after the launcher's stop timeout: a well-behaved proc ends by SIGTERM).
   */
  dispose: 'kill' | 'terminate';
  /** When `exit` resolves the pid is already gone (the launcher reaped it itself); else it goes soon after. */
  pidGoneAtExit: boolean;
  /** Upper bound past `timeoutMs` within which escalation lands, where the backend promises one. */
  escalationSlackMs: number | null;
  /**
   * Failed execs and chdirs carry code, errno, syscall and path; 'local': at stage 'exec'/'chdir'
   * (this kernel told), 'remote': at stage 'remote-exec'/'remote-chdir' (the node's wrapper told).
   */
  execErrors: 'local' | 'remote';
  /**
   * The default process name's host: 'parent': ours (the parent's own HYPERACTOR_PROCESS_NAME
   * host, else hostname()); 'proc-host': the node the proc runs on (`result.host`).
   */
  processNameHost: 'parent' | 'proc-host';
  /** stdin 'inherit': 'same-file': the proc's fd 0 is this process's own; 'forwarded': a copy of our stdin reaches it (srun). */
  stdinInherit: 'same-file' | 'forwarded';
  /** `opts.host`: 'single': only this machine's hostname is accepted, any other is a RangeError naming opts.host; 'multi': `result.host` names one of the launcher's hosts. */
  hosts: 'single' | 'multi';
}

export interface ContractBackend {
  /** For test titles: 'NativeProcLauncher', ... */
  name: string;
  /** The launcher the file shares (disposed by the backend's test file). */
  launcher: () => ProcLauncher;
  /** Procs the shared launcher still tracks. */
  size: () => number;
  /** A new launcher of this backend for the dispose tests; the test disposes it. */
  create: () => ProcLauncher;
  capabilities: ContractCapabilities;
  /**
   * Contract tests this backend is known to fail, by key, with why: they run as `it.fails`,
   * so the suite stays green while the bug stands and turns red the day it is fixed.
   */
  knownBugs?: Partial<Record<KnownBug, string>>;
}

/** The contract tests a backend may list in `knownBugs`. */
export type KnownBug = 'e2big' | 'host-option' | 'terminate-while-launching' | 'rlimits' | 'stdin-null' | 'stderr-verbatim' | 'leader-exit-leftovers';

/** `it`, or `it.fails` with the reason in the title where the backend lists the test as a known bug. */
export function contractIt(backend: ContractBackend, key: KnownBug): typeof it {
  const why = backend.knownBugs?.[key];
  if (why === undefined) return it;
  return ((title: string, fn: () => Promise<void>) => it.fails(`${title} [known bug: ${why}]`, fn)) as typeof it;
}

/** The rusage every exit of a backend with `rusage` carries. */
const RUSAGE = { userMs: expect.any(Number), systemMs: expect.any(Number), maxRssKb: expect.any(Number) };

/**
 * The exact exit a backend gives for `base`: the usage fields it always adds, and, where it
 * counts them, `orphans` (any count when not given).
 */
export function exitOf(backend: ContractBackend, base: ProcExitResult, orphans?: number): Record<string, unknown> {
  const caps = backend.capabilities;
  const expected: Record<string, unknown> = { ...base };
  if (caps.rusage) expected['rusage'] = RUSAGE;
  if (caps.treeUsage === 'total') expected['treeUsage'] = { cpuMs: expect.any(Number) };
  if (caps.treeUsage === 'split') expected['treeUsage'] = expect.objectContaining({ cpuMs: expect.any(Number), userMs: expect.any(Number), systemMs: expect.any(Number) });
  if (caps.orphansKilled) expected['orphansKilled'] = orphans ?? expect.any(Number);
  return expected;
}

/** The captured stdout of a result (throws when stdio is not captured). */
export function capturedOut(result: LaunchResult): import('node:stream').Readable {
  if (result.stdio.kind !== 'captured') throw new Error(`expected captured stdio, got ${result.stdio.kind}`);
  return result.stdio.stdout;
}

/** The captured stderr of a result (throws when stdio is not captured). */
export function capturedErr(result: LaunchResult): import('node:stream').Readable {
  if (result.stdio.kind !== 'captured') throw new Error(`expected captured stdio, got ${result.stdio.kind}`);
  return result.stdio.stderr;
}

/** Counts how often a promise's then-callbacks fire, to prove "exactly once". */
export function settleCount(promise: Promise<ProcExitResult>): { count: () => number; settled: () => boolean } {
  let count = 0;
  void promise.then(() => count++);
  return { count: () => count, settled: () => count > 0 };
}

// Builds bench/c-limit.c with the system compiler into a temp dir and runs it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import type { CleanupRegistry } from './cleanup.js';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('../../bench/c-limit.c', import.meta.url));

/** The line c-limit prints (see bench/c-limit.c). */
export interface CLimitResult {
  launches: number;
  elapsedMs: number;
  launchesPerSec: number;
  spawnCallUs: { p50: number; p99: number };
  latencyUs: { p50: number; p99: number };
  /** Longest time spent handling one poll() wake-up: a C event loop's stall. */
  maxBatchMs: number;
  /** Its own CPU time (user + system, not its children's) over the launches. */
  cpuMs: number;
  inflight: number;
  /** 0: none, 1: setup with setpgid, 2: setup with setsid. */
  setup: number;
  unshare: number;
  idle: number;
}

export interface CLimitOptions {
  count: number;
  inflight?: number;
  /** Also do the addon's child-side setup before exec (signals, setpgid, /dev/null, close_range). */
  setup?: boolean;
  /** The setup with setsid() instead of setpgid(0, 0) (what `newSession: true` does). */
  setsid?: boolean;
  /** CLONE_FILES + close_range(3, ~0, CLOSE_RANGE_UNSHARE) in the child: no copy of our fd table. */
  unshare?: boolean;
  /** Idle `sleep` children held (by pidfd) during the run. */
  idle?: number;
  program?: string;
}

export interface CLimit {
  run(options: CLimitOptions): Promise<CLimitResult>;
  /** Removes the temp dir with the binary. */
  dispose(): void;
}

/** Compiles the C limit; returns a one-line reason instead when it cannot. */
export async function buildCLimit(registry: CleanupRegistry): Promise<CLimit | string> {
  if (!existsSync(SOURCE)) return `bench/c-limit.c not found at ${SOURCE}`;
  const compiler = process.env['CC'] ?? 'cc';
  const dir = mkdtempSync(join(tmpdir(), 'proclaunch-bench-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const unregister = registry.add(removeDir);
  const binary = join(dir, 'c-limit');
  try {
    await run(compiler, ['-O2', '-o', binary, SOURCE], { timeout: 60_000 });
  } catch (error) {
    removeDir();
    unregister();
    const err = error as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') return `no C compiler (${compiler}) found`;
    return `${compiler} failed: ${(err.stderr ?? err.message).trim().split('\n')[0] ?? ''}`;
  }
  return {
    async run(options) {
      const args = ['--count', String(options.count), '--inflight', String(options.inflight ?? 1)];
      if (options.setup === true) args.push('--setup');
      if (options.setsid === true) args.push('--setsid');
      if (options.unshare === true) args.push('--unshare');
      if (options.idle !== undefined) args.push('--idle', String(options.idle));
      if (options.program !== undefined) args.push('--program', options.program);
      const { stdout } = await run(binary, args, { timeout: 600_000 });
      return JSON.parse(stdout) as CLimitResult;
    },
    dispose() {
      removeDir();
      unregister();
    },
  };
}

// Bun and Deno as bench contenders: each round is one run of the runtime on
// bench/js-runtime-round.mjs, which launches with Bun.spawn / Deno.Command and reports
// its own figures as JSON. The runtimes come from their npm binary packages
// (@oven/bun-linux-x64, @deno/linux-x64-glibc), never from our dependencies: the bench
// finds them through PROCLAUNCH_BENCH_BUN / PROCLAUNCH_BENCH_DENO or in a well-known
// temp directory, and says why when it cannot.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROUND_SCRIPT = fileURLToPath(new URL('../../bench/js-runtime-round.mjs', import.meta.url));

export type JsRuntimeName = 'bun' | 'deno';
export const JS_RUNTIMES: readonly JsRuntimeName[] = ['bun', 'deno'];

/** Where `npm install --no-save --prefix <dir> @oven/bun-linux-x64 @deno/linux-x64-glibc` puts them. */
export const RUNTIME_DIR = join(tmpdir(), 'proclaunch-bench-runtimes');

const PACKAGES: Record<JsRuntimeName, { pkg: string; binary: string; env: string }> = {
  bun: { pkg: '@oven/bun-linux-x64', binary: 'bin/bun', env: 'PROCLAUNCH_BENCH_BUN' },
  deno: { pkg: '@deno/linux-x64-glibc', binary: 'deno', env: 'PROCLAUNCH_BENCH_DENO' },
};

export interface RuntimeSequential {
  runtime: string;
  version: string;
  launches: number;
  launchesPerSec: number;
  callMs: { p50: number; p99: number };
  latencyMs: { p50: number; p99: number };
}

export interface RuntimeInFlight {
  runtime: string;
  version: string;
  launches: number;
  launchesPerSec: number;
  maxStallMs: number;
  /** The runtime process's own CPU time over the measured launches (process.cpuUsage()). */
  cpuMs: number;
}

export interface JsRuntime {
  name: JsRuntimeName;
  path: string;
  version: string;
  sequential(count: number, warmup: number, program: string): Promise<RuntimeSequential>;
  inFlight(count: number, warmup: number, inflight: number, program: string): Promise<RuntimeInFlight>;
}

/** The runtime's binary: from its variable, else the well-known directory; or why there is none. */
export function locateRuntime(name: JsRuntimeName, env: NodeJS.ProcessEnv = process.env, dir = RUNTIME_DIR): string | { skipped: string } {
  const { pkg, binary, env: variable } = PACKAGES[name];
  const given = env[variable];
  const path = given !== undefined && given !== '' ? given : join(dir, 'node_modules', pkg, binary);
  const source = given !== undefined && given !== '' ? `${variable}=${given}` : path;
  if (!existsSync(path)) {
    const how = given !== undefined && given !== '' ? '' : `; set ${variable} to its binary, or: npm install --no-save --prefix ${dir} ${pkg}`;
    return { skipped: `${name} not found (${source})${how}` };
  }
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return { skipped: `${name} at ${source} is not executable` };
  }
  return path;
}

/** The runtime, ready to run rounds, or why it cannot (missing, or it does not start). */
export async function loadRuntime(name: JsRuntimeName, env: NodeJS.ProcessEnv = process.env, dir = RUNTIME_DIR): Promise<JsRuntime | { skipped: string }> {
  const path = locateRuntime(name, env, dir);
  if (typeof path !== 'string') return path;
  let version: string;
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 60_000, env: runtimeEnv() });
    version = parseVersion(stdout);
  } catch (error) {
    return { skipped: `${name} at ${path} does not run: ${firstLine(error)}` };
  }
  const round = async (args: string[]): Promise<string> => {
    const argv = name === 'deno' ? ['run', '--allow-run', '--no-prompt', ROUND_SCRIPT, ...args] : [ROUND_SCRIPT, ...args];
    const { stdout } = await run(path, argv, { timeout: 600_000, env: runtimeEnv(), maxBuffer: 1 << 20 });
    return stdout;
  };
  return {
    name,
    path,
    version,
    sequential: async (count, warmup, program) => parseSequential(await round(['sequential', String(count), String(warmup), '1', program])),
    inFlight: async (count, warmup, inflight, program) =>
      parseInFlight(await round(['inflight', String(count), String(warmup), String(inflight), program])),
  };
}

function runtimeEnv(): NodeJS.ProcessEnv {
  // Deno would otherwise look for a newer version on the network.
  return { ...process.env, DENO_NO_UPDATE_CHECK: '1' };
}

/** "1.4.5" from bun, "deno 2.9.6 (stable, ...)" from deno. */
export function parseVersion(stdout: string): string {
  const match = /\d+\.\d+\.\d+\S*/.exec(stdout);
  if (match === null) throw new Error(`no version in ${JSON.stringify(stdout.slice(0, 80))}`);
  return match[0];
}

/** The round's JSON line (the last line of stdout), every figure checked. */
export function parseSequential(stdout: string): RuntimeSequential {
  const line = lastJsonLine(stdout);
  const out: RuntimeSequential = {
    runtime: text(line, 'runtime'),
    version: text(line, 'version'),
    launches: figure(line, 'launches'),
    launchesPerSec: figure(line, 'launchesPerSec'),
    callMs: { p50: figure(line, 'callMs', 'p50'), p99: figure(line, 'callMs', 'p99') },
    latencyMs: { p50: figure(line, 'latencyMs', 'p50'), p99: figure(line, 'latencyMs', 'p99') },
  };
  return out;
}

export function parseInFlight(stdout: string): RuntimeInFlight {
  const line = lastJsonLine(stdout);
  return {
    runtime: text(line, 'runtime'),
    version: text(line, 'version'),
    launches: figure(line, 'launches'),
    launchesPerSec: figure(line, 'launchesPerSec'),
    maxStallMs: figure(line, 'maxStallMs'),
    cpuMs: figure(line, 'cpuMs'),
  };
}

function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(last);
  } catch {
    throw new Error(`the runtime round printed no JSON line: ${JSON.stringify(last.slice(0, 120))}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`the runtime round printed ${last.slice(0, 120)}, not an object`);
  return parsed as Record<string, unknown>;
}

function figure(line: Record<string, unknown>, key: string, inner?: string): number {
  let value = line[key];
  if (inner !== undefined) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[inner] : undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`the runtime round's ${inner === undefined ? key : `${key}.${inner}`} is ${JSON.stringify(value)}, not a figure`);
  }
  return value;
}

function text(line: Record<string, unknown>, key: string): string {
  const value = line[key];
  if (typeof value !== 'string') throw new Error(`the runtime round's ${key} is ${JSON.stringify(value)}, not a string`);
  return value;
}

function firstLine(error: unknown): string {
  const err = error as NodeJS.ErrnoException & { stderr?: string };
  return ((err.stderr ?? '') || err.message).trim().split('\n')[0] ?? '';
}

/** Loads every runtime; the missing ones come back with why. */
export async function loadRuntimes(env: NodeJS.ProcessEnv = process.env, dir = RUNTIME_DIR): Promise<{ available: JsRuntime[]; skipped: Partial<Record<JsRuntimeName, string>> }> {
  const available: JsRuntime[] = [];
  const skipped: Partial<Record<JsRuntimeName, string>> = {};
  for (const name of JS_RUNTIMES) {
    const loaded = await loadRuntime(name, env, dir);
    if ('skipped' in loaded) skipped[name] = loaded.skipped;
    else available.push(loaded);
  }
  return { available, skipped };
}

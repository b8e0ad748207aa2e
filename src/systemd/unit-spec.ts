// Turns a validated launch into a transient service's properties, checking locally what
// the native backend would have failed on (program, cwd), so both report the same errors.
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

import { ProcLauncherError } from '../contract.js';
import type { NormalizedLaunch } from '../common/normalize-launch.js';
import { codeOfErrno, describeErrno } from '../common/system-error.js';
import { checkMemNodes, cpusOfNodes } from '../native/host-numa.js';
import { programCandidates } from '../native/program-paths.js';
import { Variant } from './systemd-bus.js';
import { checkExecPath, checkUnitFilePath, escapeDollars } from './unit-file-text.js';

const MPOL_BIND = 2;
const RLIM_INFINITY = 2n ** 64n - 1n;
/** Below systemd's LONG_LINE_MAX (1 MiB) for a unit-file line, with room for `Environment=`. */
const MAX_ENV_LINE = 1_000_000;
/** systemd accepts only shell-like variable names (env_name_is_valid). */
const SYSTEMD_ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface UnitSettings {
  description: string;
  slice: string | null;
  stopTimeoutMs: number;
  stdoutSocket: string | null;
  stderrSocket: string | null;
  /** Write ends of pipes, passed in the message itself (when the bus carries fds). */
  stdoutFd: number | null;
  stderrFd: number | null;
  /** The fd for the unit's stdin (StandardInputFileDescriptor), or null for /dev/null. */
  stdinFd: number | null;
}

export type UnitProperty = [string, Variant];

/** The working directory, absolute (relative ones and the default are the caller's cwd, as in native). */
export function resolveCwd(launch: NormalizedLaunch): string {
  if (launch.cwd === undefined) return checkUnitFilePath(process.cwd(), "opts.command.cwd (default: this process's cwd)");
  const cwd = checkUnitFilePath(resolve(process.cwd(), launch.cwd), 'opts.command.cwd');
  let isDir: boolean;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch (err) {
    throw systemError(launch, err, 'chdir', 'chdir', cwd);
  }
  if (!isDir) throw systemError(launch, { errno: 20 }, 'chdir', 'chdir', cwd);
  return cwd;
}

/** The absolute program path systemd will exec: PATH is searched here, like execvp in native. */
export function resolveProgram(launch: NormalizedLaunch, cwd: string): string {
  let firstError: unknown = null;
  for (const candidate of programCandidates(launch.program, launch.env)) {
    const path = isAbsolute(candidate) ? candidate : resolve(cwd, candidate);
    try {
      if (!statSync(path).isFile()) throw Object.assign(new Error('not a regular file'), { errno: -13 });
      accessSync(path, constants.X_OK);
    } catch (err) {
      // As execvp: EACCES from any candidate wins over a later ENOENT.
      if (firstError === null || errnoOf(err) === 13) firstError = err;
      continue;
    }
    return checkExecPath(path, 'opts.command.program');
  }
  throw systemError(launch, firstError, 'exec', 'execve', launch.program);
}

/** The environment systemd will accept: inherited names it cannot hold are left out, given ones are errors. */
export function unitEnvironment(launch: NormalizedLaunch, givenKeys: readonly string[]): string[] {
  for (const key of givenKeys) {
    if (!SYSTEMD_ENV_NAME.test(key)) {
      throw new RangeError(`opts.command.env key ${JSON.stringify(key)} cannot be passed through systemd, which allows only letters, digits and "_" (not first: a digit)`);
    }
  }
  return Object.entries(launch.env)
    .filter(([key]) => SYSTEMD_ENV_NAME.test(key))
    .map(([key, value]) => `${key}=${value}`);
}

export function unitProperties(launch: NormalizedLaunch, program: string, cwd: string, env: string[], settings: UnitSettings): UnitProperty[] {
  const props: UnitProperty[] = [
    ['Description', new Variant('s', settings.description)],
    // Type=exec: the start job ends only once execve succeeded, so a missing program is a launch error.
    ['Type', new Variant('s', 'exec')],
    // ExecStart, not ExecStartEx: systemd 252 writes ExecStartEx= into the transient file but
    // cannot read it back, so after a daemon-reload the unit would be `bad-setting`.
    ['ExecStart', new Variant('a(sasb)', [[program, [launch.arg0, ...launch.args].map(escapeDollars), false]])],
    ...environmentChunks(env).map((chunk): UnitProperty => ['Environment', new Variant('as', chunk)]),
    ['WorkingDirectory', new Variant('s', cwd)],
    // Pinned until we read the exit and Unref() it; then collected even when failed.
    ['AddRef', new Variant('b', true)],
    ['CollectMode', new Variant('s', 'inactive-or-failed')],
    ['KillMode', new Variant('s', 'control-group')],
    ['TimeoutStopUSec', new Variant('t', BigInt(Math.max(1, Math.round(settings.stopTimeoutMs * 1000))))],
  ];
  if (settings.slice !== null) props.push(['Slice', new Variant('s', settings.slice)]);
  // The socket directory comes from XDG_RUNTIME_DIR or TMPDIR, and is written raw too.
  const socketOption = 'the stdio socket path (under $XDG_RUNTIME_DIR or $TMPDIR)';
  if (settings.stdoutSocket !== null) props.push(['StandardOutputFile', new Variant('s', checkUnitFilePath(settings.stdoutSocket, socketOption))]);
  if (settings.stderrSocket !== null) props.push(['StandardErrorFile', new Variant('s', checkUnitFilePath(settings.stderrSocket, socketOption))]);
  if (settings.stdoutFd !== null) props.push(['StandardOutputFileDescriptor', new Variant('h', settings.stdoutFd)]);
  if (settings.stderrFd !== null) props.push(['StandardErrorFileDescriptor', new Variant('h', settings.stderrFd)]);
  if (settings.stdinFd !== null) props.push(['StandardInputFileDescriptor', new Variant('h', settings.stdinFd)]);
  // The unit's cgroup counts the tree's CPU only with accounting on (CPUUsageNSec).
  props.push(['CPUAccounting', new Variant('b', true)]);
  props.push(...bindProperties(launch), ...rlimitProperties(launch));
  return props;
}

/**
 * systemd writes each Environment property as one `Environment=` line of the unit file, and
 * reads lines of at most 1 MiB back at a reload (a longer one makes the unit `error`): so the
 * variables go in several properties, each under that limit even if every byte were escaped.
 */
function environmentChunks(env: readonly string[]): string[][] {
  const chunks: string[][] = [[]];
  let size = 0;
  for (const entry of env) {
    const worst = Buffer.byteLength(entry) * 4 + 3; // "\ooo" per byte, quotes, separator
    if (size + worst > MAX_ENV_LINE && chunks.at(-1)!.length > 0) {
      chunks.push([]);
      size = 0;
    }
    chunks.at(-1)!.push(entry);
    size += worst;
  }
  return chunks;
}

function bindProperties(launch: NormalizedLaunch): UnitProperty[] {
  const bind = launch.procBind;
  if (bind === undefined) return [];
  const props: UnitProperty[] = [];
  let cpus = bind.cpus ?? null;
  if (bind.cpuNodes !== undefined) {
    const nodeCpus = cpusOfNodes(bind.cpuNodes);
    cpus = cpus === null ? nodeCpus : cpus.filter((cpu) => nodeCpus.includes(cpu));
    if (cpus.length === 0) throw new RangeError('opts.procBind: no CPU is both in cpus and in the cpunodebind nodes');
  }
  if (cpus !== null) props.push(['CPUAffinity', new Variant('ay', bitmask(cpus))]);
  if (bind.memNodes !== undefined) {
    checkMemNodes(bind.memNodes);
    props.push(['NUMAPolicy', new Variant('i', MPOL_BIND)], ['NUMAMask', new Variant('ay', bitmask(bind.memNodes))]);
  }
  return props;
}

/** Limit<NAME>= (hard) and Limit<NAME>Soft=, raw rlimit values as setrlimit takes them. */
function rlimitProperties(launch: NormalizedLaunch): UnitProperty[] {
  const raw = (limit: number): bigint => (limit === Infinity ? RLIM_INFINITY : BigInt(limit));
  return launch.rlimits.flatMap((limit): UnitProperty[] => {
    const name = `Limit${limit.name.toUpperCase()}`;
    return [
      [name, new Variant('t', raw(limit.hard))],
      [`${name}Soft`, new Variant('t', raw(limit.soft))],
    ];
  });
}

/** systemd's CPU/NUMA sets on the bus: little-endian bytes, bit n%8 of byte n/8. */
export function bitmask(indexes: readonly number[]): Buffer {
  const bytes = Buffer.alloc(Math.floor(Math.max(...indexes) / 8) + 1);
  for (const index of indexes) bytes[index >> 3]! |= 1 << (index & 7);
  return bytes;
}

function errnoOf(err: unknown): number {
  const errno = (err as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' ? Math.abs(errno) : 2;
}

function systemError(launch: NormalizedLaunch, err: unknown, stage: string, syscall: string, path: string): ProcLauncherError {
  const errno = errnoOf(err);
  const code = codeOfErrno(errno);
  return new ProcLauncherError('launch', `cannot launch "${launch.procId}": ${code}: ${describeErrno(errno)}, ${syscall} '${path}' (stage: ${stage})`, {
    code,
    errno,
    syscall,
    stage,
    path,
  });
}

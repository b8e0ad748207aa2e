// One-shot launchers: start a short proc, time the synchronous call, observe its exit.
// Every contender is asked for the same thing: stdin from /dev/null (ignored),
// stdout and stderr inherited, no output buffering, which is NativeProcLauncher's default.
import { spawn, type StdioOptions } from 'node:child_process';

import type { ProcExitResult } from '../contract.js';
import { NativeProcLauncher } from '../native/native-proc-launcher.js';
import { importOptional } from './optional-import.js';
import type { ContenderName } from './report.js';

export interface OneShotStart {
  /** Wall time of the launch call itself: how long it kept the event loop busy. */
  callMs: number;
  /** Resolves when the exit has been observed; rejects if the proc did not exit 0. */
  exited: Promise<void>;
}

export interface OneShot {
  name: ContenderName;
  start(program: string, args: readonly string[]): OneShotStart;
  close(): Promise<void>;
}

export type OneShotName = 'native' | 'native-inline' | 'child_process' | 'execa' | 'tinyexec';

const STDIO: StdioOptions = ['ignore', 'inherit', 'inherit'];

interface ExecaModule {
  execa(file: string, args: readonly string[], options: Record<string, unknown>): PromiseLike<unknown>;
}
interface TinyexecModule {
  x(command: string, args: readonly string[], options: Record<string, unknown>): PromiseLike<unknown>;
}

/** The requested launchers that can run here, and why the others cannot. */
export async function loadOneShots(
  names: readonly OneShotName[],
): Promise<{ available: OneShot[]; skipped: Partial<Record<ContenderName, string>> }> {
  const available: OneShot[] = [];
  const skipped: Partial<Record<ContenderName, string>> = {};
  for (const name of names) {
    const loaded = await loadOneShot(name);
    if (typeof loaded === 'string') skipped[name] = loaded;
    else available.push(loaded);
  }
  return { available, skipped };
}

async function loadOneShot(name: OneShotName): Promise<OneShot | string> {
  switch (name) {
    case 'native':
      return nativeOneShot('native');
    case 'native-inline':
      return nativeOneShot('native-inline');
    case 'child_process':
      return childProcessOneShot();
    case 'execa': {
      const mod = await importOptional<ExecaModule>('execa', 'execa@^9');
      return typeof mod === 'string' ? mod : promiseOneShot('execa', (program, args) =>
        mod.execa(program, args, { stdin: 'ignore', stdout: 'inherit', stderr: 'inherit' }));
    }
    case 'tinyexec': {
      const mod = await importOptional<TinyexecModule>('tinyexec', 'tinyexec');
      return typeof mod === 'string' ? mod : promiseOneShot('tinyexec', (program, args) =>
        mod.x(program, args, { nodeOptions: { stdio: STDIO }, throwOnError: true }));
    }
  }
}

function nativeOneShot(name: 'native' | 'native-inline'): OneShot {
  const launcher = name === 'native' ? new NativeProcLauncher() : withInlineSpawn(() => new NativeProcLauncher());
  let sequence = 0;
  return {
    name,
    start(program, args) {
      const procId = `bench-${++sequence}`;
      const t0 = performance.now();
      // The synchronous part of launch(): with the spawn server, until the plan is sent
      // (the reply's work shows in the stall and throughput figures); inline, until the
      // proc has exec'd.
      const launched = launcher.launch(procId, { command: { program, args } });
      const callMs = performance.now() - t0;
      return { callMs, exited: launched.then((result) => result.exit).then((exit) => expectZero(program, exit)) };
    },
    close: () => launcher.dispose(),
  };
}

/** A launcher made while PROCLAUNCH_SPAWNER=inline (read at construction). */
function withInlineSpawn<T>(make: () => T): T {
  const saved = process.env['PROCLAUNCH_SPAWNER'];
  process.env['PROCLAUNCH_SPAWNER'] = 'inline';
  try {
    return make();
  } finally {
    if (saved === undefined) delete process.env['PROCLAUNCH_SPAWNER'];
    else process.env['PROCLAUNCH_SPAWNER'] = saved;
  }
}

function childProcessOneShot(): OneShot {
  return {
    name: 'child_process',
    start(program, args) {
      const t0 = performance.now();
      const child = spawn(program, args, { stdio: STDIO });
      const callMs = performance.now() - t0;
      const exited = new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          if (code === 0) resolve();
          else reject(new Error(`${program} ended with ${signal ?? `code ${code}`}`));
        });
      });
      return { callMs, exited };
    },
    close: async () => {},
  };
}

/** Libraries whose result is a thenable that settles after the exit (and rejects on failure). */
function promiseOneShot(name: ContenderName, run: (program: string, args: readonly string[]) => PromiseLike<unknown>): OneShot {
  return {
    name,
    start(program, args) {
      const t0 = performance.now();
      const result = run(program, args);
      const callMs = performance.now() - t0;
      return { callMs, exited: Promise.resolve(result).then(() => undefined) };
    },
    close: async () => {},
  };
}

function expectZero(program: string, exit: ProcExitResult): void {
  if (exit.kind === 'exited' && exit.code === 0) return;
  const how = exit.kind === 'exited' ? `code ${exit.code}` : exit.kind === 'signaled' ? exit.signalName : exit.reason;
  throw new Error(`${program} ended with ${how}`);
}

/**
 * A baseline that is itself a command (`systemd-run --wait ...`, `srun ...`) started
 * through child_process: its exit is the proc's; a non-zero one rejects with `label`,
 * the code or signal, and the first line the command printed on stderr.
 */
export function commandOneShot(name: ContenderName, command: string, commandArgs: (program: string, args: readonly string[]) => string[], label = ''): OneShot {
  return {
    name,
    start(program, args) {
      const t0 = performance.now();
      const child = spawn(command, commandArgs(program, args), { stdio: ['ignore', 'ignore', 'pipe'] });
      const callMs = performance.now() - t0;
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const exited = new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code, signal) => {
          if (code === 0) resolve();
          else reject(new Error(`${label}${signal ?? `exit code ${code}`}${stderr === '' ? '' : `: ${stderr.trim().split('\n')[0]}`}`));
        });
      });
      return { callMs, exited };
    },
    close: async () => {},
  };
}

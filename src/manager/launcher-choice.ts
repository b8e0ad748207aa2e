// Which launcher a manager drives: an instance the user owns, or a built-in backend the
// manager creates and disposes. PROCLAUNCH_LAUNCHER picks the built-in when the option
// is absent; an unknown name is an error, never a silent fallback.
import type { ProcLauncher } from '../contract.js';
import { ProcLauncherError } from '../contract.js';
import { describeValue } from '../common/validate.js';
import { NativeProcLauncher } from '../native/native-proc-launcher.js';

export type LauncherKind = 'native' | 'systemd' | 'slurm';
export const LAUNCHER_KINDS: readonly LauncherKind[] = ['native', 'systemd', 'slurm'];
export const LAUNCHER_ENV = 'PROCLAUNCH_LAUNCHER';

/**
 * The optional backends, kept out of literal imports so this module compiles and loads
 * while one is absent from a build: the module, and the class it exports.
 */
const OPTIONAL_BACKENDS: Record<Exclude<LauncherKind, 'native'>, { module: string; className: string }> = {
  systemd: { module: '../systemd/systemd-proc-launcher.js', className: 'SystemdProcLauncher' },
  slurm: { module: '../slurm/slurm-proc-launcher.js', className: 'SlurmProcLauncher' },
};

export function isProcLauncher(value: unknown): value is ProcLauncher {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return ['launch', 'terminate', 'kill', 'dispose'].every((name) => typeof candidate[name] === 'function');
}

/** "'native', 'systemd' or 'slurm'" */
function kindList(): string {
  const quoted = LAUNCHER_KINDS.map((kind) => `'${kind}'`);
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/** Validates the `launcher` option (or the environment) without creating anything. */
export function chooseLauncher(option: unknown, env: NodeJS.ProcessEnv = process.env): LauncherKind | ProcLauncher {
  if (option === undefined) {
    const fromEnv = env[LAUNCHER_ENV];
    if (fromEnv === undefined || fromEnv === '') return 'native';
    if ((LAUNCHER_KINDS as readonly string[]).includes(fromEnv)) return fromEnv as LauncherKind;
    throw new RangeError(`${LAUNCHER_ENV} must be one of ${LAUNCHER_KINDS.join(', ')}, got ${JSON.stringify(fromEnv)}`);
  }
  if (typeof option === 'string') {
    if ((LAUNCHER_KINDS as readonly string[]).includes(option)) return option as LauncherKind;
    throw new RangeError(`launcher must be ${kindList()} or a ProcLauncher, got ${JSON.stringify(option)}`);
  }
  if (isProcLauncher(option)) return option;
  throw new TypeError(`launcher must be ${kindList()} or an object with launch, terminate, kill and dispose methods, got ${describeValue(option)}`);
}

type LauncherConstructor = new (options: Record<string, unknown>) => ProcLauncher;

export async function createLauncher(kind: LauncherKind, options: Record<string, unknown>): Promise<ProcLauncher> {
  if (kind === 'native') return new NativeProcLauncher(options);
  const { module, className } = OPTIONAL_BACKENDS[kind];
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(module)) as Record<string, unknown>;
  } catch (error) {
    throw new ProcLauncherError('other', `the ${kind} launcher is not available in this build of proclaunch: cannot load ${module} (${String(error)})`, {
      code: 'ERR_LAUNCHER_UNAVAILABLE',
      stage: 'launcher',
      cause: error,
    });
  }
  if (typeof loaded[className] !== 'function') {
    throw new ProcLauncherError('other', `the ${kind} launcher module does not export a ${className} class`, {
      code: 'ERR_LAUNCHER_UNAVAILABLE',
      stage: 'launcher',
    });
  }
  return new (loaded[className] as LauncherConstructor)(options);
}

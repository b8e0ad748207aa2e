// Public exports only.
import { assertLinux } from './common/platform.js';

assertLinux();

export {
  ProcLauncherError,
  type BootstrapCommand,
  type LaunchOptions,
  type LaunchResult,
  type ProcBind,
  type ProcExitResult,
  type ProcLauncher,
  type ProcLauncherErrorKind,
  type ProcRlimits,
  type ProcRusage,
  type ProcTreeUsage,
  type RlimitName,
  type StdioHandling,
} from './contract.js';
export { AbortError } from './common/abort-error.js';
export { NativeProcLauncher, type NativeProcLauncherOptions } from './native/native-proc-launcher.js';
export { ProcManager, type ProcListEntry, type TerminateAllOptions, type TerminateAllResult } from './manager/proc-manager.js';
export { ProcHandle } from './manager/proc-handle.js';
export { ProcNotReadyError } from './manager/proc-errors.js';
export { isLegalTransition, isTerminalStatus, type ProcState, type ProcStatus, type TerminalProcStatus } from './manager/proc-status.js';
export type { ProcManagerOptions, SpawnOptions } from './manager/manager-options.js';
export type { LogSink, OutputStream, PrefixFunction } from './manager/output-router.js';
export { SystemdProcLauncher, type SystemdProcLauncherOptions, type SystemdBusOption } from './systemd/systemd-proc-launcher.js';
export { SlurmProcLauncher, type SlurmProcLauncherOptions } from './slurm/slurm-proc-launcher.js';

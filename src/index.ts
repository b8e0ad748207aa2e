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
  type ProcRusage,
  type StdioHandling,
} from './contract.js';
export { NativeProcLauncher, type NativeProcLauncherOptions } from './native/native-proc-launcher.js';
export { SystemdProcLauncher, type SystemdProcLauncherOptions, type SystemdBusOption } from './systemd/systemd-proc-launcher.js';

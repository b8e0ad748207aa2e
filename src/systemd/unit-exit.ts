// What a finished unit's ExecMain* properties mean for the contract: the exit result,
// or, when systemd never got the program running, a launch error.
import { ProcLauncherError, type ProcExitResult } from '../contract.js';
import { nameOfSignal } from '../common/signals.js';

/** The Service interface properties the launcher follows (from PropertiesChanged or GetAll). */
export interface ServiceState {
  mainPid?: number;
  /** ExecMainCode: a CLD_* code, 1 exited, 2 killed, 3 dumped; 0 while nothing has exited. */
  code?: number;
  /** ExecMainStatus: the exit code or the signal number. */
  status?: number;
  /** Result: "success", "exit-code", "signal", "core-dump", "timeout", "resources", ... */
  result?: string;
}

const CLD_EXITED = 1;
const CLD_KILLED = 2;
const CLD_DUMPED = 3;

/** systemd's own exit statuses for a failed step between fork and exec (systemd.exec(5)). */
const SYSTEMD_STEPS: Readonly<Record<number, string>> = {
  200: 'CHDIR', 201: 'NICE', 202: 'FDS', 203: 'EXEC', 204: 'MEMORY', 205: 'LIMITS', 206: 'OOM_ADJUST',
  207: 'SIGNAL_MASK', 208: 'STDIN', 209: 'STDOUT', 210: 'CHROOT', 211: 'IOPRIO', 212: 'TIMERSLACK',
  213: 'SECUREBITS', 214: 'SETSCHEDULER', 215: 'CPUAFFINITY', 216: 'GROUP', 217: 'USER', 218: 'CAPABILITIES',
  219: 'CGROUP', 220: 'SETSID', 221: 'CONFIRM', 222: 'STDERR', 224: 'PAM', 225: 'NETWORK', 226: 'NAMESPACE',
  227: 'NO_NEW_PRIVILEGES', 228: 'SECCOMP', 229: 'SELINUX_CONTEXT', 230: 'PERSONALITY', 231: 'APPARMOR_PROFILE',
  232: 'ADDRESS_FAMILIES', 233: 'RUNTIME_DIRECTORY', 235: 'CHOWN', 236: 'SMACK_PROCESS_LABEL', 237: 'KEYRING',
  238: 'STATE_DIRECTORY', 239: 'CACHE_DIRECTORY', 240: 'LOGS_DIRECTORY', 241: 'CONFIGURATION_DIRECTORY',
  242: 'NUMA_POLICY', 243: 'CREDENTIALS', 245: 'BPF',
};

export function serviceStateOf(changed: Record<string, unknown>, into: ServiceState): void {
  const pid = changed['ExecMainPID'];
  if (typeof pid === 'number' && pid > 0) into.mainPid = pid;
  if (typeof changed['ExecMainCode'] === 'number') into.code = changed['ExecMainCode'];
  if (typeof changed['ExecMainStatus'] === 'number') into.status = changed['ExecMainStatus'];
  if (typeof changed['Result'] === 'string') into.result = changed['Result'];
}

/** ExecMainCode says the main process has ended (it is 0 while it runs or never ran). */
export function hasExited(state: ServiceState): boolean {
  return state.code === CLD_EXITED || state.code === CLD_KILLED || state.code === CLD_DUMPED;
}

/** The exit of a unit whose program ran (ExecMainCode set), or `failed` with systemd's word. */
export function exitResultOf(state: ServiceState, unitName: string): ProcExitResult {
  const status = state.status ?? 0;
  if (state.code === CLD_EXITED) return { kind: 'exited', code: status };
  if (state.code === CLD_KILLED || state.code === CLD_DUMPED) {
    return { kind: 'signaled', signal: status, signalName: nameOfSignal(status), coreDumped: state.code === CLD_DUMPED };
  }
  return { kind: 'failed', reason: `unit ${unitName} stopped without an exit status of its program (Result=${state.result ?? 'unknown'})` };
}

/**
 * Called when the start job did not end in "done". The program ran if ExecMainCode is a
 * real exit and not one of systemd's step statuses: then it is no launch failure (it just
 * ended quickly) and null is returned.
 */
export function startFailureOf(state: ServiceState, unitName: string, procId: string, jobResult: string): ProcLauncherError | null {
  const step = state.code === CLD_EXITED && state.status !== undefined ? SYSTEMD_STEPS[state.status] : undefined;
  if (step !== undefined) {
    return new ProcLauncherError(
      'launch',
      `cannot launch "${procId}": systemd failed at step ${step} (status ${state.status}/${step}) starting ${unitName}; the manager's log has the reason`,
      { code: `ERR_SYSTEMD_${step}`, stage: step.toLowerCase() },
    );
  }
  if (state.code === CLD_EXITED || state.code === CLD_KILLED || state.code === CLD_DUMPED) return null;
  return new ProcLauncherError(
    'launch',
    `cannot launch "${procId}": systemd could not start ${unitName} (job ${jobResult}, Result=${state.result ?? 'unknown'})`,
    { code: 'ERR_SYSTEMD_START', stage: 'start' },
  );
}

// `proclaunch run` arguments: parsed into a plain object, every error a UsageError.
// The launcher is settled here too ($PROCLAUNCH_LAUNCHER included), so a bad name is a
// usage error before anything starts.
import { basename, isAbsolute } from 'node:path';

import { parseCallbackHost } from '../manager/callback-host.js';
import { LAUNCHER_ENV } from '../manager/launcher-choice.js';
import { suggestionFor, unknownOption, UsageError } from './usage-error.js';

export { UsageError } from './usage-error.js';

export type RunLauncher = 'native' | 'systemd' | 'slurm';

export interface RunArgs {
  count: number;
  name: string;
  ready: boolean;
  readyTimeoutMs: number;
  tail: number;
  launcher: RunLauncher;
  /** Where the launcher came from, for messages: "--launcher" or "PROCLAUNCH_LAUNCHER" (null: the default). */
  launcherSource: string | null;
  /** The cgroup v2 directory the native launcher contains the procs in (null: none). */
  cgroup: string | null;
  /** Slurm: nodes of the allocation the launcher makes (null: the launcher's default, 1). */
  nodes: number | null;
  /** Slurm: the job id of an existing allocation to run the copies in (null: the launcher allocates). */
  allocation: string | null;
  /** Where copies on other hosts reach this command for --ready (ProcManager callbackHost); null: Unix sockets only. */
  callbackHost: string | null;
  timeoutMs: number | null;
  /** Each copy's own wall-clock limit from its start (LaunchOptions.deadlineMs); null: none. */
  deadlineMs: number | null;
  graceMs: number;
  json: boolean;
  help: boolean;
  program: string;
  args: string[];
}

export const RUN_HELP = `Usage: proclaunch run [options] [--] PROGRAM [ARGS...]

Starts COUNT copies of PROGRAM under a ProcManager, shows their status live,
forwards their output prefixed with the proc id, and ends with a summary.

Options:
  -n, --count COUNT       copies to start (default: 1); each gets PROCLAUNCH_INDEX
                          (0..COUNT-1) and PROCLAUNCH_COUNT in its environment
      --name NAME         proc id prefix: ids are NAME-0, NAME-1, ... (default: the
                          program's file name)
      --ready             require readiness: each copy must send READY=1 over
                          sd_notify ($NOTIFY_SOCKET, e.g. 'systemd-notify --ready')
                          or it fails and is stopped
      --ready-timeout MS  how long --ready waits (default: 30000; implies --ready)
      --tail N            stderr lines kept per proc and shown for failures
                          (default: 10; 0: none)
      --launcher NAME     native, systemd or slurm (default: $PROCLAUNCH_LAUNCHER,
                          else native); systemd: each copy is a transient unit of
                          the user's systemd manager (it needs its bus: see
                          below); slurm: each copy is a job step on a node of a
                          Slurm allocation, spread over its nodes (run it on a
                          login node: srun, salloc, squeue, scancel on PATH)
      --nodes N           slurm: allocate N nodes for the run (salloc), released
                          at the end (default: 1)
      --allocation JOBID  slurm: run the copies as steps of the existing
                          allocation JOBID (not released at the end); excludes
                          --nodes
      --callback-host ADDR
                          the address (HOST or HOST:PORT) copies on other hosts
                          reach this command at for readiness, over TCP
                          ($PROCLAUNCH_NOTIFY_ADDR, proclaunch/notify); needed
                          for --ready with --launcher slurm
      --cgroup DIR        native launcher: each copy and all its descendants in a
                          cgroup v2 under DIR (created if missing); they die as a
                          whole, even when this command is killed with SIGKILL
      --timeout MS        stop every copy still running after MS (default: none)
      --deadline MS       stop each copy MS after its own start (SIGTERM, SIGKILL
                          after --grace); it counts as stopped (default: none)
      --grace MS          on stop, SIGTERM then SIGKILL after MS (default: 5000)
      --json              print the final statuses as JSON on stdout (proc output
                          and live status then go to stderr)
  -h, --help              show this help

While running: a terminal shows a status table redrawn in place; otherwise one
line per status change is printed to stderr. With --launcher slurm the table
and the summary have a HOST column (the node each copy runs on). Ctrl-C (or SIGTERM) stops every
copy (SIGTERM, then SIGKILL after --grace); a second one kills at once. Copies
stopped that way, or by --timeout or --deadline, are counted as stopped, never
as succeeded.

--launcher systemd talks to the user's systemd manager over
$DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus. Without one: log in
through a session that starts 'systemd --user' (check: systemctl --user
status), or keep one running with 'loginctl enable-linger USER'.

Exit status: 0 if every copy exited with code 0; 1 otherwise (a copy failed or
was stopped by --timeout or --deadline, or the launcher could not be set up); 2 for a usage
error; 130 after Ctrl-C (SIGINT), 143 after SIGTERM.
`;

const VALUE_OPTIONS = new Set(['-n', '--count', '--name', '--ready-timeout', '--tail', '--launcher', '--cgroup', '--nodes', '--allocation', '--callback-host', '--timeout', '--deadline', '--grace']);
const FLAG_OPTIONS = new Set(['--ready', '--json', '-h', '--help']);
const ALL_OPTIONS = [...VALUE_OPTIONS, ...FLAG_OPTIONS];
const LAUNCHERS: readonly RunLauncher[] = ['native', 'systemd', 'slurm'];
/** Why a launcher other than native has no --cgroup: it contains the copies itself. */
const OWN_CONTAINMENT: Record<Exclude<RunLauncher, 'native'>, string> = {
  systemd: 'which puts each copy in a cgroup of its own',
  slurm: "whose copies run on the allocation's nodes, contained by slurmd",
};
/** Slurm job ids: a number (22.05 prints "Granted job allocation 42"). */
const JOB_ID = /^[1-9]\d{0,9}$/;

export function parseRunArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): RunArgs {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      rest = argv.slice(i);
      break;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (FLAG_OPTIONS.has(name)) {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      flags.add(name === '-h' ? '--help' : name);
    } else if (VALUE_OPTIONS.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      values.set(name === '-n' ? '--count' : name, value);
    } else {
      throw unknownOption(name, ALL_OPTIONS);
    }
  }
  const help = flags.has('--help');
  const program = rest[0];
  if (program === undefined && !help) throw new UsageError('missing PROGRAM (after --)');
  const { launcher, launcherSource } = chooseRunLauncher(values.get('--launcher'), env);
  const cgroup = values.get('--cgroup') ?? null;
  if (cgroup !== null) {
    if (!isAbsolute(cgroup)) throw new UsageError(`--cgroup must be an absolute path, got ${JSON.stringify(cgroup)}`);
    // systemd already gives every unit a cgroup of its own, under its manager's tree.
    if (launcher !== 'native') throw new UsageError(`--cgroup works with the native launcher only (${launcherSource} chose ${launcher}, ${OWN_CONTAINMENT[launcher]})`);
  }
  const { nodes, allocation } = slurmOptions(values, launcher, launcherSource);
  const ready = flags.has('--ready') || values.has('--ready-timeout');
  const callbackHost = callbackHostOption(values.get('--callback-host'), ready, launcher);
  const readyTimeout = values.get('--ready-timeout');
  const timeout = values.get('--timeout');
  const deadline = values.get('--deadline');
  return {
    count: integerOption(values.get('--count'), '--count', 1, 1, 100_000),
    name: values.get('--name') ?? (program === undefined ? 'proc' : basename(program) || 'proc'),
    ready,
    readyTimeoutMs: integerOption(readyTimeout, '--ready-timeout', 30_000, 1, 2 ** 31 - 1),
    tail: integerOption(values.get('--tail'), '--tail', 10, 0, 100_000),
    launcher,
    launcherSource,
    cgroup,
    nodes,
    allocation,
    callbackHost,
    timeoutMs: timeout === undefined ? null : integerOption(timeout, '--timeout', 0, 0, 2 ** 31 - 1),
    deadlineMs: deadline === undefined ? null : integerOption(deadline, '--deadline', 0, 1, 2 ** 31 - 1),
    graceMs: integerOption(values.get('--grace'), '--grace', 5000, 0, 2 ** 31 - 1),
    json: flags.has('--json'),
    help,
    program: program ?? '',
    args: rest.slice(1),
  };
}

/** --nodes and --allocation: Slurm only, and one or the other (--nodes sizes the allocation the launcher makes). */
function slurmOptions(values: ReadonlyMap<string, string>, launcher: RunLauncher, launcherSource: string | null): Pick<RunArgs, 'nodes' | 'allocation'> {
  const nodesText = values.get('--nodes');
  const allocation = values.get('--allocation') ?? null;
  for (const [flag, given] of [['--nodes', nodesText !== undefined], ['--allocation', allocation !== null]] as const) {
    if (given && launcher !== 'slurm') {
      const chosen = launcherSource === null ? 'the default launcher is native' : `${launcherSource} chose ${launcher}`;
      throw new UsageError(`${flag} works with --launcher slurm only (${chosen})`);
    }
  }
  if (nodesText !== undefined && allocation !== null) {
    throw new UsageError('--nodes and --allocation exclude each other: --nodes sizes the allocation the launcher makes, --allocation uses one that exists');
  }
  if (allocation !== null && !JOB_ID.test(allocation)) throw new UsageError(`--allocation must be a Slurm job id (a number), got ${JSON.stringify(allocation)}`);
  return { nodes: nodesText === undefined ? null : integerOption(nodesText, '--nodes', 1, 1, 100_000), allocation };
}

/** --callback-host, checked as ProcManager checks callbackHost; --ready on Slurm cannot work without it. */
function callbackHostOption(value: string | undefined, ready: boolean, launcher: RunLauncher): string | null {
  if (value === undefined) {
    // The nodes cannot reach this machine's Unix sockets: every copy would time out.
    if (ready && launcher === 'slurm') throw new UsageError('--ready with --launcher slurm needs --callback-host ADDR (an address of this machine the nodes can reach)');
    return null;
  }
  try {
    parseCallbackHost(value, '--callback-host');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return value;
}

function chooseRunLauncher(flag: string | undefined, env: NodeJS.ProcessEnv): { launcher: RunLauncher; launcherSource: string | null } {
  const fromEnv = env[LAUNCHER_ENV];
  const [value, source] = flag !== undefined ? [flag, '--launcher'] : fromEnv !== undefined && fromEnv !== '' ? [fromEnv, LAUNCHER_ENV] : ['native', null];
  if (!(LAUNCHERS as readonly string[]).includes(value)) {
    throw new UsageError(`${source} must be native, systemd or slurm, got ${JSON.stringify(value)}${suggestionFor(value, LAUNCHERS)}`);
  }
  return { launcher: value as RunLauncher, launcherSource: source };
}

function integerOption(text: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new UsageError(`${name} must be a whole number, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${name} must be from ${min} to ${max}, got ${value}`);
  return value;
}

// The local srun command line for one proc, and the tiny remote wrapper that runs first
// on the node: it checks the cwd and the program (so launch can reject with ENOENT/EACCES
// instead of reporting an exit code), prints the remote pid on a marked stderr line, then
// execs the program in its own pid (so that pid is the proc's).
//
// Why a watcher: slurmstepd sends the task's exit status only once the task's stdio is
// closed, so a background child the leader left (holding stdout/stderr) delays the exit by
// ~60 s and lives on. Like native's killGroupOnExit, a detached watcher in the task's
// process group (slurmstepd makes the task a group leader) SIGKILLs that group when the
// leader is gone. It ignores TERM/INT/HUP so a terminate does not take it first; scancel
// KILL still does. `tail --pid` (GNU coreutils) waits without a process per poll; a 1 s
// kill -0 loop is the fallback. It is forked twice, so it is not the program's child:
// Slurm's signal sweep (children before parents) has no more processes to go through
// before the leader, and the program never sees a child it did not make.
import { ProcLauncherError } from '../contract.js';
import type { NormalizedLaunch } from '../common/normalize-launch.js';
import type { RlimitName } from '../contract.js';

/** dash's `ulimit` letter and unit (bytes per unit) for each limit; prlimit(1) units are bytes, seconds, counts. */
const ULIMIT: Readonly<Record<RlimitName, readonly [letter: string, unit: number]>> = {
  cpu: ['t', 1], fsize: ['f', 512], stack: ['s', 1024], core: ['c', 512], nproc: ['p', 1], nofile: ['n', 1], memlock: ['l', 1024], as: ['v', 1024],
};

// $1 = cwd ('' for none), $2 = program, the rest its arguments; $0 names the wrapper in ps.
// Why checks before exec: a failed exec in sh only exits 126/127 with a message, which
// cannot be told from the program's own exit. What they cannot foresee (ENOEXEC, a race)
// still ends as that exit code.
const WRAPPER = `m=$MARK
d=$1 p=$2; shift 2
fail() { printf '%s error %s %s\\n' "$m" "$1" "$2" >&2; exit 127; }
if [ -n "$d" ]; then
  [ -e "$d" ] || fail ENOENT chdir
  [ -d "$d" ] || fail ENOTDIR chdir
  cd "$d" 2>/dev/null || fail EACCES chdir
fi
case $p in
  */*) f=$p ;;
  *) f=$(command -v "$p") || fail ENOENT exec ;;
esac
case $f in
  */*) [ -e "$f" ] || fail ENOENT exec
       [ -d "$f" ] && fail EACCES exec
       [ -x "$f" ] || fail EACCES exec ;;
esac
$LIMITS
printf '%s pid %s\\n' "$m" "$$" >&2
w=$$
( ( trap '' TERM INT HUP
    tail --pid=$w -s 0.2 -f /dev/null 2>/dev/null || while kill -0 $w 2>/dev/null; do sleep 1; done
    kill -KILL -$w 2>/dev/null ) </dev/null >/dev/null 2>&1 & )
exec "$p" "$@"`;

export interface StepCommand {
  program: string;
  args: string[];
}

export function buildStepCommand(launch: NormalizedLaunch, jobId: string, host: string, marker: string): StepCommand {
  const args = ['-v', `--jobid=${jobId}`, '--overlap', '-N1', '-n1', `--nodelist=${host}`, `--job-name=${launch.procId}`, '--export=ALL'];
  if (launch.cwd !== undefined) args.push(`--chdir=${launch.cwd}`);
  if (launch.stdin === 'null') args.push('--input=none');
  // --input=none leaves the task a pipe srun never writes to: /dev/null is what the other backends give.
  const stdin = launch.stdin === 'null' ? 'exec </dev/null\n' : '';
  args.push('--', '/bin/sh', '-c', stdin + WRAPPER.replace('$MARK', marker).replace('$LIMITS', limitCommands(launch)), 'proclaunch-step', launch.cwd ?? '', launch.program, ...launch.args);
  return { program: 'srun', args };
}

/**
 * Soft and hard limits set on the node by the wrapper (srun --propagate copies the soft
 * limit only). Hard first when it can be (not below the current soft), then soft, then
 * hard again: every order of old and new values ends at exactly [soft, hard].
 */
function limitCommands(launch: NormalizedLaunch): string {
  return launch.rlimits.map(({ name, soft, hard }) => {
    const [letter, unit] = ULIMIT[name];
    const value = (limit: number): string => (limit === Infinity ? 'unlimited' : String(limit / unit));
    const setHard = `ulimit -H -${letter} ${value(hard)}`;
    return `${setHard} 2>/dev/null; ulimit -S -${letter} ${value(soft)} 2>/dev/null && ${setHard} 2>/dev/null || fail EPERM rlimit-${name}`;
  }).join('\n');
}

/** Options another backend has and a Slurm step cannot honour: an error naming them, never silence. */
export function checkSlurmCanHonour(launch: NormalizedLaunch): void {
  const refuse = (option: string, why: string): never => {
    throw new ProcLauncherError('launch', `${option} is not supported by SlurmProcLauncher: ${why}`, { code: 'ENOTSUP', errno: 95, stage: 'validate' });
  };
  if (launch.procBind !== undefined) refuse('opts.procBind', 'CPU and memory binding is Slurm\'s task plugin\'s business (srun --cpu-bind/--mem-bind with task/affinity), not ours');
  if (launch.arg0 !== launch.program) refuse('opts.command.arg0', 'the step execs the program through /bin/sh, which cannot set argv[0]');
  for (const { name, soft, hard } of launch.rlimits) {
    const unit = ULIMIT[name][1];
    for (const limit of [soft, hard]) {
      if (limit !== Infinity && limit % unit !== 0) refuse(`opts.rlimits.${name}`, `the node's sh sets it in units of ${unit} bytes: ${limit} is not a multiple of ${unit}`);
    }
  }
  if (launch.newSession) refuse('opts.newSession', 'slurmstepd decides the task\'s session and process group');
}

// `proclaunch run --cgroup DIR`: the containment of the native launcher's `cgroup` option,
// from the command line. kill -9 of the CLI runs no code in it, yet nothing it started
// may survive; without --cgroup the grandchildren do (the documented limit), which is
// what makes the first test able to fail.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

import { removeCgroupTree, testCgroupRoot } from '../helpers/cgroup.js';
import { fixture } from '../helpers/fixtures.js';
import { isRunning, killQuietly, waitFor } from '../helpers/proc-table.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

/** Copy 0 leaves a grandchild in its process group, copy 1 one in a session of its own. */
const TREE = ['sh', '-c', 'if [ "$PROCLAUNCH_INDEX" = 0 ]; then exec "$1"; else exec "$2"; fi', 'sh', fixture('spawn-grandchild'), fixture('spawn-escaped-grandchild')];

interface RunningCli {
  leaders: number[];
  grandchildren: number[];
  killCli(): Promise<void>;
}

/** Starts `proclaunch run -n 2` and waits until both copies have started their grandchild. */
async function startCli(extra: string[]): Promise<RunningCli> {
  const child = spawn(process.execPath, [cli, 'run', '-n', '2', '--name', 'tree', ...extra, '--', ...TREE], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PROCLAUNCH_LAUNCHER: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pidsOf = (text: string, pattern: RegExp): number[] => [...text.matchAll(pattern)].map((match) => Number(match[1]));
  try {
    await waitFor(() => pidsOf(stdout, /^\[tree-\d\] (\d+)$/gm).length === 2 && pidsOf(stderr, / running pid (\d+)/g).length === 2, 'both copies and their grandchildren', 20_000);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${(error as Error).message}; stderr so far: ${stderr}`);
  }
  return {
    leaders: pidsOf(stderr, / running pid (\d+)/g),
    grandchildren: pidsOf(stdout, /^\[tree-\d\] (\d+)$/gm),
    killCli: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Every pid in a cgroup tree (empty when the tree is gone). */
function pidsInTree(dir: string): number[] {
  if (!existsSync(dir)) return [];
  try {
    const own = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    const below = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).flatMap((entry) => pidsInTree(join(dir, entry.name)));
    return [...own, ...below];
  } catch {
    return []; // removed while we looked
  }
}

const roots: string[] = [];
afterAll(() => roots.forEach(removeCgroupTree));

describe('proclaunch run --cgroup', () => {
  it('kill -9 of the CLI: no copy and no grandchild survives, escaped from the process group or not', async (ctx) => {
    const root = testCgroupRoot('cli-run');
    if ('skip' in root) return ctx.skip();
    roots.push(root.path);
    const run = await startCli(['--cgroup', root.path]);
    const all = [...run.leaders, ...run.grandchildren];
    try {
      expect(all.every(isRunning)).toBe(true);
      // The copies really are in cgroups under DIR.
      expect(pidsInTree(root.path)).toEqual(expect.arrayContaining(all));
      await run.killCli();
      await waitFor(() => all.every((pid) => !isRunning(pid)), 'every copy and grandchild to die', 20_000);
      await waitFor(() => pidsInTree(root.path).length === 0, `no process left under ${root.path}`, 20_000);
    } finally {
      all.forEach(killQuietly);
    }
  });

  it('a DIR that is not on a cgroup v2 mount: one clear error before anything starts, exit 1', async () => {
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [cli, 'run', '--cgroup', '/tmp/proclaunch-not-a-cgroup', '--', 'true'], (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^proclaunch run: [^\n]*\/tmp\/proclaunch-not-a-cgroup[^\n]*not on a cgroup v2 mount[^\n]*\n\(--cgroup DIR must be on a cgroup v2 mount/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync('/tmp/proclaunch-not-a-cgroup')).toBe(false);
  });

  it('without --cgroup the copies die with the CLI but their grandchildren survive (why --cgroup exists)', async () => {
    const run = await startCli([]);
    try {
      await run.killCli();
      await waitFor(() => run.leaders.every((pid) => !isRunning(pid)), 'both copies to die (PR_SET_PDEATHSIG)', 20_000);
      expect(run.grandchildren.filter(isRunning)).toEqual(run.grandchildren);
    } finally {
      [...run.leaders, ...run.grandchildren].forEach(killQuietly);
    }
  });
});

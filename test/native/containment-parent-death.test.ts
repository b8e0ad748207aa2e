import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

import { removeCgroupTree, testCgroupRoot } from '../helpers/cgroup.js';
import { isRunning, killQuietly, waitFor } from '../helpers/proc-table.js';

const here = dirname(fileURLToPath(import.meta.url));
const entry = pathToFileURL(join(here, '..', '..', 'dist', 'index.js')).href;
const host = join(here, '..', 'fixtures', 'launcher-host.mjs');
const COUNT = 100;

interface HostPids {
  leaders: number[];
  grandchildren: number[];
  escaped: number[];
}

/** Starts a Node host that launches COUNT procs (half with setsid-escaped grandchildren). */
async function startHost(cgroup: string, thread: 'main' | 'worker'): Promise<{ kill: () => void; pids: HostPids }> {
  const child = spawn(process.execPath, [host, entry, cgroup, thread, String(COUNT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pids = await new Promise<HostPids>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(JSON.parse(text.slice(0, text.indexOf('\n'))) as HostPids);
    });
    child.once('exit', (code, signal) => reject(new Error(`host exited early: ${code ?? signal}`)));
  });
  return {
    pids,
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}

const roots: string[] = [];
afterAll(() => roots.forEach(removeCgroupTree));

describe('a SIGKILLed parent', () => {
  for (const thread of ['main', 'worker'] as const) {
    it(`with cgroup + parentDeathSignal: nothing survives (launched from the ${thread} thread)`, async (ctx) => {
      const root = testCgroupRoot(`pdeath-${thread}`);
      if ('skip' in root) return ctx.skip();
      roots.push(root.path);
      const { pids, kill } = await startHost(root.path, thread);
      const all = [...pids.leaders, ...pids.grandchildren, ...pids.escaped];
      expect(all).toHaveLength(COUNT * 2);
      expect(all.every(isRunning)).toBe(true);
      const killedAt = Date.now();
      kill();
      await waitFor(() => all.every((pid) => !isRunning(pid)), 'every proc and grandchild to die', 10_000);
      // The figure for the README's Guarantees (not asserted: timing is not a test).
      console.log(`parent-death (${thread}): ${all.length} processes gone ${Date.now() - killedAt} ms after kill -9 of the parent`);
      // The watchdog also removes the launcher's cgroup tree.
      await waitFor(() => !existsSync(root.path), `cgroup ${root.path} to be removed`, 10_000);
    });
  }

  it('without cgroup: the leaders die (PR_SET_PDEATHSIG), their descendants survive', async () => {
    const { pids, kill } = await startHost('-', 'main');
    const descendants = [...pids.grandchildren, ...pids.escaped];
    try {
      kill();
      await waitFor(() => pids.leaders.every((pid) => !isRunning(pid)), 'every leader to die', 10_000);
      // Nothing alive is left to kill the groups: this is the documented limit.
      expect(descendants.filter(isRunning)).toEqual(descendants);
    } finally {
      descendants.forEach(killQuietly);
    }
  });
});

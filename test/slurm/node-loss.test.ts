// A node lost mid-run (its link cut): the proc there ends `failed` with the reason, srun's
// exit 0 notwithstanding; a proc on another node of the same --no-kill allocation keeps
// running. The node is brought back and must be idle again before the file ends.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';

import { SlurmProcLauncher } from '../../src/index.js';
import { fixture } from '../helpers/fixtures.js';
import { isRunning, waitFor } from '../helpers/proc-table.js';
import { cluster, slurmCommand } from './slurm-context.js';
import { expectNothingLeft, jobListed } from './slurm-helpers.js';

function nodeState(node: string): string {
  return slurmCommand('sinfo', ['-h', '-N', '-n', node, '-o', '%t']).trim();
}

function setLink(node: string, state: 'up' | 'down'): void {
  execFileSync('ip', ['-n', cluster!.nodeNetns(node), 'link', 'set', 'eth0', state]);
}

describe.skipIf(cluster === null)('SlurmProcLauncher: a node lost mid-run', () => {
  let linkDown = false;

  afterAll(async () => {
    if (linkDown) setLink('node3', 'up');
    // Later files allocate all three nodes: node3 must be back (ReturnToService=2).
    await waitFor(() => nodeState('node3') === 'idle', 'node3 idle again', 120_000);
  });

  it('fails the proc on the lost node with the reason; the proc elsewhere runs on', async () => {
    const launcher = new SlurmProcLauncher({ nodes: 3 });
    const jobId = await launcher.allocation();
    const lost = await launcher.launch('on-node3', { command: { program: fixture('forever') }, host: 'node3', tailLines: 5 });
    const kept = await launcher.launch('on-node1', { command: { program: fixture('forever') }, host: 'node1' });
    setLink('node3', 'down');
    linkDown = true;
    // SlurmdTimeout=10: srun gives up on the node after about 30 s.
    const exit = await lost.exit;
    expect(exit.kind).toBe('failed');
    expect(exit.kind === 'failed' && exit.reason).toMatch(/^node failure on node3: /);
    expect(exit.stderrTail).toEqual([]);
    // The allocation shrank (--no-kill) but lives, and so does the other step.
    expect(await launcher.hosts()).toEqual(['node1', 'node2']);
    expect(isRunning(kept.pid!)).toBe(true);
    // Round robin now skips the lost node.
    const next = await Promise.all([0, 1, 2].map((i) => launcher.launch(`after-${i}`, { command: { program: '/bin/true' } })));
    expect(new Set(next.map((r) => r.host))).toEqual(new Set(['node1', 'node2']));
    for (const r of next) {
      expect(r.host).not.toBe('node3');
      expect(await r.exit).toEqual({ kind: 'exited', code: 0 });
    }
    await launcher.kill('on-node1');
    expect(await kept.exit).toMatchObject({ kind: 'signaled', signalName: 'SIGKILL' });

    setLink('node3', 'up');
    linkDown = false;
    await launcher.dispose();
    expect(jobListed(jobId)).toBe(false);
    await expectNothingLeft(jobId, [kept.pid!]);
    // Back on the network, node3's slurmd registers again and is told to end the job Slurm
    // finished meanwhile: the proc that outlived the loss goes too.
    const back = Date.now();
    await waitFor(() => nodeState('node3') === 'idle', 'node3 idle again', 120_000);
    await waitFor(() => !isRunning(lost.pid!), `the proc left on node3 (pid ${lost.pid}) gone`, 120_000);
    console.log(`node3 back and its orphaned proc gone ${((Date.now() - back) / 1000).toFixed(1)} s after dispose`);
  });
});

// The harness itself: three idle nodes, each in its own netns with its own hostname.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { cluster, slurmCommand } from './slurm-context.js';

describe.skipIf(cluster === null)('the test cluster', () => {
  it('has three idle nodes that answer as themselves', () => {
    const states = slurmCommand('sinfo', ['-h', '-N', '-o', '%N %t']).trim().split('\n').sort();
    expect(states).toEqual(['node1 idle', 'node2 idle', 'node3 idle']);
    const names = slurmCommand('srun', ['-N3', '--overlap', 'hostname']).trim().split('\n').sort();
    expect(names).toEqual(['node1', 'node2', 'node3']);
  });

  it('puts each node in its own network namespace, named after the prefix', () => {
    const addr = execFileSync('ip', ['-n', cluster!.nodeNetns('node2'), '-4', '-o', 'addr', 'show', 'eth0'], { encoding: 'utf8' });
    expect(addr).toContain('10.200.0.12/24');
    expect(cluster!.prefix).toMatch(/^sl[0-9a-f]{6}$/);
  });
});

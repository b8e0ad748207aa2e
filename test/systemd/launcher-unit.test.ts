import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { fixture } from '../helpers/fixtures.js';
import { unitProperty } from './bus-tools.js';
import { busAddress, expectNoUnitsLeft, launcherFor, skipNote, systemd, TREE_USAGE } from './harness.js';

/** The indexes set in a systemd CPU/NUMA bitmask (systemd pads it to whole 64-bit words). */
function indexesOf(mask: unknown): number[] {
  const out: number[] = [];
  [...(mask as Buffer)].forEach((byte, i) => {
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) out.push(i * 8 + bit);
  });
  return out;
}

function cpusAllowed(pid: number): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('Cpus_allowed_list:'));
  return line!.split(':')[1]!.trim();
}

describe.skipIf(!systemd.available)(`SystemdProcLauncher unit settings and launch errors${skipNote}`, () => {
  const launcher = launcherFor('unit');
  const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-sd-unit-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('sets CPUAffinity from procBind.cpus, seen in the unit and in the process', async () => {
    const result = await launcher.launch('affinity', { command: { program: fixture('forever') }, procBind: { cpus: '1' } });
    const unitName = launcher.unitNameOf('affinity');
    expect(indexesOf(await unitProperty(busAddress(), unitName, 'Service', 'CPUAffinity'))).toEqual([1]);
    expect(cpusAllowed(result.pid!)).toBe('1');
    await launcher.kill('affinity');
    await result.exit;
  });

  it('sets NUMAPolicy=bind and NUMAMask from procBind.membind, and CPUs from cpunodebind', async () => {
    const result = await launcher.launch('numa', { command: { program: fixture('forever') }, procBind: { membind: '0', cpunodebind: '0' } });
    const unitName = launcher.unitNameOf('numa');
    expect(await unitProperty(busAddress(), unitName, 'Service', 'NUMAPolicy')).toBe(2);
    expect(indexesOf(await unitProperty(busAddress(), unitName, 'Service', 'NUMAMask'))).toEqual([0]);
    const node0 = readFileSync('/sys/devices/system/node/node0/cpulist', 'utf8').trim();
    expect(cpusAllowed(result.pid!)).toBe(node0);
    await launcher.kill('numa');
    await result.exit;
  });

  it('reports an exec that only systemd sees failing (status 203/EXEC) as a launch error, leaving no unit', async () => {
    // Executable, but its interpreter does not exist: execve fails inside systemd's child.
    const script = join(scratch, 'bad-interpreter');
    writeFileSync(script, '#!/nonexistent/interpreter\n');
    chmodSync(script, 0o755);
    await expect(launcher.launch('exec-fails', { command: { program: script } })).rejects.toMatchObject({
      name: 'ProcLauncherError',
      kind: 'launch',
      code: 'ERR_SYSTEMD_EXEC',
      stage: 'exec',
    });
    await expectNoUnitsLeft(launcher.unitNameOf('exec-fails'));
    // The id is free again.
    const again = await launcher.launch('exec-fails', { command: { program: '/bin/true' } });
    expect(await again.exit).toEqual({ kind: 'exited', code: 0, treeUsage: TREE_USAGE });
  });

  it('names units stably and validly, whatever the proc id', async () => {
    const odd = 'worker/0 @host:1$ü';
    expect(launcher.unitNameOf(odd)).toBe('proclaunch-test-unit-worker\\x2f0\\x20\\x40host:1\\x24\\xc3\\xbc.service');
    const result = await launcher.launch(odd, { command: { program: '/bin/true' } });
    expect(await result.exit).toEqual({ kind: 'exited', code: 0, treeUsage: TREE_USAGE });
    const long = 'x'.repeat(400);
    const name = launcher.unitNameOf(long);
    expect(name.length).toBeLessThanOrEqual(255);
    const longResult = await launcher.launch(long, { command: { program: fixture('exit-n'), args: ['5'] } });
    expect(await longResult.exit).toEqual({ kind: 'exited', code: 5, treeUsage: TREE_USAGE });
  });
});

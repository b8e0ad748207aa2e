import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { fixture } from '../helpers/fixtures.js';
import { limitOf } from '../contract/harness-contract.js';
import { launcherFor, skipNote, systemd } from './harness.js';

// Systemd-only rlimits detail; the shared harness contract is in test/contract/harness-contract.ts.
describe.skipIf(!systemd.available)(`SystemdProcLauncher rlimits${skipNote}`, () => {
  const launcher = launcherFor('harness');

  it('a limit above what the kernel allows is clamped by systemd (setrlimit_closest), not refused as on native', async () => {
    const nrOpen = readFileSync('/proc/sys/fs/nr_open', 'utf8').trim();
    const result = await launcher.launch('rlimit-clamped', { command: { program: fixture('forever') }, rlimits: { nofile: 2 ** 40 } });
    try {
      // The closest the manager may grant: at most its own hard limit, never above fs.nr_open.
      const [soft, hard] = limitOf(result.pid!, 'Max open files').map(Number) as [number, number];
      expect(soft).toBe(hard);
      expect(hard).toBeGreaterThan(0);
      expect(hard).toBeLessThanOrEqual(Number(nrOpen));
    } finally {
      await launcher.kill('rlimit-clamped');
    }
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
  });
});

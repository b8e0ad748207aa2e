// `proclaunch bench --scenario slurm` where no Slurm controller answers (this test's
// machine outside a cluster): skipped with Slurm's own reason, no figures made up, its
// target without a verdict. The run on a real cluster is test/slurm/cli-bench.test.ts.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import type { BenchReport } from '../../src/bench/report.js';
import { resolveScenarioNames } from '../../src/bench/run-bench.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

describe('bench scenario 10 (slurm) without a cluster', () => {
  it('is selectable by name and number', () => {
    expect(resolveScenarioNames(['slurm'])).toEqual(['slurm']);
    expect(resolveScenarioNames(['10'])).toEqual(['slurm']);
  });

  it('is skipped with why, exit 0, and target 11 has no verdict', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proclaunch-bench-noslurm-'));
    try {
      // A controller nobody runs: squeue fails fast, as on a machine without Slurm.
      const conf = join(dir, 'slurm.conf');
      writeFileSync(conf, 'ClusterName=none\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=1\nMessageTimeout=2\nNodeName=n1 CPUs=1\nPartitionName=p Nodes=n1 Default=YES\n');
      const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(process.execPath, [cli, 'bench', '--quick', '--json', '--scenario', 'slurm'], { env: { ...process.env, SLURM_CONF: conf } }, (error, out) =>
          resolve({ code: error === null ? 0 : Number(error.code), stdout: out }),
        );
      });
      expect(code).toBe(0);
      const report = JSON.parse(stdout) as BenchReport;
      expect(report.scenarios).toHaveLength(1);
      const [slurm] = report.scenarios;
      expect(slurm).toMatchObject({ name: 'slurm', number: 10, status: 'skipped', baseline: 'srun', metrics: [] });
      expect(slurm!.reason).toMatch(/^(no Slurm controller answers here: squeue exited|no Slurm client commands here)/);
      expect(report.targets.find((t) => t.id === 11)).toMatchObject({ met: null, measured: expect.stringContaining('slurm not measured') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

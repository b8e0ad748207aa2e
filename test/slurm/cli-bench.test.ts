// `proclaunch bench --quick --scenario slurm` on the test cluster's login node: both
// contenders measured in the same rounds, the burst's figures present, and the bench's
// own allocation released with no step or job left behind.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import type { BenchReport } from '../../src/bench/report.js';
import { cluster, slurmCommand } from './slurm-context.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

function jobIds(): string[] {
  return slurmCommand('squeue', ['-h', '-o', '%i']).split('\n').map((line) => line.trim()).filter((line) => line !== '').sort();
}

describe.skipIf(cluster === null)('proclaunch bench --scenario slurm on a cluster', () => {
  it('measures SlurmProcLauncher against raw srun and a burst under a ProcManager, and leaves nothing in Slurm', async () => {
    const before = jobIds();
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [cli, 'bench', '--quick', '--json', '--scenario', 'slurm'], { timeout: 300_000 }, (error, out, err) =>
        resolve({ code: error === null ? 0 : Number(error.code), stdout: out, stderr: err }),
      );
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const slurm = (JSON.parse(stdout) as BenchReport).scenarios.find((s) => s.name === 'slurm');
    expect(slurm).toMatchObject({ status: 'ok', baseline: 'srun', contenders: ['slurm', 'srun'], skipped: {} });
    const value = (metric: string, contender: 'slurm' | 'srun'): unknown => slurm!.metrics.find((m) => m.name === metric)?.values[contender];
    for (const contender of ['slurm', 'srun'] as const) {
      expect(value('latencyP50', contender)).toBeGreaterThan(0);
      expect(value('throughput', contender)).toBeGreaterThan(0);
    }
    for (const metric of ['burstThroughput', 'heapPerProc', 'rssPerProc', 'terminateAllMs']) expect(value(metric, 'slurm')).toEqual(expect.any(Number));
    expect(value('burstThroughput', 'slurm')).toBeGreaterThan(0);
    // Spread: with no host asked for, the burst used every node of the bench's allocation.
    expect(slurm!.notes.join('\n')).toContain('spread over 3 hosts');
    expect(jobIds()).toEqual(before);
  });
});

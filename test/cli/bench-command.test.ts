// `proclaunch bench` end to end, in quick mode, on cheap scenarios: the JSON shape and
// the clean-up are checked, never the figures (they depend on the machine).
import { describe, expect, it } from 'vitest';

import { runBenchCommand } from '../../src/cli/bench-command.js';
import type { BenchReport, ScenarioReport } from '../../src/bench/report.js';
import { liveChildren, openFds, waitFor, zombieChildren } from '../helpers/proc-table.js';

interface Captured {
  stdout: string;
  stderr: string;
}

async function bench(argv: string[]): Promise<{ code: number; out: Captured }> {
  const out: Captured = { stdout: '', stderr: '' };
  const code = await runBenchCommand(argv, {
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: { write: (text: string) => (out.stderr += text), isTTY: false },
  });
  return { code, out };
}

function scenario(report: BenchReport, name: string): ScenarioReport {
  const found = report.scenarios.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no scenario ${name} in the report`);
  return found;
}

describe('proclaunch bench --quick --json', () => {
  it('reports figures for every contender that ran, and leaves nothing behind', { timeout: 180_000 }, async () => {
    const fdsBefore = openFds().length;
    const zombiesBefore = zombieChildren().length;
    const { code, out } = await bench(['--quick', '--json', '--scenario', 'sequential,idle-footprint', '--scenario', '8']);
    expect(out.stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(out.stdout) as BenchReport;

    expect(report.version).toBe(1);
    expect(report.meta).toMatchObject({ quick: true, node: process.version });
    expect(report.meta.cpus).toBeGreaterThan(0);
    expect(report.scenarios.map((s) => [s.number, s.name])).toEqual([
      [1, 'sequential'],
      [6, 'idle-footprint'],
      [8, 'systemd'],
    ]);

    const sequential = scenario(report, 'sequential');
    expect(sequential.status).toBe('ok');
    expect(sequential.baseline).toBe('child_process');
    expect(sequential.contenders).toEqual(expect.arrayContaining(['native', 'child_process']));
    expect(sequential.metrics.map((m) => m.name)).toEqual(['throughput', 'latencyP50', 'latencyP99']);
    for (const metric of sequential.metrics) {
      for (const contender of sequential.contenders) expect(metric.values[contender]).toEqual(expect.any(Number));
      expect(metric.ratios['child_process']).toBe(1);
    }
    // A contender is either measured or skipped with a reason, never both, never neither.
    for (const name of ['execa', 'tinyexec', 'c-limit', 'c-limit-setup'] as const) {
      expect(sequential.contenders.includes(name) !== (sequential.skipped[name] !== undefined)).toBe(true);
    }

    const footprint = scenario(report, 'idle-footprint');
    expect(footprint.status).toBe('ok');
    const fds = footprint.metrics.find((m) => m.name === 'fdsPerProc');
    expect(fds?.values['native']).toEqual(expect.any(Number));
    expect(fds?.values['child_process']).toEqual(expect.any(Number));

    // Scenario 8 either ran against a real systemd or says why not; it never makes numbers up.
    const systemd = scenario(report, 'systemd');
    expect(['ok', 'skipped']).toContain(systemd.status);
    if (systemd.status === 'skipped') {
      expect(systemd.reason).toEqual(expect.any(String));
      expect(systemd.metrics).toEqual([]);
    }

    expect(report.targets.map((t) => t.id)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const t of report.targets) expect([true, false, null]).toContain(t.met);

    expect(liveChildren()).toEqual([]);
    expect(zombieChildren().length).toBe(zombiesBefore);
    await waitFor(() => openFds().length <= fdsBefore, `fd count to return to ${fdsBefore} (now ${openFds().length})`);
  });

  it('prints a table without --json', { timeout: 120_000 }, async () => {
    const { code, out } = await bench(['--quick', '--scenario', 'launch-call']);
    expect(code).toBe(0);
    expect(out.stdout).toContain('2. synchronous time of the launch call');
    expect(out.stdout).toMatch(/^\s+native\s/m);
    expect(out.stdout).toContain('targets');
  });

  it('rejects unknown options and scenarios with exit code 2', async () => {
    expect((await bench(['--bogus'])).code).toBe(2);
    const unknown = await bench(['--scenario', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.out.stderr).toContain('unknown scenario "nope"');
    const help = await bench(['--help']);
    expect(help.code).toBe(0);
    expect(help.out.stdout).toContain('--scenario NAME');
  });
});

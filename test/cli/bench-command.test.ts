// `proclaunch bench` end to end, in quick mode, on cheap scenarios: the JSON shape and
// the clean-up are checked, never the figures (they depend on the machine).
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { runBenchCommand } from '../../src/cli/bench-command.js';
import { countOf } from '../../src/bench/count-noun.js';
import type { BenchReport, ScenarioReport } from '../../src/bench/report.js';
import { SCENARIOS } from '../../src/bench/run-bench.js';
import { titleOf } from '../../src/bench/scenario.js';
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
    for (const name of ['execa', 'tinyexec', 'c-limit', 'c-limit-setup', 'c-limit-setsid', 'bun', 'deno'] as const) {
      expect(sequential.contenders.includes(name) !== (sequential.skipped[name] !== undefined)).toBe(true);
    }

    // Headings and notes name the sizes this --quick run used, in the right number.
    expect(sequential.notes[0]).toBe('2 interleaved rounds of 25 launches per contender after 5 warm-up launches; medians over rounds');
    const footprint = scenario(report, 'idle-footprint');
    expect(footprint.status).toBe('ok');
    expect(footprint.title).toBe('memory and fds per idle supervised proc (100 of them)');
    expect(footprint.notes[0]).toMatch(/^1 interleaved round of 100 idle `sleep` procs per cell; .*; one round only, so no median$/);
    expect(JSON.stringify(report.scenarios)).not.toMatch(/\b1 (rounds|launches|procs)\b/);
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

    expect(report.targets.map((t) => t.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
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

  it('headings name the sizes used: --quick ones under --quick, the full ones otherwise', () => {
    const titles = (quick: boolean): Record<string, string> => Object.fromEntries(SCENARIOS.map((s) => [s.name, titleOf(s, quick)]));
    expect(titles(false)).toMatchObject({
      'idle-scaling': 'launch -> exit with 5,000 idle supervised procs alive',
      'idle-footprint': 'memory and fds per idle supervised proc (1,000 of them)',
      terminate: 'terminate 1,000 running procs and observe every exit',
    });
    expect(titles(true)).toMatchObject({
      'idle-scaling': 'launch -> exit with 200 idle supervised procs alive',
      'idle-footprint': 'memory and fds per idle supervised proc (100 of them)',
      terminate: 'terminate 100 running procs and observe every exit',
    });
    expect(countOf(1, 'round')).toBe('1 round');
    expect(countOf(5000, 'idle proc')).toBe('5,000 idle procs');
    expect(countOf(2, 'launch', 'launches')).toBe('2 launches');
  });

  it('a heading cut down by a limit says the size actually run', { timeout: 120_000 }, async () => {
    // 330 fds leave room for about 50 idle procs of the 100 --quick asks for.
    const script = `ulimit -n 330 && exec "$0" "$1" --quick --json --scenario terminate`;
    const benchJs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'bench-command.js');
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile('/bin/sh', ['-c', script, process.execPath, benchJs], (error, out, err) => (error === null ? resolve(out) : reject(new Error(`${error.message}: ${err}`))));
    });
    const terminate = scenario(JSON.parse(stdout) as BenchReport, 'terminate');
    expect(terminate.status).toBe('ok');
    const ran = Number(/^terminate (\d+) running procs and observe every exit$/.exec(terminate.title)?.[1]);
    expect(ran).toBeGreaterThan(0);
    expect(ran).toBeLessThan(100);
    expect(terminate.notes).toContain(`ran with ${ran} idle procs instead of 100: the open-file limit (330; raise it with ulimit -n)`);
  });

  it('rejects unknown options and scenarios with exit code 2', async () => {
    expect((await bench(['--bogus'])).code).toBe(2);
    const unknown = await bench(['--scenario', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.out.stderr).toContain('unknown scenario "nope"');
    expect(unknown.out.stderr.endsWith("\nTry 'proclaunch bench --help'.\n")).toBe(true);
    expect((await bench(['--quik'])).out.stderr).toBe("proclaunch bench: unknown option --quik (did you mean --quick?)\nTry 'proclaunch bench --help'.\n");
    const help = await bench(['--help']);
    expect(help.code).toBe(0);
    expect(help.out.stdout).toContain('--scenario NAME');
  });
});

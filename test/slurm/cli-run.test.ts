// `proclaunch run --launcher slurm` end to end on the test cluster's login node: the
// compiled CLI as a child process (stderr a pipe: the live table is off, one line per
// transition), copies spread over the nodes, the summary's HOST column, --json, and an
// allocation made for the run released after it while a given one is left alone.
import { execFile, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { cluster, slurmCommand } from './slurm-context.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, PROCLAUNCH_LAUNCHER: '' }, timeout: 180_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

function jobIds(): string[] {
  return slurmCommand('squeue', ['-h', '-o', '%i']).split('\n').map((line) => line.trim()).filter((line) => line !== '').sort();
}

/** The summary's rows (after the header) until the blank line: cells split on runs of spaces. */
function summaryRows(stdout: string): string[][] {
  const lines = stdout.split('\n');
  const header = lines.findIndex((line) => /^ID\s+HOST\s+STATE\s+EXIT\s+TIME/.test(line));
  expect(header).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(header + 1)) {
    if (line.trim() === '') break;
    rows.push(line.trim().split(/\s{2,}/));
  }
  return rows;
}

describe.skipIf(cluster === null)('proclaunch run --launcher slurm', () => {
  it('--nodes 3: copies spread over the nodes, each host in the transitions and the summary; the allocation is released', async () => {
    const before = jobIds();
    const result = await runCli(['run', '--launcher', 'slurm', '--nodes', '3', '-n', '3', '--name', 'w', '--', '/bin/sh', '-c', 'echo "on $(hostname)"']);
    expect(result.code).toBe(0);
    // Output forwarded with the proc id; each copy says where it really ran.
    const ranOn = new Map<string, string>();
    for (const match of result.stdout.matchAll(/^\[(w-\d)\] on (node\d)$/gm)) ranOn.set(match[1]!, match[2]!);
    expect([...ranOn.values()].sort()).toEqual(['node1', 'node2', 'node3']);
    // Not a terminal: one line per transition, the running one naming the host.
    for (const [procId, host] of ranOn) expect(result.stderr).toMatch(new RegExp(`^proclaunch: ${procId} running pid (\\d+|-) on ${host}$`, 'm'));
    const rows = summaryRows(result.stdout);
    expect(rows.map((row) => [row[0], row[1], row[2], row[3]])).toEqual(['w-0', 'w-1', 'w-2'].map((id) => [id, ranOn.get(id), 'stopped', '0']));
    expect(result.stdout).toContain('3 procs: 3 succeeded');
    expect(jobIds()).toEqual(before);
  });

  it('--allocation JOBID: runs in the given allocation, --json has each host, the allocation survives the run', async () => {
    const before = jobIds();
    execFileSync('salloc', ['--no-shell', '--no-kill', '-N2', '-J', 'cli-test'], { stdio: 'ignore', timeout: 60_000 });
    const job = jobIds().find((id) => !before.includes(id));
    expect(job).toBeDefined();
    try {
      const hosts = execFileSync('scontrol', ['show', 'hostnames', slurmCommand('squeue', ['-h', '-j', job!, '-o', '%N']).trim()], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .sort();
      const result = await runCli(['run', '--launcher', 'slurm', '--allocation', job!, '-n', '2', '--json', '--', '/bin/sh', '-c', 'exit $PROCLAUNCH_INDEX']);
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout) as Array<{ procId: string; host?: string; status: { state: string; exitCode?: number } }>;
      expect(report.map((entry) => [entry.procId, entry.status.state, entry.status.exitCode])).toEqual([
        ['sh-0', 'stopped', 0],
        ['sh-1', 'stopped', 1],
      ]);
      expect(report.map((entry) => entry.host).sort()).toEqual(hosts);
      // Given, not made: still there after the run.
      expect(jobIds()).toContain(job);
    } finally {
      slurmCommand('scancel', [job!]);
    }
  });

  it('--ready --callback-host: copies on the nodes get ready over TCP through proclaunch/notify', async () => {
    const before = jobIds();
    const notifyModule = join(dirname(cli), '..', 'manager', 'notify.js');
    const program = `const { notifyReady } = await import(${JSON.stringify(notifyModule)});
      await notifyReady({ status: 'up on ' + (await import('node:os')).hostname() });`;
    const result = await runCli([
      'run', '--launcher', 'slurm', '--nodes', '2', '-n', '2', '--name', 'r', '--ready', '--ready-timeout', '60000', '--callback-host', '10.200.0.1',
      '--', process.execPath, '--input-type=module', '-e', program,
    ]);
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
    const readyLines = result.stderr.split('\n').filter((line) => / ready pid /.test(line));
    expect(readyLines).toHaveLength(2);
    for (const line of readyLines) expect(line).toMatch(/^proclaunch: r-\d ready pid (\d+|-) on (node\d) \(up on \2\)$/);
    expect(result.stderr).toContain('proclaunch: all 2 ready');
    expect(result.stdout).toContain('2 procs: 2 succeeded');
    expect(jobIds()).toEqual(before);
  });

  it('an unknown allocation is one clear message, exit 1, before any copy starts', async () => {
    const result = await runCli(['run', '--launcher', 'slurm', '--allocation', '999999', '-n', '2', '--', '/bin/true']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^proclaunch run: --launcher slurm: cannot get allocation 999999: /);
    expect(result.stderr).not.toContain('proclaunch: true-');
  });
});

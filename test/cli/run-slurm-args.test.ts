// `proclaunch run --launcher slurm [--nodes N] [--allocation JOBID] [--callback-host ADDR]`: the flags, their
// usage errors (no cluster needed), the HOST column, and a Slurm that cannot be reached
// reported once, before anything starts. The end-to-end run on a real cluster is
// test/slurm/cli-run.test.ts.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { parseRunArgs, RUN_HELP, UsageError } from '../../src/cli/run-args.js';
import { jsonReport, summaryLines } from '../../src/cli/run-summary.js';
import { liveTableLines, transitionLine, type ProcRow } from '../../src/cli/status-table.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, PROCLAUNCH_LAUNCHER: '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

describe('proclaunch run --launcher slurm: arguments', () => {
  it('parses --nodes and --allocation, in both spellings, and PROCLAUNCH_LAUNCHER=slurm', () => {
    expect(parseRunArgs(['--launcher', 'slurm', 'p'], {})).toMatchObject({ launcher: 'slurm', launcherSource: '--launcher', nodes: null, allocation: null });
    expect(parseRunArgs(['--launcher=slurm', '--nodes', '3', 'p'], {})).toMatchObject({ launcher: 'slurm', nodes: 3, allocation: null });
    expect(parseRunArgs(['--launcher', 'slurm', '--nodes=2', 'p'], {}).nodes).toBe(2);
    expect(parseRunArgs(['--launcher', 'slurm', '--allocation', '417', 'p'], {})).toMatchObject({ nodes: null, allocation: '417' });
    expect(parseRunArgs(['--allocation=9', '--', 'p'], { PROCLAUNCH_LAUNCHER: 'slurm' })).toMatchObject({ launcher: 'slurm', launcherSource: 'PROCLAUNCH_LAUNCHER', allocation: '9' });
    expect(parseRunArgs(['--launcher', 'slurm', '--ready', '--callback-host', '10.200.0.1', 'p'], {})).toMatchObject({ ready: true, callbackHost: '10.200.0.1' });
    expect(parseRunArgs(['--callback-host=[::1]:7000', 'p'], {}).callbackHost).toBe('[::1]:7000');
    expect(parseRunArgs(['--launcher', 'slurm', 'p'], {}).callbackHost).toBeNull();
  });

  it('usage errors say what is wrong', () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [['--nodes', '2', 'p'], {}, '--nodes works with --launcher slurm only (the default launcher is native)'],
      [['--launcher', 'native', '--nodes', '2', 'p'], {}, '--nodes works with --launcher slurm only (--launcher chose native)'],
      [['--allocation', '12', 'p'], { PROCLAUNCH_LAUNCHER: 'systemd' }, '--allocation works with --launcher slurm only (PROCLAUNCH_LAUNCHER chose systemd)'],
      [['--launcher', 'slurm', '--nodes', '0', 'p'], {}, '--nodes must be from 1 to 100000, got 0'],
      [['--launcher', 'slurm', '--nodes', 'three', 'p'], {}, '--nodes must be a whole number, got "three"'],
      [['--launcher', 'slurm', '--nodes', '-1', 'p'], {}, '--nodes must be a whole number, got "-1"'],
      [['--launcher', 'slurm', '--allocation', 'job7', 'p'], {}, '--allocation must be a Slurm job id (a number), got "job7"'],
      [['--launcher', 'slurm', '--allocation', '0', 'p'], {}, '--allocation must be a Slurm job id (a number), got "0"'],
      [['--launcher', 'slurm', '--allocation', '', 'p'], {}, '--allocation must be a Slurm job id (a number), got ""'],
      [['--launcher', 'slurm', '--nodes', '2', '--allocation', '5', 'p'], {}, '--nodes and --allocation exclude each other'],
      [['--launcher', 'slurm', '--cgroup', '/sys/fs/cgroup/x', 'p'], {}, "--cgroup works with the native launcher only (--launcher chose slurm, whose copies run on the allocation's nodes, contained by slurmd)"],
      [['--launcher', 'slurn', 'p'], {}, '--launcher must be native, systemd or slurm, got "slurn" (did you mean slurm?)'],
      [['--launcher', 'slurm', '--node', '2', 'p'], {}, 'unknown option --node (did you mean --nodes?)'],
      [['--launcher', 'slurm', '--alloc', '2', 'p'], {}, 'unknown option --alloc (did you mean --allocation?)'],
      [['--launcher', 'slurm', '--allocaton', '2', 'p'], {}, 'unknown option --allocaton (did you mean --allocation?)'],
      [['--launcher', 'slurm', '--nodes'], {}, '--nodes needs a value'],
      [['--launcher', 'slurm', '--ready', 'p'], {}, '--ready with --launcher slurm needs --callback-host ADDR (an address of this machine the nodes can reach)'],
      [['--launcher', 'slurm', '--ready-timeout', '5', 'p'], {}, '--ready with --launcher slurm needs --callback-host ADDR'],
      [['--launcher', 'slurm', '--callback-host', '0.0.0.0', 'p'], {}, '--callback-host must be an address the procs can reach us at, not the unspecified address 0.0.0.0'],
      [['--callback-host', 'a b', 'p'], {}, '--callback-host must be a host name or an IP address, got "a b"'],
      [['--callback-host', 'h:99999', 'p'], {}, '--callback-host: the port must be an integer from 0 to 65535'],
      [['--launcher', 'slurm', '--calback-host', 'h', 'p'], {}, 'unknown option --calback-host (did you mean --callback-host?)'],
    ];
    for (const [argv, env, message] of cases) {
      let thrown: unknown;
      try {
        parseRunArgs(argv, env);
      } catch (error) {
        thrown = error;
      }
      expect({ argv, thrown }).toMatchObject({ argv, thrown: expect.any(UsageError) });
      expect({ argv, message: (thrown as Error).message }).toEqual({ argv, message: expect.stringContaining(message) });
    }
  });

  it('the help documents the Slurm flags', () => {
    for (const text of ['native, systemd or slurm', '--nodes N', '--allocation JOBID', '--callback-host ADDR', 'HOST column']) expect(RUN_HELP).toContain(text);
  });

  it('the compiled CLI: usage errors exit 2 with one line and a pointer to --help', async () => {
    const cases: Array<[string[], string]> = [
      [['run', '--nodes', '2', 'true'], 'proclaunch run: --nodes works with --launcher slurm only (the default launcher is native)'],
      [['run', '--launcher', 'slurm', '--nodes', '2', '--allocation', '3', 'true'], 'proclaunch run: --nodes and --allocation exclude each other: --nodes sizes the allocation the launcher makes, --allocation uses one that exists'],
      [['run', '--launcher', 'slurm', '--nodez', '2', 'true'], 'proclaunch run: unknown option --nodez (did you mean --nodes?)'],
    ];
    for (const [args, line] of cases) {
      const result = await runCli(args);
      expect({ args, ...result }).toEqual({ args, code: 2, stdout: '', stderr: `${line}\nTry 'proclaunch run --help'.\n` });
    }
  });

  it('the compiled CLI: a Slurm it cannot reach is one message and exit 1, before any copy starts', async () => {
    // A configuration naming a controller nobody runs (loopback, a closed port): the first
    // Slurm command fails; no allocation is ever made.
    const dir = mkdtempSync(join(tmpdir(), 'proclaunch-cli-noslurm-'));
    try {
      const conf = join(dir, 'slurm.conf');
      writeFileSync(conf, 'ClusterName=none\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=1\nMessageTimeout=2\nNodeName=n1 CPUs=1\nPartitionName=p Nodes=n1 Default=YES\n');
      const result = await runCli(['run', '--launcher', 'slurm', '-n', '3', '--', 'true'], { SLURM_CONF: conf });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^proclaunch run: --launcher slurm: cannot get an allocation of 1 node: /);
      expect(result.stderr).toContain('(run it where the Slurm client commands work');
      expect(result.stderr).not.toMatch(/\n\s+at /);
      // Nothing was started: no copy shows up as a transition.
      expect(result.stderr).not.toContain('proclaunch: true-');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the HOST column', () => {
  const row = (procId: string, host: string | null, status: ProcRow['status']): ProcRow => ({ procId, pid: 40, host, status, startedAt: 1000, endedAt: 3000 });
  const rows: ProcRow[] = [
    row('w-0', 'node1', { state: 'stopped', exitCode: 0, stderrTail: [] }),
    row('w-1', 'node2', { state: 'failed', reason: 'Node failure on node2', stderrTail: [] }),
  ];

  it('the summary, the live table and the JSON report show each host', () => {
    const summary = summaryLines(rows, 5000);
    expect(summary[0]).toMatch(/^ID\s+HOST\s+STATE\s+EXIT\s+TIME\s+NOTE$/);
    expect(summary[1]).toMatch(/^w-0\s+node1\s+stopped\s+0\s+2\.00s$/);
    expect(summary[2]).toMatch(/^w-1\s+node2\s+failed\s+-\s+2\.00s\s+Node failure on node2$/);
    const live = liveTableLines(rows, 5000);
    expect(live[0]).toMatch(/^ID\s+HOST\s+PID\s+STATE/);
    expect(live[1]).toMatch(/^w-0\s+node1\s+40\s+stopped \(0\)/);
    expect(jsonReport(rows, 5000).map((entry) => entry.host)).toEqual(['node1', 'node2']);
    expect(transitionLine(row('w-2', 'node3', { state: 'running', pid: 41, startedAt: new Date(), host: 'node3' }))).toBe('proclaunch: w-2 running pid 40 on node3');
  });

  it('a run on this machine has no HOST column and no host in its JSON', () => {
    const local = rows.map((r) => ({ ...r, host: null }));
    expect(summaryLines(local, 5000)[0]).toMatch(/^ID\s+STATE\s+EXIT/);
    expect(liveTableLines(local, 5000)[0]).toMatch(/^ID\s+PID\s+STATE/);
    expect(jsonReport(local, 5000)[0]).not.toHaveProperty('host');
  });
});

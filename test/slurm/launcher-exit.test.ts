// SlurmProcLauncher on the real cluster: exits, environment, stdio, placement.
import { mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SlurmProcLauncher, type LaunchResult } from '../../src/index.js';
import { fixture, readAll } from '../helpers/fixtures.js';
import { readStat, waitFor } from '../helpers/proc-table.js';
import { cluster, slurmCommand } from './slurm-context.js';
import { expectNothingLeft, jobListed } from './slurm-helpers.js';

describe.skipIf(cluster === null)('SlurmProcLauncher: exits, environment, stdio, placement', () => {
  let launcher: SlurmProcLauncher;
  let jobId: string;
  const remotePids: number[] = [];
  const sh = (script: string, extra: object = {}) => ({ command: { program: '/bin/sh', args: ['-c', script] }, ...extra });
  const launched = (r: LaunchResult): LaunchResult => {
    if (r.pid !== null) remotePids.push(r.pid);
    return r;
  };

  beforeAll(async () => {
    launcher = new SlurmProcLauncher({ nodes: 3 });
    jobId = await launcher.allocation();
  });

  afterAll(async () => {
    await launcher.dispose();
    await expectNothingLeft(jobId, remotePids);
    // It made the allocation, so dispose released it.
    expect(jobListed(jobId)).toBe(false);
  });

  it('hosts() lists the allocation\'s three nodes, as squeue does', async () => {
    expect(await launcher.hosts()).toEqual(['node1', 'node2', 'node3']);
    expect(slurmCommand('squeue', ['-h', '-j', jobId, '-o', '%N']).trim()).toBe('node[1-3]');
  });

  it.each([
    ['exit 0', 'exit 0', { kind: 'exited', code: 0 }],
    ['exit 7', 'exit 7', { kind: 'exited', code: 7 }],
    ['exit 143 (an exit, not a signal)', 'exit 143', { kind: 'exited', code: 143 }],
    ['death by SIGTERM', 'kill -TERM $$', { kind: 'signaled', signal: 15, signalName: 'SIGTERM', coreDumped: false }],
    ['death by SIGKILL', 'kill -KILL $$', { kind: 'signaled', signal: 9, signalName: 'SIGKILL', coreDumped: false }],
  ])('tells %s apart from the raw task status', async (_name, script, expected) => {
    const r = launched(await launcher.launch(`exit-${script}`, sh(script)));
    expect(await r.exit).toEqual(expected);
  });

  it('reports SIGSEGV with the core bit when the task dumped core', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-slurm-core-'));
    try {
      const r = launched(await launcher.launch('segv', { command: { program: fixture('segfault'), cwd: scratch } }));
      expect(await r.exit).toEqual({ kind: 'signaled', signal: 11, signalName: 'SIGSEGV', coreDumped: true });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('hands the env overlay, the cwd and the HYPERACTOR variables (process name with the remote host) to the task', async () => {
    const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'proclaunch-slurm-cwd-')));
    try {
      const r = launched(await launcher.launch('env-check', {
        command: {
          program: '/bin/sh',
          args: ['-c', 'printf "%s|%s|%s|%s|%s|%s\\n" "$PWD" "$(hostname)" "$FOO" "$HYPERACTOR_PROCESS_NAME" "$HYPERACTOR_MESH_BOOTSTRAP_MODE" "$BOOTSTRAP_LOG_CHANNEL"'],
          env: { FOO: 'bar baz' },
          cwd: scratch,
        },
        bootstrapPayload: 'payload-1',
        logChannel: 'unix:@log',
        wantStdio: true,
        host: 'node2',
      }));
      expect(r.host).toBe('node2');
      if (r.stdio.kind !== 'captured') throw new Error('not captured');
      const [out] = await Promise.all([readAll(r.stdio.stdout), r.exit]);
      expect(out).toBe(`${scratch}|node2|bar baz|env-check @ node2|payload-1|unix:@log\n`);
      expect(await r.exit).toEqual({ kind: 'exited', code: 0 });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('keeps a given processName, and leaves per-proc variables unset when not given', async () => {
    const r = launched(await launcher.launch('named', {
      ...sh('printf "%s|%s\\n" "$HYPERACTOR_PROCESS_NAME" "${HYPERACTOR_MESH_BOOTSTRAP_MODE-unset}"'),
      processName: 'my name', wantStdio: true,
    }));
    if (r.stdio.kind !== 'captured') throw new Error('not captured');
    expect(await readAll(r.stdio.stdout)).toBe('my name|unset\n');
    await r.exit;
  });

  it('captures stdout and stderr without srun\'s own lines, and keeps a stderr tail', async () => {
    const r = launched(await launcher.launch('stdio', {
      ...sh('echo out1; echo err1 >&2; echo "srun-like but not: x" >&2; echo out2; echo err2 >&2; exit 3'),
      wantStdio: true, tailLines: 2,
    }));
    if (r.stdio.kind !== 'captured') throw new Error('not captured');
    const [out, err, exit] = await Promise.all([readAll(r.stdio.stdout), readAll(r.stdio.stderr), r.exit]);
    expect(out).toBe('out1\nout2\n');
    expect(err.split('\n').sort()).toEqual(['', 'err1', 'err2', 'srun-like but not: x']);
    expect(err).not.toMatch(/srun: |StepId|proclaunch-/);
    expect(exit).toMatchObject({ kind: 'exited', code: 3 });
    expect(exit.stderrTail).toHaveLength(2);
    expect(exit.rusage).toBeUndefined();
    expect(exit.treeUsage).toBeUndefined();
  });

  it('gives the remote pid: the program itself, running on the node it was sent to', async () => {
    const r = launched(await launcher.launch('pid', { command: { program: fixture('forever') }, host: 'node3' }));
    expect(r.pid).toEqual(expect.any(Number));
    // The nodes share this machine's pid namespace: the pid is the exec'd program, in node3's netns.
    try {
      const stat = readStat(r.pid!);
      expect(stat).not.toBeNull();
      // Launch ends when the wrapper is about to exec the program in that pid: the exec
      // itself may still be under way (cmdline empty meanwhile), so wait for it.
      await waitFor(() => readFileSync(`/proc/${r.pid}/cmdline`, 'utf8').includes('forever'), `pid ${r.pid} to exec forever`);
      expect(readlinkSync(`/proc/${r.pid}/ns/net`)).toBe(readlinkSync(`/proc/${slurmdPid('node3')}/ns/net`));
    } finally {
      await launcher.kill('pid');
    }
    expect(await r.exit).toMatchObject({ kind: 'signaled', signalName: 'SIGKILL' });
  });

  it('spreads procs without a host over the nodes, round robin', async () => {
    const rs = await Promise.all([0, 1, 2].map((i) => launcher.launch(`spread-${i}`, sh('hostname', { wantStdio: true }))));
    const hosts = rs.map((r) => r.host).sort();
    expect(hosts).toEqual(['node1', 'node2', 'node3']);
    for (const r of rs) {
      if (r.stdio.kind !== 'captured') throw new Error('not captured');
      expect(await readAll(r.stdio.stdout)).toBe(`${r.host}\n`);
      expect(await r.exit).toEqual({ kind: 'exited', code: 0 });
    }
  });

  it('passes stdin through srun with stdin: pipe', async () => {
    const r = launched(await launcher.launch('stdin', { ...sh('read line; echo "got $line"'), stdin: 'pipe', wantStdio: true }));
    if (r.stdio.kind !== 'captured') throw new Error('not captured');
    r.stdin!.end('hello\n');
    expect(await readAll(r.stdio.stdout)).toBe('got hello\n');
    expect(await r.exit).toEqual({ kind: 'exited', code: 0 });
  });

  it('sets soft and hard rlimits on the task (read from the node\'s /proc/<pid>/limits), lowering a hard limit below the old soft', async () => {
    const r = launched(await launcher.launch('limits', { command: { program: fixture('forever') }, rlimits: { nofile: [123, 456], stack: 4096 * 1024 }, host: 'node1' }));
    const limits = readFileSync(`/proc/${r.pid}/limits`, 'utf8').split('\n');
    expect(limits.find((l) => l.startsWith('Max open files'))).toMatch(/^Max open files\s+123\s+456\s/);
    expect(limits.find((l) => l.startsWith('Max stack size'))).toMatch(new RegExp(`^Max stack size\\s+${4096 * 1024}\\s+${4096 * 1024}\\s`));
    await launcher.kill('limits');
    await r.exit;
  });

  it('refuses a byte limit the node\'s sh cannot set exactly, naming it; a hard limit the node refuses is EPERM at stage remote-rlimit', async () => {
    await expect(launcher.launch('odd-limit', { command: { program: '/bin/true' }, rlimits: { fsize: 1000 } })).rejects.toMatchObject({
      code: 'ENOTSUP', stage: 'validate', message: expect.stringContaining('opts.rlimits.fsize'),
    });
    // Above the node's hard limit (a process cannot raise its own past RLIMIT_NOFILE's kernel ceiling, nr_open).
    const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim());
    await expect(launcher.launch('too-high', { command: { program: '/bin/true' }, rlimits: { nofile: nrOpen + 1 } })).rejects.toMatchObject({
      code: 'EPERM', errno: 1, syscall: 'setrlimit', stage: 'remote-rlimit',
    });
    expect(launcher.size).toBe(0);
  });
});

function slurmdPid(node: string): number {
  return Number(readFileSync(join(cluster!.runDir, 'pids', `slurmd-${node}`), 'utf8').trim());
}

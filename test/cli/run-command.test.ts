// `proclaunch run` end to end: the compiled CLI (npm test compiles first) as a child process.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { isRunning, waitFor } from '../helpers/proc-table.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, PROCLAUNCH_LAUNCHER: '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

/** A copy that succeeds when its index is 0, else writes to stderr and exits with its index. */
const MIXED = ['sh', '-c', 'echo "hello from $PROCLAUNCH_INDEX"; if [ "$PROCLAUNCH_INDEX" -gt 0 ]; then echo "boom $PROCLAUNCH_INDEX" >&2; fi; exit $PROCLAUNCH_INDEX'];

describe('proclaunch run', () => {
  it('a mix of succeeding and failing copies: non-zero exit, summary with the failures and their stderr', async () => {
    const { code, stdout, stderr } = await runCli(['run', '-n', '3', '--', ...MIXED]);
    expect(code).toBe(1);
    const out = stdout.split('\n');
    // Output is forwarded with the proc id as prefix.
    for (const i of [0, 1, 2]) expect(out).toContain(`[sh-${i}] hello from ${i}`);
    expect(stderr.split('\n')).toEqual(expect.arrayContaining(['[sh-1] boom 1', '[sh-2] boom 2', 'proclaunch: sh-0 stopped exit code 0', 'proclaunch: sh-2 stopped exit code 2']));
    // Not a TTY: one line per transition, in order per proc.
    const sh1 = stderr.split('\n').filter((line) => line.startsWith('proclaunch: sh-1 '));
    expect(sh1.map((line) => line.split(' ')[2])).toEqual(['running', 'stopped']);
    const summary = stdout.slice(stdout.indexOf('ID  '));
    expect(summary).toMatch(/^ID {4}STATE {4}EXIT {2}TIME {3}NOTE\n/);
    expect(summary).toMatch(/\nsh-0 {2}stopped {2}0 {5}\d+\.\d\ds\n/);
    expect(summary).toMatch(/\nsh-1 {2}stopped {2}1 {5}\d+\.\d\ds\n/);
    expect(summary).toMatch(/\nsh-2 {2}stopped {2}2 {5}\d+\.\d\ds\n/);
    expect(summary).toContain('\nsh-1: last 1 stderr line:\n  boom 1\n');
    expect(summary).toContain('\nsh-2: last 1 stderr line:\n  boom 2\n');
    expect(summary).not.toContain('sh-0: last');
    expect(summary.trimEnd().endsWith('\n3 procs: 1 succeeded, 2 did not')).toBe(true);
  });

  it('--json prints the final statuses as JSON, alone on stdout', async () => {
    const { code, stdout, stderr } = await runCli(['run', '--json', '-n', '3', '--name', 'job', '--', ...MIXED]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Array<{ procId: string; pid: number; runMs: number; status: unknown }>;
    expect(report.map(({ procId, status }) => ({ procId, status }))).toEqual([
      { procId: 'job-0', status: { state: 'stopped', exitCode: 0, stderrTail: [] } },
      { procId: 'job-1', status: { state: 'stopped', exitCode: 1, stderrTail: ['boom 1'] } },
      { procId: 'job-2', status: { state: 'stopped', exitCode: 2, stderrTail: ['boom 2'] } },
    ]);
    for (const entry of report) {
      expect(entry.pid).toBeGreaterThan(1);
      expect(entry.runMs).toBeGreaterThanOrEqual(0);
    }
    // Proc stdout moved to stderr, so stdout stays parseable.
    expect(stderr).toContain('[job-0] hello from 0');
  });

  it('all copies exiting 0: exit status 0', async () => {
    const { code, stdout } = await runCli(['run', '-n', '2', '--', 'true']);
    expect(code).toBe(0);
    expect(stdout).toContain('2 procs: 2 succeeded, 0 did not');
  });

  it('--ready: copies that signal readiness are shown ready; one that does not fails at --ready-timeout and is stopped', async () => {
    const script = 'if [ "$PROCLAUNCH_INDEX" = 0 ]; then systemd-notify --ready --status=up; sleep 0.3; exit 0; fi; exec sleep 1000';
    // Generous: copy 0 must get to systemd-notify within it even on a loaded machine.
    const { code, stdout, stderr } = await runCli(['run', '-n', '2', '--ready-timeout', '2000', '--json', '--', 'sh', '-c', script]);
    expect(code).toBe(1);
    expect(stderr).toContain('proclaunch: sh-0 ready pid ');
    const report = JSON.parse(stdout) as Array<{ procId: string; pid: number; status: unknown }>;
    expect(report[0]!.status).toEqual({ state: 'stopped', exitCode: 0, stderrTail: [] });
    expect(report[1]!.status).toEqual({ state: 'failed', reason: 'not ready within 2000 ms', stderrTail: [] });
    expect(isRunning(report[1]!.pid)).toBe(false);
  });

  it('--deadline stops each copy at its own deadline (SIGTERM, SIGKILL after --grace); they count as stopped', async () => {
    const script = 'if [ "$PROCLAUNCH_INDEX" = 0 ]; then exit 0; fi; trap "" TERM; echo armed; while :; do sleep 1; done';
    const { code, stdout, stderr } = await runCli(['run', '-n', '2', '--deadline', '2000', '--grace', '200', '--json', '--', 'sh', '-c', script]);
    expect(code).toBe(1);
    expect(stderr).toContain('[sh-1] armed');
    const report = JSON.parse(stdout) as Array<{ procId: string; status: { state: string; signal?: number; exitCode?: number }; pid: number; stoppedBy?: string }>;
    const [first, second] = report;
    // The copy that ended first is not marked; the TERM-ignoring one was killed after the grace.
    expect(first).toMatchObject({ procId: 'sh-0', status: { state: 'stopped', exitCode: 0 } });
    expect(first!.stoppedBy).toBeUndefined();
    expect(second).toMatchObject({ procId: 'sh-1', status: { state: 'killed', signal: 9 }, stoppedBy: 'deadline' });
    expect(isRunning(second!.pid)).toBe(false);
  });

  it('--deadline in the summary: "stopped at --deadline"', async () => {
    const { code, stdout } = await runCli(['run', '--deadline', '100', '--', 'sleep', '1000']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/sleep-0 {2}killed .*stopped at --deadline/);
    expect(stdout.trimEnd().endsWith('1 proc: 0 succeeded, 1 stopped')).toBe(true);
  });

  it('--timeout stops every copy still running (graceful first)', async () => {
    const { code, stdout, stderr } = await runCli(['run', '-n', '2', '--timeout', '300', '--json', '--', 'sleep', '1000']);
    expect(code).toBe(1);
    expect(stderr).toContain('proclaunch: --timeout 300 ms reached');
    const report = JSON.parse(stdout) as Array<{ status: unknown; pid: number; stoppedBy?: string }>;
    for (const entry of report) {
      expect(entry.status).toEqual({ state: 'killed', signal: 15, signalName: 'SIGTERM', coreDumped: false, stderrTail: [] });
      expect(entry.stoppedBy).toBe('timeout');
      expect(isRunning(entry.pid)).toBe(false);
    }
  });

  it('--timeout: copies that exit 0 on SIGTERM are stopped, not succeeded, and the exit status is 1', async () => {
    const { code, stdout } = await runCli(['run', '-n', '2', '--timeout', '300', '--', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.05; done']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/\nsh-0 {2}stopped {2}0 {5}\d+\.\d\ds {2}stopped at --timeout\n/);
    expect(stdout.trimEnd().endsWith('\n--timeout reached: 2 procs: 0 succeeded, 2 stopped')).toBe(true);
  });

  it('Ctrl-C stops every copy gracefully and exits 130', async () => {
    const child = spawn(process.execPath, [cli, 'run', '-n', '2', '--grace', '2000', '--', 'sh', '-c', 'trap "echo bye >&2; exit 0" TERM; echo armed; while :; do sleep 0.05; done'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Interrupt only once both have set their TERM trap.
    await waitFor(() => (stdout.match(/^\[sh-\d\] armed$/gm) ?? []).length === 2, 'both copies armed', 20_000);
    const pids = [...stderr.matchAll(/ running pid (\d+)/g)].map((match) => Number(match[1]));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('proclaunch: interrupted (SIGINT): stopping every proc');
    expect(stderr).toContain('[sh-0] bye');
    // They exited 0, but only because the run stopped them: stopped, never "succeeded".
    expect(stdout).toMatch(/\nsh-0 {2}stopped {2}0 {5}\d+\.\d\ds {2}stopped by SIGINT\n/);
    expect(stdout).toMatch(/\nsh-1 {2}stopped {2}0 {5}\d+\.\d\ds {2}stopped by SIGINT\n/);
    expect(stdout.trimEnd().endsWith('\ninterrupted by SIGINT: 2 procs: 0 succeeded, 2 stopped')).toBe(true);
    expect(stdout).not.toContain('2 succeeded');
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
  });

  it('SIGTERM: a copy that had already finished counts as succeeded, the stopped ones do not; exit 143', async () => {
    const script = 'if [ "$PROCLAUNCH_INDEX" = 0 ]; then echo done; exit 0; fi; trap "exit 0" TERM; echo armed; while :; do sleep 0.05; done';
    const child = spawn(process.execPath, [cli, 'run', '--json', '-n', '3', '--', 'sh', '-c', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PROCLAUNCH_LAUNCHER: '' },
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor(
      () => (stderr.match(/^\[sh-[12]\] armed$/gm) ?? []).length === 2 && stderr.includes('proclaunch: sh-0 stopped exit code 0'),
      'copy 0 done, copies 1 and 2 armed',
      20_000,
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    const report = JSON.parse(stdout) as Array<{ procId: string; pid: number; status: unknown; stoppedBy?: string }>;
    expect(report.map(({ procId, status, stoppedBy }) => ({ procId, status, stoppedBy }))).toEqual([
      { procId: 'sh-0', status: { state: 'stopped', exitCode: 0, stderrTail: [] }, stoppedBy: undefined },
      { procId: 'sh-1', status: expect.objectContaining({ state: 'stopped', exitCode: 0 }), stoppedBy: 'SIGTERM' },
      { procId: 'sh-2', status: expect.objectContaining({ state: 'stopped', exitCode: 0 }), stoppedBy: 'SIGTERM' },
    ]);
    for (const entry of report) expect(isRunning(entry.pid)).toBe(false);
  });

  it('a program that cannot be started is a failed proc, not a crash', async () => {
    const { code, stdout } = await runCli(['run', '--', '/nonexistent/prog']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/\nprog-0 {2}failed {2}- {5}0\.00s {2}cannot launch "prog-0": ENOENT/);
  });

  it('--help documents the command; usage errors exit 2; unknown commands too', async () => {
    const help = await runCli(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: proclaunch run [options] [--] PROGRAM [ARGS...]');
    const bad = await runCli(['run', '-n', 'x', '--', 'true']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("proclaunch run: --count must be a whole number, got \"x\"\nTry 'proclaunch run --help'.\n");
    const unknown = await runCli(['fly']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("proclaunch: unknown command \"fly\"\nTry 'proclaunch --help'.\n");
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^Usage: proclaunch <command> \[options\]\n {7}proclaunch --version\n/);
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/\n  run +start COUNT copies/);
    expect(top.stdout).toMatch(/\n  bench +benchmark against child_process/);
  });
});

describe('proclaunch usage errors and --version', () => {
  it('--version and -V print the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(dirname(cli), '..', '..', 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await runCli([flag]);
      expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('every usage error is one line and a pointer to --help on stderr, exit 2, no stack', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [['run', 'true'], { PROCLAUNCH_LAUNCHER: 'bogus' }, 'proclaunch run: PROCLAUNCH_LAUNCHER must be native, systemd or slurm, got "bogus"'],
      [['run', '--launcher', 'docker', 'true'], {}, 'proclaunch run: --launcher must be native, systemd or slurm, got "docker"'],
      [['run', '--redy', 'true'], {}, 'proclaunch run: unknown option --redy (did you mean --ready?)'],
      [['run', '--grace', '1.5', 'true'], {}, 'proclaunch run: --grace must be a whole number, got "1.5"'],
      [['run', '--cgroup', 'cg', 'true'], {}, 'proclaunch run: --cgroup must be an absolute path, got "cg"'],
      [['run', '--cgroup', '/sys/fs/cgroup/x', 'true'], { PROCLAUNCH_LAUNCHER: 'systemd' }, 'proclaunch run: --cgroup works with the native launcher only (PROCLAUNCH_LAUNCHER chose systemd, which puts each copy in a cgroup of its own)'],
      [['rn'], {}, 'proclaunch: unknown command "rn" (did you mean run?)'],
      [['--verison'], {}, 'proclaunch: unknown option --verison (did you mean --version?)'],
      [['bench', '--quik'], {}, 'proclaunch bench: unknown option --quik (did you mean --quick?)'],
      [['bench', '--json=yes'], {}, 'proclaunch bench: --json takes no value'],
    ];
    for (const [args, env, line] of cases) {
      const command = line.slice(0, line.indexOf(':'));
      const result = await runCli(args, env);
      expect({ args, ...result }).toEqual({ args, code: 2, stdout: '', stderr: `${line}\nTry '${command} --help'.\n` });
    }
  });

  it('--launcher systemd without a user bus: says what is missing and how to get one, exit 1, no stack', async () => {
    const emptyRuntime = mkdtempSync(join(tmpdir(), 'proclaunch-cli-nobus-'));
    try {
      const env = { DBUS_SESSION_BUS_ADDRESS: '', XDG_RUNTIME_DIR: emptyRuntime };
      const result = await runCli(['run', '--launcher', 'systemd', '--', 'true'], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines[0]).toBe(
        `proclaunch run: --launcher systemd needs a systemd user manager on the user bus: DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus (${emptyRuntime}/bus) does not exist`,
      );
      expect(result.stderr).toContain("'systemctl --user status'");
      expect(result.stderr).toContain("'loginctl enable-linger ");
      expect(result.stderr).toContain('or use --launcher native.');
      expect(result.stderr).not.toMatch(/^\s+at /m);
      // A bus address that leads nowhere is named as such.
      const dangling = await runCli(['run', '--launcher', 'systemd', '--', 'true'], { DBUS_SESSION_BUS_ADDRESS: `unix:path=${emptyRuntime}/nobody` });
      expect(dangling.code).toBe(1);
      expect(dangling.stderr.split('\n')[0]).toBe(
        `proclaunch run: --launcher systemd needs a systemd user manager on the user bus: nothing usable answers at DBUS_SESSION_BUS_ADDRESS=unix:path=${emptyRuntime}/nobody`,
      );
    } finally {
      rmSync(emptyRuntime, { recursive: true, force: true });
    }
  });
});

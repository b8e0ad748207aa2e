// `proclaunch run` end to end: the compiled CLI (npm test compiles first) as a child process.
import { execFile, spawn } from 'node:child_process';
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

function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, PROCLAUNCH_LAUNCHER: '' } }, (error, stdout, stderr) => {
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
    expect(summary.trimEnd().endsWith('3 procs: 1 succeeded, 2 did not')).toBe(true);
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

  it('--timeout stops every copy still running (graceful first)', async () => {
    const { code, stdout, stderr } = await runCli(['run', '-n', '2', '--timeout', '300', '--json', '--', 'sleep', '1000']);
    expect(code).toBe(1);
    expect(stderr).toContain('proclaunch: --timeout 300 ms reached');
    const report = JSON.parse(stdout) as Array<{ status: unknown; pid: number }>;
    for (const entry of report) {
      expect(entry.status).toEqual({ state: 'killed', signal: 15, signalName: 'SIGTERM', coreDumped: false, stderrTail: [] });
      expect(isRunning(entry.pid)).toBe(false);
    }
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
    expect(stderr).toContain('proclaunch: interrupted: stopping every proc');
    expect(stderr).toContain('[sh-0] bye');
    expect(stdout).toMatch(/\nsh-0 {2}stopped {2}0 /);
    expect(stdout).toMatch(/\nsh-1 {2}stopped {2}0 /);
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
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
    expect(unknown.stderr).toContain('unknown command "fly"');
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/\n  run +start COUNT copies/);
    expect(top.stdout).toMatch(/\n  bench +benchmark against child_process/);
  });
});

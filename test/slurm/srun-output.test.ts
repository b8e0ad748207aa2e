// The srun stderr parser and the wait-status decoding, on lines srun 22.05 really prints.
import { describe, expect, it } from 'vitest';

import { SrunOutput } from '../../src/slurm/srun-output.js';
import { decodeWaitStatus, stepExitOf } from '../../src/slurm/step-exit.js';

const MARK = '@proclaunch-0123456789abcdef@';

function parse(text: string, chunk = text.length) {
  const seen = { steps: [] as string[], pids: [] as number[], errors: [] as string[], task: [] as Buffer[] };
  const output = new SrunOutput(MARK, {
    onStep: (step, host) => seen.steps.push(`${step}@${host}`),
    onPid: (pid) => seen.pids.push(pid),
    onRemoteError: (code, stage) => seen.errors.push(`${code}/${stage}`),
    onTaskOutput: (bytes) => seen.task.push(Buffer.from(bytes)),
  });
  for (let i = 0; i < text.length; i += chunk) output.push(Buffer.from(text.slice(i, i + chunk)));
  output.end();
  return { ...seen, taskText: Buffer.concat(seen.task).toString('utf8'), report: output.report };
}

const RUN = `srun: defined options
srun: jobid               : 1
srun: jobid 1: nodes(3):\`node[1-3]', cpu counts: 1(x3)
srun: launching StepId=1.6 on host node3, 1 tasks: 0
srun: launch/slurm: _task_start: Node node3, 1 tasks started
${MARK} pid 4242
started
slurmstepd-node3: error: *** STEP 1.6 ON node3 CANCELLED AT 2026-12-01T23:38:57 ***
srun: error with a colon: but not ours
trapped
srun: launch/slurm: _task_finish: Received task exit notification for 1 task of StepId=1.6 (status=0x0300).
`;

describe('srun output', () => {
  it.each([1, 7, 4096])('takes srun\'s and the wrapper\'s lines, passes every other line on whole (chunks of %i)', (chunk) => {
    const seen = parse(RUN, chunk);
    expect(seen.steps).toEqual(['1.6@node3']);
    expect(seen.pids).toEqual([4242]);
    expect(seen.taskText).toBe('started\ntrapped\n');
    expect(seen.report.statuses).toEqual([0x0300]);
    expect(seen.report.cancelled).toBe('*** STEP 1.6 ON node3 CANCELLED AT 2026-12-01T23:38:57 ***');
    expect(seen.report.errors).toHaveLength(1);
  });

  it.each([1, 3, 4096])('passes the task\'s bytes through exactly: CRLF, invalid UTF-8, a last line without a newline (chunks of %i)', (chunk) => {
    const task = Buffer.concat([Buffer.from('crlf\r\n'), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from('é split\nno newline')]);
    const text = Buffer.concat([Buffer.from('srun: launching StepId=1.2 on host node1, 1 tasks: 0\n'), task]);
    const seen = { out: [] as Buffer[], steps: [] as string[] };
    const output = new SrunOutput(MARK, {
      onStep: (step) => seen.steps.push(step),
      onPid: () => {},
      onRemoteError: () => {},
      onTaskOutput: (bytes) => seen.out.push(Buffer.from(bytes)),
    });
    for (let i = 0; i < text.length; i += chunk) output.push(text.subarray(i, i + chunk));
    output.end();
    expect(seen.steps).toEqual(['1.2']);
    expect(Buffer.concat(seen.out).equals(task)).toBe(true);
  });

  it.each([1, 5, 4096])('a srun line written right after a last task line without a newline is still srun\'s (chunks of %i)', (chunk) => {
    const text = 'line 5\nno newlinesrun: launch/slurm: _task_finish: Received task exit notification for 1 task of StepId=2.27 (status=0x0300).\n';
    const seen: Buffer[] = [];
    const output = new SrunOutput(MARK, { onStep: () => {}, onPid: () => {}, onRemoteError: () => {}, onTaskOutput: (bytes) => seen.push(Buffer.from(bytes)) });
    for (let i = 0; i < text.length; i += chunk) output.push(text.slice(i, i + chunk));
    output.end();
    expect(Buffer.concat(seen).toString()).toBe('line 5\nno newline');
    expect(output.report.statuses).toEqual([0x0300]);
  });

  it('passes on a runaway line in pieces without waiting for its newline, all bytes kept', () => {
    const seen: Buffer[] = [];
    const output = new SrunOutput(MARK, { onStep: () => {}, onPid: () => {}, onRemoteError: () => {}, onTaskOutput: (bytes) => seen.push(Buffer.from(bytes)) });
    const long = 'z'.repeat(200 * 1024);
    for (let i = 0; i < long.length; i += 10_000) output.push(long.slice(i, i + 10_000));
    // Before any newline or end, most of it has been passed on already.
    expect(Buffer.concat(seen).length).toBeGreaterThan(100 * 1024);
    output.push('\nsrun: launch/slurm: _task_finish: Received task exit notification for 1 task of StepId=1.2 (status=0x0000).\n');
    output.end();
    expect(Buffer.concat(seen).toString()).toBe(`${long}\n`);
    expect(output.report.statuses).toEqual([0]);
  });

  it('reads the wrapper\'s error line and a node failure', () => {
    const seen = parse(`${MARK} error EACCES exec\nsrun: error: Node failure on node3\n`);
    expect(seen.errors).toEqual(['EACCES/exec']);
    expect(seen.report.nodeFailure).toBe('node3');
  });

  it.each([
    [0x0000, { kind: 'exited', code: 0 }],
    [0x0700, { kind: 'exited', code: 7 }],
    [0x8f00, { kind: 'exited', code: 143 }],
    [0x000f, { kind: 'signaled', signal: 15, signalName: 'SIGTERM', coreDumped: false }],
    [0x0009, { kind: 'signaled', signal: 9, signalName: 'SIGKILL', coreDumped: false }],
    [0x008b, { kind: 'signaled', signal: 11, signalName: 'SIGSEGV', coreDumped: true }],
  ])('decodes the raw status 0x%s', (status, expected) => {
    expect(decodeWaitStatus(status)).toEqual(expected);
  });

  it('a node failure wins over everything, srun\'s exit 0 notwithstanding; no status is failed with the reason', () => {
    const exited0 = { result: { kind: 'exited', code: 0 } as const, killedBecause: undefined };
    expect(stepExitOf({ statuses: [], nodeFailure: 'node3', cancelled: undefined, errors: [] }, exited0, 'node3'))
      .toEqual({ kind: 'failed', reason: 'node failure on node3: Slurm lost contact with the node the step ran on' });
    expect(stepExitOf({ statuses: [], nodeFailure: undefined, cancelled: '*** STEP 1.2 ON node1 CANCELLED ***', errors: [] }, exited0, 'node1'))
      .toMatchObject({ kind: 'failed', reason: expect.stringMatching(/^Slurm cancelled the step on node1/) });
    expect(stepExitOf({ statuses: [], nodeFailure: undefined, cancelled: undefined, errors: ['srun: error: boom'] }, { result: { kind: 'signaled', signal: 9, signalName: 'SIGKILL', coreDumped: false }, killedBecause: undefined }, 'node1'))
      .toEqual({ kind: 'failed', reason: 'the local srun was killed by SIGKILL without a task status from node1; srun said: srun: error: boom' });
  });
});

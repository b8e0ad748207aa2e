// What a step's end means, from srun's report and the local srun's own exit. Slurm gives
// the task's raw wait status (like waitpid's), so exit 143 and death by SIGTERM stay apart;
// a lost node or a step Slurm cancelled has no status (and srun still exits 0).
import type { ProcExitResult } from '../contract.js';
import { nameOfSignal } from '../common/signals.js';
import type { SrunReport } from './srun-output.js';

export interface LocalSrunEnd {
  /** How the local srun ended, as the native launcher saw it. */
  result: ProcExitResult;
  /** Why we SIGKILLed it ourselves, when we did (terminate/kill escalation). */
  killedBecause: string | undefined;
}

/** A raw wait status: exited (status >> 8) or signaled (low 7 bits, core bit 0x80). */
export function decodeWaitStatus(status: number): ProcExitResult {
  const signal = status & 0x7f;
  if (signal === 0) return { kind: 'exited', code: (status >> 8) & 0xff };
  return { kind: 'signaled', signal, signalName: nameOfSignal(signal), coreDumped: (status & 0x80) !== 0 };
}

export function stepExitOf(report: SrunReport, local: LocalSrunEnd, host: string): ProcExitResult {
  if (report.nodeFailure !== undefined) {
    // Its processes there may outlive the loss: Slurm kills them when the node returns.
    return { kind: 'failed', reason: `node failure on ${report.nodeFailure}: Slurm lost contact with the node the step ran on` };
  }
  const status = report.statuses[0];
  if (status !== undefined) return decodeWaitStatus(status);
  if (report.cancelled !== undefined) return { kind: 'failed', reason: `Slurm cancelled the step on ${host}: ${report.cancelled}` };
  const how = describeLocalEnd(local.result);
  const errors = report.errors.length > 0 ? `; srun said: ${report.errors.join(' / ')}` : '';
  if (local.killedBecause !== undefined) {
    return { kind: 'failed', reason: `the local srun was SIGKILLed (${local.killedBecause}) before the step on ${host} reported its status; Slurm cancels the step${errors}` };
  }
  return { kind: 'failed', reason: `the local srun ${how} without a task status from ${host}${errors}` };
}

function describeLocalEnd(result: ProcExitResult): string {
  if (result.kind === 'exited') return `exited with code ${result.code}`;
  if (result.kind === 'signaled') return `was killed by ${result.signalName}`;
  return `failed (${result.reason})`;
}

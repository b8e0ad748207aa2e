// Captured stdio for units through real pipes: the write end travels to systemd in the
// StartTransientUnit message (StandardOutputFileDescriptor), the read end is the stream.
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { PassThrough } from 'node:stream';

import { ProcLauncherError } from '../contract.js';
import { codeOfErrno } from '../common/system-error.js';
import { addon, isFailure } from '../native/addon.js';

export class PipeCapture {
  /** The write end, for the unit; closed by `releaseUnitEnd()` once systemd has its copy. */
  unitFd: number;
  /** What the user reads; ends when every holder of the write end has closed it. */
  readonly stream = new PassThrough();
  readonly ended: Promise<void>;
  readonly #pipe: Socket;

  constructor() {
    const ends = addon().makePipe();
    if (isFailure(ends)) {
      throw new ProcLauncherError('launch', `cannot make a pipe for captured stdio: ${codeOfErrno(ends.errno)}`, {
        code: codeOfErrno(ends.errno),
        errno: ends.errno,
        syscall: 'pipe2',
        stage: 'stdio',
      });
    }
    this.unitFd = ends[1];
    this.#pipe = new Socket({ fd: ends[0], readable: true, writable: false });
    this.#pipe.on('error', () => {}); // a broken pipe just ends the stream
    this.ended = new Promise((resolve) => this.#pipe.once('close', () => resolve()));
    // The user's stream is separate, so a tail listening beside it takes nothing from it.
    this.#pipe.pipe(this.stream);
  }

  /** Calls `fn` with every chunk the unit writes (for a stderr tail), beside the user's stream. */
  onData(fn: (chunk: Buffer) => void): void {
    this.#pipe.on('data', fn);
  }

  /** Our copy of the write end: systemd holds its own once the start call returned. */
  releaseUnitEnd(): void {
    if (this.unitFd < 0) return;
    closeSync(this.unitFd);
    this.unitFd = -1;
  }

  /** Nothing to wait for: the stream ends by itself when the unit's side closes. */
  async finish(): Promise<void> {
    this.releaseUnitEnd();
  }

  /** Drops everything at once (launch failed, bus lost, dispose). */
  destroy(): void {
    this.releaseUnitEnd();
    this.#pipe.destroy();
    this.stream.end();
  }
}

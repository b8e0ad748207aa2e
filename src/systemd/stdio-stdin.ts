// The unit's stdin. Only the fd-passing path can give a unit one: a pipe's read end (or
// our own fd 0 for 'inherit') travels in StartTransientUnit as StandardInputFileDescriptor.
// Over a bus without fd passing there is no way to hand systemd a pipe we hold, so
// 'pipe' and 'inherit' are refused there rather than silently becoming /dev/null.
import { closeSync } from 'node:fs';
import type { Writable } from 'node:stream';

import { ProcLauncherError } from '../contract.js';
import type { StdinMode } from '../common/normalize-launch.js';
import { writableFromFd } from '../common/stdin-stream.js';
import { codeOfErrno } from '../common/system-error.js';
import { addon, isFailure } from '../native/addon.js';

const ENOTSUP = 95;

export class UnitStdin {
  /** The fd for the unit (StandardInputFileDescriptor), or null for /dev/null. */
  unitFd: number | null;
  /** Our write end, with 'pipe'. */
  readonly stream: Writable | null;
  readonly #ownsUnitFd: boolean;

  constructor(procId: string, mode: StdinMode, canPassFds: boolean) {
    this.unitFd = null;
    this.stream = null;
    this.#ownsUnitFd = false;
    if (mode === 'null') return;
    if (!canPassFds) {
      throw new ProcLauncherError(
        'launch',
        `cannot launch "${procId}": opts.stdin '${mode}' needs a bus that carries file descriptors (a unix socket with NEGOTIATE_UNIX_FD); this one does not`,
        { code: 'ENOTSUP', errno: ENOTSUP, stage: 'stdio' },
      );
    }
    if (mode === 'inherit') {
      this.unitFd = 0; // the bus message carries a duplicate; ours stays ours
      return;
    }
    const ends = addon().makePipe();
    if (isFailure(ends)) {
      throw new ProcLauncherError('launch', `cannot make a pipe for stdin: ${codeOfErrno(ends.errno)}`, {
        code: codeOfErrno(ends.errno),
        errno: ends.errno,
        syscall: 'pipe2',
        stage: 'stdio',
      });
    }
    this.unitFd = ends[0];
    this.#ownsUnitFd = true;
    this.stream = writableFromFd(ends[1]);
  }

  /** systemd holds its own copy once the start call returned: ours would keep the pipe from EPIPE. */
  releaseUnitEnd(): void {
    if (!this.#ownsUnitFd || this.unitFd === null) return;
    closeSync(this.unitFd);
    this.unitFd = null;
  }

  /** The launch failed: nothing of the pipe is left. */
  destroy(): void {
    this.releaseUnitEnd();
    this.stream?.destroy();
  }
}

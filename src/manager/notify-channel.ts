// One sd_notify socket per proc: the socket a datagram arrives on names the proc, and
// closing it when the proc ends leaves nothing for a late sender to reach. Abstract
// addresses ("@…") by default, so no file can be left behind; a directory may be given
// for programs that only accept filesystem paths.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { ProcLauncherError } from '../contract.js';
import { codeOfErrno, describeErrno } from '../common/system-error.js';
import { addon, isFailure, offNotify, onNotify } from '../native/addon.js';

export type NotifyListener = (senderPid: number, senderUid: number, text: string) => void;

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const MAX_ADDRESS_BYTES = 107;

/** Socket files still bound: removed at process exit too, for a manager never disposed. */
const liveSocketFiles = new Set<string>();
let exitHookInstalled = false;

function trackSocketFile(path: string): void {
  liveSocketFiles.add(path);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const file of liveSocketFiles) rmSync(file, { force: true });
  });
}

export interface NotifyChannel {
  /** The value for NOTIFY_SOCKET. */
  readonly address: string;
  close(): void;
}

/** Hands out unique addresses for one manager. */
export class NotifyAddressBook {
  readonly #token = randomBytes(6).toString('hex');
  readonly #dir: string | undefined;
  #next = 0;

  constructor(dir?: string) {
    this.#dir = dir;
  }

  nextAddress(): string {
    const name = `proclaunch-${process.pid}-${this.#token}-${this.#next++}`;
    return this.#dir === undefined ? `@${name}` : join(this.#dir, `${name}.sock`);
  }
}

export function openNotifyChannel(address: string, listener: NotifyListener): NotifyChannel {
  if (Buffer.byteLength(address) > MAX_ADDRESS_BYTES) {
    throw new ProcLauncherError('launch', `notify socket address is longer than ${MAX_ADDRESS_BYTES} bytes: ${address}`, {
      code: 'ENAMETOOLONG',
      errno: 36,
      stage: 'notify-socket',
      path: address,
    });
  }
  const opened = addon().openNotifySocket(address);
  if (isFailure(opened)) {
    const code = codeOfErrno(opened.errno);
    throw new ProcLauncherError('launch', `cannot open the notify socket ${address}: ${code}: ${describeErrno(opened.errno)}, ${opened.syscall}`, {
      code,
      errno: opened.errno,
      syscall: opened.syscall,
      stage: 'notify-socket',
      path: address,
    });
  }
  onNotify(opened, listener);
  if (!address.startsWith('@')) trackSocketFile(address);
  let open = true;
  return {
    address,
    close(): void {
      if (!open) return;
      open = false;
      offNotify(opened);
      addon().closeNotifySocket(opened);
      if (!address.startsWith('@')) {
        rmSync(address, { force: true });
        liveSocketFiles.delete(address);
      }
    },
  };
}

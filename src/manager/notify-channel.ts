// One sd_notify socket per proc: the socket a datagram arrives on names the proc, and
// closing it when the proc ends leaves nothing for a late sender to reach. Abstract
// addresses ("@…") by default, so no file can be left behind; a directory may be given
// for programs that only accept filesystem paths. Every name is 128 random bits, drawn
// afresh per socket: abstract names are listed in /proc/net/unix for any user to see, so
// nothing in one name may predict the next (a squatter could make every spawn fail).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { ProcLauncherError } from '../contract.js';
import { codeOfErrno, describeErrno } from '../common/system-error.js';
import { addon, isFailure, offNotify, onNotify } from '../native/addon.js';

/** A datagram from the proc's own tree (the addon checked the sender), as raw bytes. */
export type NotifyListener = (senderPid: number, senderUid: number, message: Buffer) => void;

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const MAX_ADDRESS_BYTES = 107;
/** Fresh names tried when one is taken (by chance, or by a squatter who guessed it). */
const BIND_ATTEMPTS = 8;
const EADDRINUSE = 98;

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
  /** Starts reading: from now on datagrams from `leaderPid` and its descendants count. */
  arm(leaderPid: number): void;
  close(): void;
}

/** Hands out unguessable addresses for one manager. */
export class NotifyAddressBook {
  readonly #dir: string | undefined;

  constructor(dir?: string) {
    this.#dir = dir;
  }

  nextAddress(): string {
    const name = `proclaunch-${randomBytes(16).toString('hex')}`;
    return this.#dir === undefined ? `@${name}` : join(this.#dir, `${name}.sock`);
  }
}

/**
 * Binds a socket at `address`, or at the next free address of a book (a taken name is
 * retried with fresh ones). Nothing is read until `arm()`.
 */
export function openNotifyChannel(address: string | NotifyAddressBook, listener: NotifyListener): NotifyChannel {
  if (typeof address === 'string') return bindChannel(address, listener);
  for (let attempt = 1; ; attempt++) {
    try {
      return bindChannel(address.nextAddress(), listener);
    } catch (error) {
      if (attempt >= BIND_ATTEMPTS || (error as ProcLauncherError).errno !== EADDRINUSE) throw error;
    }
  }
}

function bindChannel(address: string, listener: NotifyListener): NotifyChannel {
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
    arm(leaderPid: number): void {
      if (!open) return;
      const errno = addon().armNotifySocket(opened, leaderPid);
      if (errno !== 0) throw new ProcLauncherError('other', `cannot read the notify socket ${address}: ${codeOfErrno(errno)}`, { code: codeOfErrno(errno), errno, stage: 'notify-socket', path: address });
    },
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

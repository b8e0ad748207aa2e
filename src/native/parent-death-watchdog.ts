// A tiny helper process that outlives a SIGKILLed parent and then kills the launcher's
// own cgroup directory (never the shared root). PR_SET_PDEATHSIG only reaches direct
// children; this reaches all.
import { existsSync } from 'node:fs';

import { ProcLauncherError } from '../contract.js';
import { codeOfErrno } from '../common/system-error.js';
import { addon, isFailure, onExit, watchdogPath } from './addon.js';

const SIGTERM = 15;

export class ParentDeathWatchdog {
  readonly #nativeId: number;
  readonly pid: number;
  readonly #exited: Promise<void>;

  /**
   * `ownDir`: the launcher's own cgroup directory, killed and removed when we die.
   * `removeParentIfEmpty`: the launcher created the root above it, so it goes too when empty.
   */
  constructor(ownDir: string, removeParentIfEmpty: boolean) {
    const program = watchdogPath();
    if (!existsSync(program)) {
      throw new ProcLauncherError('other', `the watchdog helper is missing at ${program}: rebuild the addon (npm rebuild)`, {
        code: 'ENOENT',
        stage: 'watchdog',
        path: program,
      });
    }
    const spawned = addon().spawn({
      paths: [program],
      argv: ['proclaunch-watchdog', ownDir, ...(removeParentIfEmpty ? ['--remove-parent'] : [])],
      env: [],
      inheritEnviron: false,
      envRemove: [],
      cwd: '/',
      captureStdio: false,
      killGroupOnExit: false,
      // It must survive us: that is its whole job.
      killOnTeardown: false,
      parentDeathSignal: 0,
      cpus: null,
      memNodes: null,
      cgroup: null,
    });
    if (isFailure(spawned)) {
      throw new ProcLauncherError('other', `cannot start the watchdog helper: ${codeOfErrno(spawned.errno)} (${spawned.stage})`, {
        code: codeOfErrno(spawned.errno),
        errno: spawned.errno,
        syscall: spawned.syscall,
        stage: 'watchdog',
        path: program,
      });
    }
    this.#nativeId = spawned.id;
    this.pid = spawned.pid;
    // The watchdog must not keep the event loop alive on its own.
    addon().setWatchRef(spawned.id, false);
    this.#exited = new Promise((resolve) => onExit(spawned.id, () => resolve()));
  }

  /** Ends the watchdog without it killing anything (our own orderly shutdown). */
  async stop(): Promise<void> {
    // Hold the loop open until its exit is seen (it was unref'd while idle).
    addon().setWatchRef(this.#nativeId, true);
    addon().signal(this.#nativeId, SIGTERM, false);
    await this.#exited;
  }
}

// A hostile local user for the readiness tests: test/fixtures/notify-stranger.py run as
// another uid (nobody) when we are root, as CI is; otherwise as our own uid, which is
// still a stranger to the proc (our child, outside the proc's tree).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'notify-stranger.py');
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
export const NOBODY = 65534;
export const strangerIsOtherUser = process.getuid?.() === 0;
if (!strangerIsOtherUser) console.log('readiness-hostile: not root, so the stranger runs under our own uid (outside the proc tree)');

export class Stranger {
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  readonly #lines: string[] = [];
  #waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    const command = strangerIsOtherUser
      ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', python, script, ...args]
      : [python, script, ...args];
    this.#child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    this.exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
    let partial = '';
    this.#child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      this.#lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** The next line it prints that is not yet taken. */
  async line(): Promise<string> {
    while (this.#lines.length === 0) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.#lines.shift()!;
  }

  /** Closes its stdin (its signal to finish) and waits for its exit. */
  async finish(): Promise<number | null> {
    this.#child.stdin.end();
    return this.exited;
  }

  /** Ends it for good (it is our child, killed by pid). */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.exited;
  }
}

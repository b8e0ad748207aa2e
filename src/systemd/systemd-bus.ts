// One D-Bus connection to a systemd manager: connect with a deadline, subscribe to the
// signals the launcher needs, make calls that fail (never hang) when the bus drops, and
// report a lost bus or a lost manager exactly once.
import { DBusError, Message, MessageType, Variant, sessionBus, type MessageBus } from '@jellybrick/dbus-next';

import { ProcLauncherError } from '../contract.js';
import { enableFdPassing } from './fd-passing.js';

const SYSTEMD = 'org.freedesktop.systemd1';
const MANAGER_PATH = '/org/freedesktop/systemd1';
const MANAGER_IFACE = 'org.freedesktop.systemd1.Manager';
const PROPERTIES_IFACE = 'org.freedesktop.DBus.Properties';
/** D-Bus's own default reply timeout: a hung manager fails calls instead of hanging them. */
const CALL_TIMEOUT_MS = 25_000;

/** Without these rules the bus routes none of systemd's signals to us (Subscribe alone is not enough). */
const MATCH_RULES = [
  `type='signal',sender='${SYSTEMD}',path='${MANAGER_PATH}',interface='${MANAGER_IFACE}',member='JobRemoved'`,
  `type='signal',sender='${SYSTEMD}',path='${MANAGER_PATH}',interface='${MANAGER_IFACE}',member='UnitRemoved'`,
  // Every unit's changes: one rule instead of one per unit (the bus limits rules per connection).
  `type='signal',sender='${SYSTEMD}',interface='${PROPERTIES_IFACE}',member='PropertiesChanged',path_namespace='${MANAGER_PATH}/unit'`,
  `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${SYSTEMD}'`,
];

export interface BusListener {
  unitPropertiesChanged(path: string, iface: string, changed: Record<string, unknown>): void;
  jobRemoved(unit: string, job: string, result: string): void;
  unitRemoved(unit: string): void;
  /** The bus connection closed or the manager left it; called once. */
  lost(reason: string): void;
}

/** The parts of dbus-next's connection we need, which its types do not expose. */
interface Transport {
  stream?: { ref?: () => void; unref?: () => void; destroy?: () => void; once?: (event: 'close', fn: () => void) => void };
  on(event: 'end' | 'error', fn: (err?: unknown) => void): void;
}

export class SystemdBus {
  readonly address: string;
  readonly label: string;
  readonly #bus: MessageBus;
  readonly #listener: BusListener;
  readonly #pending = new Set<(err: Error) => void>();
  #lostReason: string | null = null;
  #lastError: string | null = null;
  #connected = false;

  private constructor(bus: MessageBus, address: string, label: string, listener: BusListener) {
    this.#bus = bus;
    this.address = address;
    this.label = label;
    this.#listener = listener;
  }

  /** Connects, says Hello, adds the match rules and subscribes to the manager's signals. */
  static async connect(address: string, label: string, timeoutMs: number, listener: BusListener): Promise<SystemdBus> {
    const raw = sessionBus({ busAddress: address });
    enableFdPassing(raw);
    const bus = new SystemdBus(raw, address, label, listener);
    try {
      await bus.#handshake(timeoutMs);
      await withDeadline(
        (async () => {
          await Promise.all(MATCH_RULES.map((rule) => bus.#callBusDriver('AddMatch', 's', [rule])));
          await bus.callManager('Subscribe', '', []);
        })(),
        timeoutMs,
        () => new ProcLauncherError('launch', `timed out after ${timeoutMs} ms waiting for the systemd manager on ${label} at ${address}`, { code: 'ETIMEDOUT', stage: 'connect' }),
      );
    } catch (err) {
      bus.#lostReason ??= 'connect failed'; // no `lost` report for a bus never handed out
      bus.#destroy();
      throw bus.#connectError(err);
    }
    return bus;
  }

  get lost(): boolean {
    return this.#lostReason !== null;
  }

  /** The bus agreed to carry file descriptors (NEGOTIATE_UNIX_FD) and we can send them. */
  get canPassFds(): boolean {
    return (this.#transport().stream as { supportsUnixFd?: boolean } | undefined)?.supportsUnixFd === true;
  }

  async #handshake(timeoutMs: number): Promise<void> {
    // dbus-next reports a failed connect, and any later trouble, as 'error' events (untyped).
    const bus = this.#bus as unknown as NodeJS.EventEmitter;
    bus.on('error', (err: unknown) => {
      this.#lastError = describe(err);
      if (this.#connected) this.#markLost(`the connection to ${this.label} at ${this.address} failed: ${this.#lastError}`);
    });
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        bus.once('connect', () => resolve());
        bus.once('error', (err: unknown) => reject(err));
      }),
      timeoutMs,
      () => new ProcLauncherError('launch', `timed out after ${timeoutMs} ms connecting to ${this.label} at ${this.address}`, { code: 'ETIMEDOUT', stage: 'connect' }),
    );
    this.#connected = true;
    const transport = this.#transport();
    transport.on('end', () => this.#markLost(`the connection to ${this.label} at ${this.address} was closed`));
    transport.stream?.once?.('close', () => this.#markLost(`the connection to ${this.label} at ${this.address} was closed${this.#lastError === null ? '' : `: ${this.#lastError}`}`));
    this.#bus.on('message', (message: Message) => this.#dispatch(message));
  }

  /** A call to systemd's Manager interface; returns the reply's body. */
  callManager(member: string, signature: string, body: unknown[]): Promise<unknown[]> {
    return this.#call({ destination: SYSTEMD, path: MANAGER_PATH, interface: MANAGER_IFACE, member, signature, body });
  }

  /** A method of a unit object (e.g. `Unref`). */
  callUnit(path: string, member: string): Promise<unknown[]> {
    return this.#call({ destination: SYSTEMD, path, interface: 'org.freedesktop.systemd1.Unit', member, signature: '', body: [] });
  }

  /** All properties of one interface of a unit, with variants unwrapped. */
  async getAll(path: string, iface: string): Promise<Record<string, unknown>> {
    const [values] = await this.#call({ destination: SYSTEMD, path, interface: PROPERTIES_IFACE, member: 'GetAll', signature: 's', body: [iface] });
    return unwrapProperties(values);
  }

  async getProperty(path: string, iface: string, name: string): Promise<unknown> {
    const [value] = await this.#call({ destination: SYSTEMD, path, interface: PROPERTIES_IFACE, member: 'Get', signature: 'ss', body: [iface, name] });
    return value instanceof Variant ? value.value : value;
  }

  /** Whether the socket keeps the event loop alive. */
  setRef(ref: boolean): void {
    const stream = this.#transport().stream;
    if (ref) stream?.ref?.();
    else stream?.unref?.();
  }

  /** Closes the connection; pending calls fail, `lost` is not reported. */
  close(): void {
    this.#lostReason ??= `the connection to ${this.label} at ${this.address} was closed by dispose()`;
    this.#failPending(new Error(this.#lostReason));
    this.#destroy();
  }

  #destroy(): void {
    const transport = this.#transport();
    if (transport.stream?.destroy !== undefined) {
      transport.stream.destroy();
    } else {
      // Still dialling: drop the socket as soon as it exists.
      this.#bus.once('connect', () => this.#transport().stream?.destroy?.());
    }
  }

  #transport(): Transport {
    return (this.#bus as unknown as { _connection: Transport })._connection;
  }

  #markLost(reason: string): void {
    if (this.#lostReason !== null) return;
    this.#lostReason = reason;
    this.#failPending(new Error(reason));
    this.#listener.lost(reason);
  }

  #failPending(err: Error): void {
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const reject of pending) reject(err);
  }

  #callBusDriver(member: string, signature: string, body: unknown[]): Promise<unknown[]> {
    return this.#call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member, signature, body });
  }

  #call(fields: { destination: string; path: string; interface: string; member: string; signature: string; body: unknown[] }): Promise<unknown[]> {
    if (this.#lostReason !== null) return Promise.reject(new Error(this.#lostReason));
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      const timer = setTimeout(() => {
        this.#pending.delete(fail);
        reject(new Error(`no reply to ${fields.member} from ${fields.destination} within ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      timer.unref();
      this.#pending.add(fail);
      this.#bus.call(new Message(fields)).then(
        (reply) => {
          this.#pending.delete(fail);
          clearTimeout(timer);
          resolve(reply?.body ?? []);
        },
        (err: unknown) => {
          this.#pending.delete(fail);
          fail(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  #dispatch(message: Message): void {
    if (message.type !== MessageType.SIGNAL) return;
    const body = message.body;
    if (message.interface === PROPERTIES_IFACE && message.member === 'PropertiesChanged') {
      if (typeof body[0] === 'string') this.#listener.unitPropertiesChanged(message.path, body[0], unwrapProperties(body[1]));
    } else if (message.interface === MANAGER_IFACE && message.member === 'JobRemoved') {
      this.#listener.jobRemoved(String(body[2]), String(body[1]), String(body[3]));
    } else if (message.interface === MANAGER_IFACE && message.member === 'UnitRemoved') {
      this.#listener.unitRemoved(String(body[0]));
    } else if (message.member === 'NameOwnerChanged' && body[0] === SYSTEMD && body[2] === '') {
      this.#markLost(`the systemd manager left ${this.label} at ${this.address}`);
    }
  }

  #connectError(err: unknown): ProcLauncherError {
    if (err instanceof ProcLauncherError) return err;
    const code = errorCode(err);
    if (err instanceof DBusError && /ServiceUnknown|NameHasNoOwner/.test(err.type)) {
      return new ProcLauncherError('launch', `no systemd manager (${SYSTEMD}) on ${this.label} at ${this.address}: ${err.text}`, {
        code: 'ESRCH',
        stage: 'connect',
        cause: err,
      });
    }
    return new ProcLauncherError('launch', `cannot connect to ${this.label} at ${this.address}: ${describe(err)}`, {
      ...(code === undefined ? {} : { code }),
      stage: 'connect',
      ...(this.address.startsWith('unix:path=') ? { path: this.address.slice('unix:path='.length).split(',')[0]! } : {}),
      cause: err,
    });
  }
}

/** D-Bus error names of systemd that mean "this unit or job is not there (any more)". */
export function isGoneError(err: unknown): boolean {
  return err instanceof DBusError && /NoSuchUnit|NoSuchProcess|UnknownObject|UnitInactive|NoSuchJob/.test(err.type);
}

export function isUnitExistsError(err: unknown): boolean {
  return err instanceof DBusError && err.type === 'org.freedesktop.systemd1.UnitExists';
}

export function describe(err: unknown): string {
  if (err instanceof DBusError) return `${err.text} (${err.type})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function unwrapProperties(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [key, entry] of Object.entries(value)) out[key] = entry instanceof Variant ? entry.value : entry;
  return out;
}

function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

export { Variant };

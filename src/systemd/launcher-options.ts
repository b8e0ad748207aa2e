// SystemdProcLauncher's constructor options: validated once, misspelled names rejected,
// and the bus turned into the one address we will dial (so every error can name it).
import {
  checkBoolean,
  checkKnownKeys,
  checkString,
  checkTimeoutMs,
  describeValue,
  isPlainObject,
} from '../common/validate.js';
import { DEFAULT_UNIT_PREFIX, checkUnitPrefix } from './unit-name.js';

export type SystemdBusOption = 'user' | 'system' | { address: string };

export interface SystemdProcLauncherOptions {
  /** The bus systemd is reached on: the user bus, the system bus or a D-Bus address (default: 'user'). */
  bus?: SystemdBusOption;
  /** Prefix of every unit name: `<prefix><escaped procId>.service` (default: 'proclaunch-'). */
  unitPrefix?: string;
  /** Slice the units are placed in (default: the manager's own default, `app.slice` for a user manager). */
  slice?: string;
  /**
   * The units' own stop timeout (`TimeoutStopUSec`): how long systemd waits after SIGTERM
   * when it stops a unit by itself, e.g. `systemctl stop` or this process gone (default: 90_000).
   */
  stopTimeoutMs?: number;
  /** How long to wait for the bus connection and the manager's first answer (default: 5_000). */
  connectTimeoutMs?: number;
  /** Whether a running unit keeps the Node event loop alive, like a child process (default: true). */
  keepAlive?: boolean;
}

export interface ResolvedOptions {
  address: string;
  /** "the user bus", "the system bus" or "the D-Bus address": for messages. */
  busLabel: string;
  /** Base directory for the stdio sockets, where the manager can reach them. */
  socketBase: string | null;
  unitPrefix: string;
  slice: string | null;
  stopTimeoutMs: number;
  connectTimeoutMs: number;
  keepAlive: boolean;
}

const OPTION_KEYS = ['bus', 'unitPrefix', 'slice', 'stopTimeoutMs', 'connectTimeoutMs', 'keepAlive'] as const;
const SYSTEM_BUS_DEFAULT = 'unix:path=/run/dbus/system_bus_socket';

export function resolveOptions(options: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (!isPlainObject(options)) throw new TypeError(`SystemdProcLauncher options must be an object, got ${describeValue(options)}`);
  checkKnownKeys(options, OPTION_KEYS, 'SystemdProcLauncher options');
  const bus = resolveBus(options['bus'] ?? 'user', env);
  const slice = options['slice'] === undefined ? null : checkSlice(options['slice']);
  const stopTimeoutMs = options['stopTimeoutMs'] === undefined ? 90_000 : checkTimeoutMs(options['stopTimeoutMs'], 'stopTimeoutMs');
  const connectTimeoutMs = options['connectTimeoutMs'] === undefined ? 5_000 : checkTimeoutMs(options['connectTimeoutMs'], 'connectTimeoutMs');
  return {
    ...bus,
    unitPrefix: options['unitPrefix'] === undefined ? DEFAULT_UNIT_PREFIX : checkUnitPrefix(options['unitPrefix']),
    slice,
    stopTimeoutMs,
    connectTimeoutMs,
    keepAlive: checkBoolean(options['keepAlive'], 'keepAlive', true),
  };
}

function resolveBus(value: unknown, env: NodeJS.ProcessEnv): Pick<ResolvedOptions, 'address' | 'busLabel' | 'socketBase'> {
  if (value === 'user') {
    const runtimeDir = nonEmpty(env['XDG_RUNTIME_DIR']);
    const uid = process.getuid?.() ?? 0;
    const address =
      nonEmpty(env['DBUS_SESSION_BUS_ADDRESS']) ?? `unix:path=${runtimeDir ?? `/run/user/${uid}`}/bus`;
    return { address, busLabel: 'the user bus', socketBase: runtimeDir ?? null };
  }
  if (value === 'system') {
    return { address: nonEmpty(env['DBUS_SYSTEM_BUS_ADDRESS']) ?? SYSTEM_BUS_DEFAULT, busLabel: 'the system bus', socketBase: null };
  }
  if (isPlainObject(value)) {
    checkKnownKeys(value, ['address'], 'options.bus');
    const address = checkString(value['address'], 'options.bus.address', { nonEmpty: true });
    if (!/^[a-z]+:/.test(address)) throw new RangeError(`options.bus.address must be a D-Bus address like "unix:path=/run/bus", got ${JSON.stringify(address)}`);
    return { address, busLabel: 'the D-Bus address', socketBase: null };
  }
  throw new TypeError(`options.bus must be 'user', 'system' or { address }, got ${describeValue(value)}`);
}

function checkSlice(value: unknown): string {
  const slice = checkString(value, 'slice', { nonEmpty: true });
  if (!/^[A-Za-z0-9:_.\\-]+\.slice$/.test(slice)) throw new RangeError(`slice must be a slice unit name like "proclaunch.slice", got ${JSON.stringify(slice)}`);
  return slice;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.length === 0 ? undefined : value;
}

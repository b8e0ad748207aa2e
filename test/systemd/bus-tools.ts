// Asks the systemd manager directly (not through the launcher under test): which units
// are loaded, what a unit's properties say.
import { SystemdBus, type BusListener } from '../../src/systemd/systemd-bus.js';
import { unitObjectPath } from '../../src/systemd/unit-name.js';

const quiet: BusListener = { unitPropertiesChanged: () => {}, jobRemoved: () => {}, unitRemoved: () => {}, lost: () => {} };

export async function withBus<T>(address: string, fn: (bus: SystemdBus) => Promise<T>): Promise<T> {
  const bus = await SystemdBus.connect(address, 'the test bus', 5_000, quiet);
  try {
    return await fn(bus);
  } finally {
    bus.close();
  }
}

/** Names of the loaded units matching a glob, in any state. */
export function leftoverUnits(address: string, pattern: string): Promise<string[]> {
  return withBus(address, async (bus) => {
    const [units] = await bus.callManager('ListUnitsByPatterns', 'asas', [[], [pattern]]);
    return (units as unknown[][]).map((unit) => String(unit[0])).sort();
  });
}

/** One property of a loaded unit. */
export function unitProperty(address: string, unitName: string, iface: 'Unit' | 'Service', name: string): Promise<unknown> {
  return withBus(address, (bus) => bus.getProperty(unitObjectPath(unitName), `org.freedesktop.systemd1.${iface}`, name));
}

/** SIGKILL to a unit's cgroup, for cleaning up after a test that lost its launcher's bus. */
export function killUnit(address: string, unitName: string): Promise<void> {
  return withBus(address, async (bus) => {
    await bus.callManager('KillUnit', 'ssi', [unitName, 'all', 9]).catch(() => {});
  });
}

/** Several properties of one interface of a loaded unit, read on one connection. */
export function unitProperties(address: string, unitName: string, iface: 'Unit' | 'Service', names: readonly string[]): Promise<Record<string, unknown>> {
  return withBus(address, async (bus) => {
    const all = await bus.getAll(unitObjectPath(unitName), `org.freedesktop.systemd1.${iface}`);
    return Object.fromEntries(names.map((name) => [name, all[name]]));
  });
}

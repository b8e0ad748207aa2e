// What a UnitRemoved signal really means. `systemctl daemon-reload` sends UnitRemoved for
// every unit, then loads them all again at once from their files (same name, same object
// path, jobs and AddRef pins kept), so the signal alone does not say a unit is gone. The
// manager answers calls only after the reload, so asking it settles the question.
import { isGoneError, type SystemdBus } from './systemd-bus.js';

const UNIT_IFACE = 'org.freedesktop.systemd1.Unit';
const SERVICE_IFACE = 'org.freedesktop.systemd1.Service';

export type RecheckResult =
  | { kind: 'gone' }
  /** The bus failed: the connection's own loss report decides what happens. */
  | { kind: 'unknown' }
  /** Still loaded: its state now, to be applied as if signalled. */
  | { kind: 'loaded'; unit: Record<string, unknown>; service: Record<string, unknown> };

export async function recheckUnit(bus: SystemdBus, name: string, path: string): Promise<RecheckResult> {
  try {
    await bus.callManager('GetUnit', 's', [name]);
    const [unit, service] = await Promise.all([bus.getAll(path, UNIT_IFACE), bus.getAll(path, SERVICE_IFACE)]);
    return { kind: 'loaded', unit, service };
  } catch (err) {
    return isGoneError(err) ? { kind: 'gone' } : { kind: 'unknown' };
  }
}

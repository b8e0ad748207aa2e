// What a finished unit's whole tree used. systemd caches the cgroup's CPU usage when it
// removes the cgroup of a finished unit, so CPUUsageNSec still answers until the unit is
// unloaded. It is a total only (no user/system split), and systemd 252 has no MemoryPeak:
// those figures are absent.
import type { ProcTreeUsage } from '../contract.js';
import type { SystemdBus } from './systemd-bus.js';

const SERVICE_IFACE = 'org.freedesktop.systemd1.Service';
/** systemd's "not known" (accounting was off for the unit). */
const UINT64_MAX = 2n ** 64n - 1n;

export async function readUnitTreeUsage(bus: SystemdBus, unitPath: string): Promise<ProcTreeUsage | undefined> {
  const nsec = await bus.getProperty(unitPath, SERVICE_IFACE, 'CPUUsageNSec').catch(() => undefined);
  if (typeof nsec !== 'bigint' && typeof nsec !== 'number') return undefined;
  if (BigInt(nsec) === UINT64_MAX) return undefined;
  return { cpuMs: Number(BigInt(nsec) / 1000n) / 1000 };
}

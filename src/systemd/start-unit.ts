// StartTransientUnit with the launch errors it can end in: a unit of that name still
// running in the manager is a duplicate (EEXIST); a dead one left loaded (by a crashed
// launcher) is reset and the start tried once more; anything else systemd refuses is
// ERR_SYSTEMD_START.
import { ProcLauncherError } from '../contract.js';
import { describe, isUnitExistsError, type SystemdBus } from './systemd-bus.js';

export interface StartTarget {
  procId: string;
  name: string;
  path: string;
}

/** Returns the start job's object path. */
export async function startTransientUnit(bus: SystemdBus, target: StartTarget, properties: unknown[]): Promise<string> {
  const start = async (): Promise<string> => {
    const [job] = await bus.callManager('StartTransientUnit', 'ssa(sv)a(sa(sv))', [target.name, 'fail', properties, []]);
    return String(job);
  };
  try {
    return await start();
  } catch (err) {
    if (!isUnitExistsError(err)) throw startError(target, err);
  }
  const state = await bus.getProperty(target.path, 'org.freedesktop.systemd1.Unit', 'ActiveState').catch(() => 'unknown');
  if (state !== 'inactive' && state !== 'failed') {
    throw duplicateError(target.procId, `its unit ${target.name} is still ${String(state)} in the systemd manager`);
  }
  await bus.callManager('ResetFailedUnit', 's', [target.name]).catch(() => {});
  try {
    return await start();
  } catch (err) {
    if (isUnitExistsError(err)) throw duplicateError(target.procId, `its unit ${target.name} is still loaded in the systemd manager`);
    throw startError(target, err);
  }
}

export function duplicateError(procId: string, why: string): ProcLauncherError {
  return new ProcLauncherError('launch', `cannot launch "${procId}": ${why}`, { code: 'EEXIST', errno: 17, stage: 'validate' });
}

function startError(target: StartTarget, err: unknown): ProcLauncherError {
  if (err instanceof ProcLauncherError) return err;
  return new ProcLauncherError('launch', `cannot launch "${target.procId}": systemd refused unit ${target.name}: ${describe(err)}`, {
    code: 'ERR_SYSTEMD_START',
    stage: 'start',
    cause: err,
  });
}

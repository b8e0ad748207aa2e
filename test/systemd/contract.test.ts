// The contract suite (test/contract/) against SystemdProcLauncher on the suite's own
// systemd manager, and this file's leak checks: no unit of the file left loaded, no fd
// (stdio pipes, sockets, bus) left open once the launchers are disposed.
import { afterAll, describe, expect } from 'vitest';

import { SystemdProcLauncher } from '../../src/index.js';
import { defineContractSuite, type ContractCapabilities } from '../contract/suite.js';
import { openFds, waitFor, zombieChildren } from '../helpers/proc-table.js';
import { expectNoUnitsLeft, launcherFor, skipNote, systemd } from './harness.js';

const SYSTEMD: ContractCapabilities = {
  localPids: true,
  rusage: false,
  treeUsage: 'total',
  orphansKilled: false,
  arg0: true,
  procBind: true,
  signalsWithCore: 'agrees',
  uncapturedStdio: 'managed-by-launcher',
  treeKill: 'tree',
  dispose: 'kill',
  pidGoneAtExit: false,
  escalationSlackMs: 1_500,
  execErrors: 'local',
  processNameHost: 'parent',
  stdinInherit: 'same-file',
  hosts: 'single',
};

const DISPOSE_PREFIX = 'proclaunch-test-contract-dispose-';

describe.skipIf(!systemd.available)(`SystemdProcLauncher contract${skipNote}`, () => {
  const fdsBefore = openFds().length;
  // Registered first, so it runs last: after launcherFor's dispose and unit check.
  afterAll(async () => {
    await expectNoUnitsLeft(`${DISPOSE_PREFIX}*`);
    await waitFor(() => openFds().length <= fdsBefore, `fd count back to ${fdsBefore} (now ${openFds().length})`);
    expect(zombieChildren()).toEqual([]);
  });
  const launcher = launcherFor('contract');
  defineContractSuite({
    name: 'SystemdProcLauncher',
    launcher: () => launcher,
    size: () => launcher.size,
    create: () => new SystemdProcLauncher({ unitPrefix: DISPOSE_PREFIX }),
    capabilities: SYSTEMD,
    // e2big (was ERR_SYSTEMD_EXEC, 203/EXEC) is fixed: src/systemd/exec-size.ts refuses it first.
    knownBugs: {},
  });
});

// The contract suite (test/contract/) against NativeProcLauncher, and this file's leak
// check: no fd, zombie or child left once the launcher is disposed.
import { existsSync } from 'node:fs';
import { afterAll, describe, expect } from 'vitest';

import { NativeProcLauncher } from '../../src/index.js';
import { defineContractSuite, type ContractCapabilities } from '../contract/suite.js';
import { defineTreeUsageContract } from '../contract/tree-usage-contract.js';
import { removeCgroupTree, testCgroupRoot } from '../helpers/cgroup.js';
import { liveChildren, openFds, waitFor, zombieChildren } from '../helpers/proc-table.js';

const NATIVE: ContractCapabilities = {
  localPids: true,
  rusage: true,
  treeUsage: 'none',
  orphansKilled: true,
  arg0: true,
  procBind: true,
  signalsWithCore: 'written',
  uncapturedStdio: 'inherited',
  treeKill: 'group',
  dispose: 'kill',
  pidGoneAtExit: true,
  escalationSlackMs: null,
  execErrors: 'local',
  processNameHost: 'parent',
  stdinInherit: 'same-file',
  hosts: 'single',
};

const fdsBefore = openFds().length;
const launcher = new NativeProcLauncher();
afterAll(async () => {
  await launcher.dispose();
  // Every stdin pipe, captured stream and pidfd of the file is closed; no proc is left.
  await waitFor(() => openFds().length <= fdsBefore, `fd count back to ${fdsBefore} (now ${openFds().length})`);
  expect(zombieChildren()).toEqual([]);
  expect(liveChildren()).toEqual([]);
});

defineContractSuite({ name: 'NativeProcLauncher', launcher: () => launcher, size: () => launcher.size, create: () => new NativeProcLauncher(), capabilities: NATIVE });

// With a cgroup per proc the tree is what the cgroup holds: a setsid'd descendant is
// reached and counted, and cpu.stat gives the user/system split.
const root = testCgroupRoot('contract');
const rootPath = 'path' in root ? root.path : '';
describe.skipIf('skip' in root)(`NativeProcLauncher with a cgroup per proc${'skip' in root ? ` (skipped: ${root.skip})` : ''}`, () => {
  const inCgroup = 'path' in root ? new NativeProcLauncher({ cgroup: root.path }) : (undefined as never);
  afterAll(async () => {
    await inCgroup.dispose();
    expect(existsSync(rootPath)).toBe(false);
    removeCgroupTree(rootPath);
  });
  const backend = {
    name: 'NativeProcLauncher with a cgroup',
    launcher: () => inCgroup,
    size: () => inCgroup.size,
    create: () => new NativeProcLauncher({ cgroup: rootPath }),
    capabilities: { ...NATIVE, treeUsage: 'split', treeKill: 'tree' } satisfies ContractCapabilities,
  };
  defineTreeUsageContract(backend, { memoryPeak: () => existsSync(`${rootPath}/memory.peak`) });
});

// The whole contract suite, as each backend's contract.test.ts runs it: test/native/,
// test/systemd/ (on the suite's own systemd manager) and test/slurm/ (on the test cluster's
// login node). A backend declares what it can offer in its ContractCapabilities; where it
// cannot, the suite asserts the documented alternative (a field absent, a clear error),
// never a skip. A bug the suite finds is listed in the backend's knownBugs and runs as
// it.fails until fixed. Backend-specific assertions (unit names, D-Bus, cgroups, pidfds,
// srun lines) stay in the backend's own files; each backend file keeps its leak checks.
import { describe } from 'vitest';

import type { ContractBackend } from './backend.js';
import { defineBadInputContract } from './bad-input-contract.js';
import { defineEnvContract } from './env-contract.js';
import { defineExitContract } from './exit-contract.js';
import { defineHarnessContract } from './harness-contract.js';
import { defineIdsContract } from './ids-contract.js';
import { defineStdioContract } from './stdio-contract.js';
import { defineTreeContract } from './tree-contract.js';
import { defineTreeUsageContract, type TreeUsageOptions } from './tree-usage-contract.js';

export type { ContractBackend, ContractCapabilities } from './backend.js';

export function defineContractSuite(backend: ContractBackend, treeUsage?: TreeUsageOptions): void {
  describe(`${backend.name} exit`, () => defineExitContract(backend));
  describe(`${backend.name} proc ids`, () => defineIdsContract(backend));
  describe(`${backend.name} environment, argv and cwd`, () => defineEnvContract(backend));
  describe(`${backend.name} stdio`, () => defineStdioContract(backend));
  describe(`${backend.name} process tree`, () => defineTreeContract(backend));
  describe(`${backend.name} treeUsage`, () => defineTreeUsageContract(backend, treeUsage));
  describe(`${backend.name} harness options (stdin, deadline, signal, rlimits)`, () => defineHarnessContract(backend));
  describe(`${backend.name} bad input`, () => defineBadInputContract(backend));
}

import { describe } from 'vitest';

import { defineHarnessContract } from '../helpers/harness-contract.js';
import { launcherFor, skipNote, systemd } from './harness.js';

describe.skipIf(!systemd.available)(`SystemdProcLauncher harness options (stdin, deadline, signal, rlimits)${skipNote}`, () => {
  const launcher = launcherFor('harness');
  defineHarnessContract({ launcher: () => launcher, size: () => launcher.size });
});

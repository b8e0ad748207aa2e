// The manager over the systemd backend passes the harness options through.
import { describe, expect, it } from 'vitest';

import { ProcManager } from '../../src/index.js';
import { fixture } from '../helpers/fixtures.js';
import { limitOf } from '../contract/harness-contract.js';
import { LineCollector } from '../helpers/manager.js';
import { launcherFor, skipNote, systemd } from './harness.js';

describe.skipIf(!systemd.available)(`ProcManager harness options on the systemd backend${skipNote}`, () => {
  const launcher = launcherFor('manager-harness');

  it('stdin pipe through the handle, deadline (timedOut), abort, rlimits and treeUsage', async () => {
    const output = new LineCollector();
    const manager = new ProcManager({ launcher, forwardOutput: false, logSink: output.sink });
    try {
      const cat = await manager.spawn('cat', { program: '/bin/cat' }, { stdin: 'pipe' });
      cat.stdin!.end('into a unit\n');
      await output.waitFor('cat', 'into a unit');
      expect(await cat.wait()).toMatchObject({ state: 'stopped', exitCode: 0 });
      expect(cat.exitResult?.treeUsage?.cpuMs).toBeTypeOf('number');

      const late = await manager.spawn('late', { program: fixture('forever') }, { deadlineMs: 100 });
      expect(await late.wait()).toMatchObject({ state: 'killed', signal: 15 });
      expect(late.exitResult).toMatchObject({ timedOut: true });

      const controller = new AbortController();
      const aborted = await manager.spawn('aborted', { program: fixture('forever') }, { signal: controller.signal, rlimits: { nofile: [48, 96] } });
      expect(limitOf(aborted.pid!, 'Max open files')).toEqual(['48', '96']);
      controller.abort();
      expect(await aborted.wait()).toMatchObject({ state: 'killed', signal: 15 });
      expect(aborted.exitResult).toMatchObject({ aborted: true });
    } finally {
      await manager.dispose();
    }
  });
});

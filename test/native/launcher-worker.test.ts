import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

import { fixture } from '../helpers/fixtures.js';
import { isRunning, waitFor, zombieChildren } from '../helpers/proc-table.js';

// Workers load the compiled package (npm test builds it first).
const entry = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js')).href;

function runWorker(body: string, data: unknown): Worker {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(${JSON.stringify(entry)}).then(async ({ NativeProcLauncher }) => { ${body} })
      .catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
  return new Worker(code, { eval: true, workerData: data });
}

describe('NativeProcLauncher in a worker thread', () => {
  it('launches and watches a proc from a worker', async () => {
    const worker = runWorker(
      `const launcher = new NativeProcLauncher();
       const result = await launcher.launch('w', { command: { program: workerData.program, args: ['5'] } });
       parentPort.postMessage({ pid: result.pid, exit: await result.exit });`,
      { program: fixture('exit-n') },
    );
    const [message] = (await once(worker, 'message')) as [{ pid: number; exit: unknown; error?: string }];
    expect(message.error).toBeUndefined();
    expect(message.exit).toMatchObject({ kind: 'exited', code: 5 });
    await worker.terminate();
  });

  it('kills the worker\'s procs when the worker goes away', async () => {
    const worker = runWorker(
      `const launcher = new NativeProcLauncher();
       const a = await launcher.launch('a', { command: { program: workerData.program } });
       const b = await launcher.launch('b', { command: { program: workerData.program } });
       parentPort.postMessage({ pids: [a.pid, b.pid] });`,
      { program: fixture('forever') },
    );
    const [message] = (await once(worker, 'message')) as [{ pids: number[]; error?: string }];
    expect(message.error).toBeUndefined();
    for (const pid of message.pids) expect(isRunning(pid)).toBe(true);
    await worker.terminate();
    for (const pid of message.pids) await waitFor(() => !isRunning(pid), `proc ${pid} of the dead worker to be gone`);
    expect(zombieChildren()).toEqual([]);
  });
});

#!/usr/bin/env node
// Soak: many short procs through ProcManager (native launcher) with mixed exit codes,
// signals, terminations and kills. Checks what must never drift: zombies, fds, JS heap,
// RSS, and that every proc's end is observed exactly once.
//
//   node --expose-gc test/soak/run-soak.mjs [--launches 100000] [--concurrency 32] [--json]
//
// Exits non-zero when a check fails. `npm run soak` runs the full 100,000; the test
// suite runs a short variant (test/soak/soak.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { ProcManager } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}
const LAUNCHES = option('launches', 100_000);
const CONCURRENCY = option('concurrency', 32);
const JSON_OUTPUT = process.argv.includes('--json');
// Allocator arenas and V8 heap sizing settle within the first few thousand launches
// (RSS climbs ~30 MB on Node 20 by ~3,000 launches, ~60 MB on Node 26 by ~5,000, then
// stays flat): measure growth from there.
// --warm-up N sets it (the suite's short variant: Node 26 with the spawn server still
// wandered 5-12 MB at 6,000 and settled later).
const WARM_UP = option('warm-up', Math.min(Math.floor(LAUNCHES / 2), Math.max(6000, Math.floor(LAUNCHES / 10))));
const MB = 1024 * 1024;

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc (heap growth needs a full GC to be measured)');
  process.exit(2);
}

const openFds = () => readdirSync('/proc/self/fd').length;
function zombieChildren() {
  let count = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' && Number(fields[1]) === process.pid) count++;
    } catch {
      // gone
    }
  }
  return count;
}
function memory() {
  globalThis.gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

// Each kind: the command, what to do to it, and the terminal status it must end in.
const kinds = [
  { name: 'true', command: { program: '/bin/true' }, expect: { state: 'stopped', exitCode: 0 } },
  { name: 'false', command: { program: '/bin/false' }, expect: { state: 'stopped', exitCode: 1 } },
  { name: 'exit-42', command: { program: '/bin/sh', args: ['-c', 'exit 42'] }, expect: { state: 'stopped', exitCode: 42 } },
  { name: 'stderr', command: { program: '/bin/sh', args: ['-c', 'echo soak-line >&2; exit 2'] }, expect: { state: 'stopped', exitCode: 2, tail: 'soak-line' } },
  { name: 'self-term', command: { program: '/bin/sh', args: ['-c', 'kill -TERM $$'] }, expect: { state: 'killed', signal: 15 } },
  { name: 'terminated', command: { program: '/bin/sleep', args: ['30'] }, act: (h) => h.terminate(5000), expect: { state: 'killed', signal: 15 } },
  { name: 'killed', command: { program: '/bin/sleep', args: ['30'] }, act: (h) => h.kill(), expect: { state: 'killed', signal: 9 } },
  { name: 'true', command: { program: '/bin/true' }, expect: { state: 'stopped', exitCode: 0 } },
];

const manager = new ProcManager({ launcher: 'native', forwardOutput: false, historyLimit: 64, tailLines: 4 });
const settleCounts = new Map();
const outcomes = {};
const mismatches = [];
let baseline;
let next = 0;
const started = Date.now();

async function runOne(i) {
  const kind = kinds[i % kinds.length];
  const procId = `soak-${i}`;
  const handle = await manager.spawn(procId, kind.command);
  const waited = handle.wait().then((status) => {
    settleCounts.set(procId, (settleCounts.get(procId) ?? 0) + 1);
    return status;
  });
  if (kind.act !== undefined) await kind.act(handle);
  const status = await waited;
  outcomes[kind.name] = (outcomes[kind.name] ?? 0) + 1;
  const want = kind.expect;
  const ok =
    status.state === want.state &&
    (want.exitCode === undefined || status.exitCode === want.exitCode) &&
    (want.signal === undefined || status.signal === want.signal) &&
    (want.tail === undefined || status.stderrTail.at(-1) === want.tail);
  if (!ok && mismatches.length < 10) mismatches.push({ procId, kind: kind.name, status });
  // Settled once: drop the counter, keep the check cheap and the memory flat.
  if (settleCounts.get(procId) === 1) settleCounts.delete(procId);
}

async function worker() {
  while (next < LAUNCHES) {
    const i = next++;
    await runOne(i);
    if (i === WARM_UP) baseline = { ...memory(), fds: openFds() };
    if (!JSON_OUTPUT && process.stderr.isTTY && i % 1000 === 0) process.stderr.write(`\r${i}/${LAUNCHES}`);
  }
}

await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const seconds = (Date.now() - started) / 1000;
// Captured pipes close right after EOF; give the loop a moment to drop them.
for (let i = 0; i < 100 && openFds() > baseline.fds; i++) await new Promise((resolve) => setTimeout(resolve, 10));
const end = { ...memory(), fds: openFds() };
await new Promise((resolve) => setTimeout(resolve, 50));
const lateSettles = [...settleCounts.values()].filter((count) => count !== 1).length + settleCounts.size;
const result = {
  launches: LAUNCHES,
  concurrency: CONCURRENCY,
  seconds,
  launchesPerSecond: Math.round(LAUNCHES / seconds),
  outcomes,
  mismatches,
  zombies: zombieChildren(),
  fdsAfterWarmUp: baseline.fds,
  fdsAtEnd: end.fds,
  heapGrowthMB: +((end.heapUsed - baseline.heapUsed) / MB).toFixed(2),
  rssGrowthMB: +((end.rss - baseline.rss) / MB).toFixed(2),
  everyEndObservedOnce: lateSettles === 0,
};
await manager.dispose();
const failures = [];
if (result.mismatches.length > 0) failures.push('some procs ended in an unexpected state');
if (result.zombies !== 0) failures.push(`${result.zombies} zombies`);
if (result.fdsAtEnd > result.fdsAfterWarmUp) failures.push(`fds grew from ${result.fdsAfterWarmUp} to ${result.fdsAtEnd}`);
if (result.heapGrowthMB >= 10) failures.push(`JS heap grew ${result.heapGrowthMB} MB`);
if (result.rssGrowthMB >= 10) failures.push(`RSS grew ${result.rssGrowthMB} MB`);
if (!result.everyEndObservedOnce) failures.push('an end was observed more or less than once');
result.failures = failures;
if (JSON_OUTPUT) {
  console.log(JSON.stringify(result));
} else {
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(JSON.stringify(result, null, 2));
  console.log(failures.length === 0 ? 'soak: all checks passed' : `soak: FAILED: ${failures.join('; ')}`);
}
process.exit(failures.length === 0 ? 0 : 1);

// Scenario 6: what one idle supervised proc costs the parent: JS heap, fds and RSS,
// with and without stdio capture. The bench holds only what a user must hold (the
// LaunchResult, or the ChildProcess), so the figures are the launcher's own.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

import type { LaunchResult } from '../../contract.js';
import { NativeProcLauncher } from '../../native/native-proc-launcher.js';
import type { CleanupRegistry } from '../cleanup.js';
import { combinedOver, countOf } from '../count-noun.js';
import { forceGc, settledHeapUsed } from '../heap.js';
import { IDLE_SECONDS, SLEEP, yieldToEventLoop } from '../idle-procs.js';
import { idleCapacity, openFdCount } from '../limits.js';
import type { ContenderName } from '../report.js';
import { metric, skippedOutcome, type Scenario } from '../scenario.js';
import { median } from '../stats.js';

const SIZES = {
  full: { procs: 1000, rounds: 2, warmup: 20 },
  quick: { procs: 100, rounds: 1, warmup: 5 },
};

interface Cell {
  contender: 'native' | 'child_process';
  capture: boolean;
}
const CELLS: Cell[] = [
  { contender: 'native', capture: false },
  { contender: 'child_process', capture: false },
  { contender: 'native', capture: true },
  { contender: 'child_process', capture: true },
];

interface Footprint {
  heapBytes: number;
  fds: number;
  rssKb: number;
}

export const idleFootprintScenario: Scenario = {
  name: 'idle-footprint',
  number: 6,
  title: (quick) => footprintTitle((quick ? SIZES.quick : SIZES.full).procs),
  units: (quick) => CELLS.length * (quick ? SIZES.quick : SIZES.full).rounds,
  async run(context) {
    const sizes = context.quick ? SIZES.quick : SIZES.full;
    // Capturing native procs hold 3 fds each (pidfd + 2 pipes).
    const capacity = idleCapacity(sizes.procs, 3);
    if (capacity.count === 0) return skippedOutcome('child_process', capacity.note ?? 'no room for idle procs');
    const count = capacity.count;
    const gcForced = forceGc();
    for (const cell of CELLS) await measureFootprint(cell, sizes.warmup, context.registry);

    const samples = new Map<Cell, Footprint[]>(CELLS.map((cell) => [cell, []]));
    for (let round = 0; round < sizes.rounds; round++) {
      for (let i = 0; i < CELLS.length; i++) {
        const cell = CELLS[(i + round) % CELLS.length]!;
        samples.get(cell)!.push(await measureFootprint(cell, count, context.registry));
        context.progress.advance(1, `idle-footprint: round ${round + 1}/${sizes.rounds}, ${cell.contender}${cell.capture ? ' with stdio' : ''}`);
      }
    }

    const values = (capture: boolean, pick: (f: Footprint) => number): Partial<Record<ContenderName, number>> =>
      Object.fromEntries(CELLS.filter((cell) => cell.capture === capture).map((cell) => [cell.contender, median(samples.get(cell)!.map(pick))]));
    const spec = (name: string, label: string, unit: string) => ({ name, label, unit, better: 'lower' as const });
    return {
      title: footprintTitle(count),
      status: 'ok',
      baseline: 'child_process',
      contenders: ['native', 'child_process'],
      skipped: {},
      metrics: [
        metric(spec('heapPerProc', 'JS heap/proc', 'B'), values(false, (f) => f.heapBytes), 'child_process'),
        metric(spec('fdsPerProc', 'fds/proc', 'fd'), values(false, (f) => f.fds), 'child_process'),
        metric(spec('rssPerProc', 'parent RSS/proc', 'kB'), values(false, (f) => f.rssKb), 'child_process'),
        metric(spec('heapPerProcStdio', 'JS heap/proc, stdio piped', 'B'), values(true, (f) => f.heapBytes), 'child_process'),
        metric(spec('fdsPerProcStdio', 'fds/proc, stdio piped', 'fd'), values(true, (f) => f.fds), 'child_process'),
        metric(spec('rssPerProcStdio', 'parent RSS/proc, stdio piped', 'kB'), values(true, (f) => f.rssKb), 'child_process'),
      ],
      notes: [
        `${countOf(sizes.rounds, 'interleaved round')} of ${countOf(count, 'idle `sleep` proc')} per cell; the bench holds one LaunchResult (native) or ChildProcess per proc; ${combinedOver(sizes.rounds, 'medians')}`,
        'without stdio: native inherits stdout/stderr, child_process uses stdio "ignore"; with stdio: stdout and stderr are pipes to the parent',
        gcForced ? 'heap: heapUsed difference between two settled heaps (forced full GCs until the figure stops moving), divided by the proc count' : 'heap: no forced GC was available, heap figures are approximate',
        'parent RSS: informational, it also moves with the allocator and the GC',
        ...(capacity.note === null ? [] : [capacity.note]),
      ],
    };
  },
};

function footprintTitle(procs: number): string {
  return `memory and fds per idle supervised proc (${procs.toLocaleString('en-US')} of them)`;
}

async function measureFootprint(cell: Cell, count: number, registry: CleanupRegistry): Promise<Footprint> {
  const heap0 = await settledHeapUsed();
  const fds0 = openFdCount();
  const rss0 = process.memoryUsage.rss();
  const held = cell.contender === 'native' ? await holdNative(count, cell.capture, registry) : await holdChildren(count, cell.capture, registry);
  try {
    const heap1 = await settledHeapUsed();
    return {
      heapBytes: (heap1 - heap0) / count,
      fds: (openFdCount() - fds0) / count,
      rssKb: (process.memoryUsage.rss() - rss0) / 1024 / count,
    };
  } finally {
    await held.release();
  }
}

interface Held {
  items: unknown[];
  release(): Promise<void>;
}

async function holdNative(count: number, capture: boolean, registry: CleanupRegistry): Promise<Held> {
  const launcher = new NativeProcLauncher();
  const remove = registry.add(() => void launcher.dispose());
  const items: LaunchResult[] = [];
  const release = async (): Promise<void> => {
    for (const item of items) {
      // Nobody reads these pipes: close our ends now rather than wait for an EOF read.
      if (item.stdio.kind === 'captured') {
        item.stdio.stdout.destroy();
        item.stdio.stderr.destroy();
      }
    }
    await launcher.dispose();
    remove();
  };
  try {
    for (let i = 0; i < count; i++) {
      items.push(await launcher.launch(`footprint-${i}`, { command: { program: SLEEP, args: [IDLE_SECONDS] }, wantStdio: capture }));
      if (i % 64 === 63) await yieldToEventLoop();
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { items, release };
}

async function holdChildren(count: number, capture: boolean, registry: CleanupRegistry): Promise<Held> {
  const items: ChildProcess[] = [];
  const remove = registry.add(() => {
    for (const child of items) if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  });
  const release = async (): Promise<void> => {
    const exits = items.filter((child) => child.exitCode === null && child.signalCode === null).map((child) => once(child, 'exit'));
    for (const child of items) {
      child.kill('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    await Promise.all(exits);
    remove();
  };
  try {
    for (let i = 0; i < count; i++) {
      const child = spawn(SLEEP, [IDLE_SECONDS], { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'ignore' });
      items.push(child);
      await once(child, 'spawn');
      if (i % 64 === 63) await yieldToEventLoop();
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { items, release };
}

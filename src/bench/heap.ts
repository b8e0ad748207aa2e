// JS heap helpers: a forced full GC (for per-proc heap figures) and a ballast that
// grows the heap to a given size (for the big-heap scenario).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFunction: (() => void) | null | undefined;

/** Runs a full GC; false when this Node refuses to expose one (figures are then approximate). */
export function forceGc(): boolean {
  if (gcFunction === undefined) {
    try {
      // Same as starting node with --expose-gc, which a bin script cannot ask for.
      setFlagsFromString('--expose-gc');
      gcFunction = runInNewContext('gc') as () => void;
    } catch {
      gcFunction = null;
    }
  }
  if (gcFunction === null) return false;
  gcFunction();
  gcFunction(); // the second pass collects what the first one's finalizers released
  return true;
}

/**
 * The live heap size, once garbage is really gone: finalizers and weak callbacks run
 * after a GC, in a later task, and free more at the next one. GC and yield until the
 * figure stops moving, so a "before" figure does not still hold garbage that a later
 * collection would subtract from the "after" one.
 */
export async function settledHeapUsed(): Promise<number> {
  let previous = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 8; attempt++) {
    forceGc();
    await new Promise((resolve) => setImmediate(resolve));
    const now = heapUsed();
    if (Math.abs(previous - now) < 4096) return now;
    previous = now;
  }
  return heapUsed();
}

export function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

export interface Ballast {
  readonly bytes: number;
  release(): void;
}

/**
 * Grows the JS heap by about `bytes` with small objects, like a real application heap:
 * many V8 pages (and mappings) whose page tables fork() has to copy.
 */
export function allocateBallast(bytes: number): Ballast {
  const before = heapUsed();
  let chunks: object[][] = [];
  const chunkLength = 100_000;
  while (heapUsed() - before < bytes) {
    const chunk: object[] = new Array(chunkLength);
    for (let i = 0; i < chunkLength; i++) chunk[i] = { index: i, label: `item-${i}` };
    chunks.push(chunk);
  }
  return {
    bytes: heapUsed() - before,
    release() {
      chunks = [];
      forceGc();
    },
  };
}

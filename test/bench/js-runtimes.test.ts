// Bun and Deno as bench contenders: a missing or broken runtime is `skipped` with why,
// the round's JSON is checked figure by figure, and a present runtime gives figures
// (installed here from npm into a temp dir, as the bench's docs tell users to).
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

import { loadRuntime, loadRuntimes, locateRuntime, parseInFlight, parseSequential, parseVersion } from '../../src/bench/js-runtimes.js';
import { liveChildren } from '../helpers/proc-table.js';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-runtimes-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('locating Bun and Deno', () => {
  it('skips a runtime that is not in the well-known directory, saying how to get it', () => {
    const empty = join(scratch, 'empty');
    expect(locateRuntime('bun', {}, empty)).toEqual({
      skipped: `bun not found (${empty}/node_modules/@oven/bun-linux-x64/bin/bun); set PROCLAUNCH_BENCH_BUN to its binary, or: npm install --no-save --prefix ${empty} @oven/bun-linux-x64`,
    });
    expect(locateRuntime('deno', {}, empty)).toMatchObject({ skipped: expect.stringContaining('npm install --no-save --prefix') });
  });

  it('names the variable when the path it gives is missing or not executable', async () => {
    expect(locateRuntime('deno', { PROCLAUNCH_BENCH_DENO: '/nonexistent/deno' })).toEqual({ skipped: 'deno not found (PROCLAUNCH_BENCH_DENO=/nonexistent/deno)' });
    const plain = join(scratch, 'not-executable');
    writeFileSync(plain, '');
    chmodSync(plain, 0o644);
    // root may execute nothing without an x bit either: access(X_OK) says no for both.
    expect(locateRuntime('bun', { PROCLAUNCH_BENCH_BUN: plain })).toEqual({ skipped: `bun at PROCLAUNCH_BENCH_BUN=${plain} is not executable` });
    expect(await loadRuntime('bun', { PROCLAUNCH_BENCH_BUN: plain })).toEqual({ skipped: `bun at PROCLAUNCH_BENCH_BUN=${plain} is not executable` });
  });

  it('skips a binary that does not start, with its first line of stderr', async () => {
    const broken = join(scratch, 'broken-bun');
    writeFileSync(broken, '#!/bin/sh\necho "cannot run here" >&2\nexit 3\n');
    chmodSync(broken, 0o755);
    const loaded = await loadRuntime('bun', { PROCLAUNCH_BENCH_BUN: broken });
    expect(loaded).toEqual({ skipped: `bun at ${broken} does not run: cannot run here` });
  });
});

describe("a round's JSON line", () => {
  const sequential = { runtime: 'bun', version: '1.4.5', launches: 10, launchesPerSec: 400.5, callMs: { p50: 0.2, p99: 0.9 }, latencyMs: { p50: 2, p99: 3 } };

  it('is parsed from the last line of stdout', () => {
    expect(parseSequential(`noise\n${JSON.stringify(sequential)}\n`)).toEqual(sequential);
    const inFlight = { runtime: 'deno', version: '2.9.6', launches: 64, launchesPerSec: 300, maxStallMs: 150, cpuMs: 40 };
    expect(parseInFlight(JSON.stringify(inFlight))).toEqual(inFlight);
    expect(parseVersion('deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)\nv8 14\n')).toBe('2.9.6');
    expect(parseVersion('1.4.5\n')).toBe('1.4.5');
  });

  it('is rejected, naming the field, when a figure is missing, negative or not a number', () => {
    expect(() => parseSequential('')).toThrow(/printed no JSON line/);
    expect(() => parseSequential('[1]')).toThrow(/not an object/);
    expect(() => parseSequential(JSON.stringify({ ...sequential, callMs: { p50: -1, p99: 1 } }))).toThrow(/callMs\.p50 is -1, not a figure/);
    expect(() => parseSequential(JSON.stringify({ ...sequential, launchesPerSec: 'fast' }))).toThrow(/launchesPerSec is "fast"/);
    expect(() => parseInFlight(JSON.stringify({ runtime: 'bun', version: '1', launches: 1, launchesPerSec: 1 }))).toThrow(/maxStallMs is undefined/);
    expect(() => parseInFlight(JSON.stringify({ runtime: 'bun', version: '1', launches: 1, launchesPerSec: 1, maxStallMs: 1 }))).toThrow(/cpuMs is undefined/);
    expect(() => parseVersion('no digits')).toThrow(/no version/);
  });
});

describe('Bun and Deno from their npm binary packages', () => {
  const dir = join(scratch, 'installed');

  it('run rounds and give figures; a failing program fails the round', async () => {
    // Seconds with a warm npm cache (4 s here for both); the registry is reachable in CI.
    await run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', dir, '@oven/bun-linux-x64', '@deno/linux-x64-glibc'], {
      timeout: 240_000,
    });
    const { available, skipped } = await loadRuntimes({}, dir);
    expect(skipped).toEqual({});
    expect(available.map((runtime) => runtime.name)).toEqual(['bun', 'deno']);
    for (const runtime of available) {
      expect(runtime.version).toMatch(/^\d+\.\d+\.\d+/);
      const seq = await runtime.sequential(5, 1, '/bin/true');
      expect(seq).toMatchObject({ runtime: runtime.name, version: runtime.version, launches: 5 });
      expect(seq.launchesPerSec).toBeGreaterThan(0);
      expect(seq.callMs.p50).toBeGreaterThan(0);
      expect(seq.latencyMs.p99).toBeGreaterThanOrEqual(seq.latencyMs.p50);
      const flight = await runtime.inFlight(16, 4, 4, '/bin/true');
      expect(flight).toMatchObject({ runtime: runtime.name, launches: 16 });
      expect(flight.maxStallMs).toBeGreaterThan(0);
      // Its own CPU over the 16 launches, as process.cpuUsage() tells it.
      expect(flight.cpuMs).toBeGreaterThan(0);
      await expect(runtime.sequential(2, 0, '/bin/false')).rejects.toThrow(/\/bin\/false exited with 1/);
    }
    expect(liveChildren()).toEqual([]);
  }, 600_000);
});

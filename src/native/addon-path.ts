// Where the native addon comes from: the prebuilt shipped in the npm package first
// (prebuilds/linux-<arch>/, made by `npm pack`), then a build from source
// (build/Release/, made by node-gyp on install or in a git checkout).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ProcLauncherError } from '../contract.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What scripts/build-prebuilt.mjs records beside the prebuilt binaries. */
interface PrebuiltManifest {
  platform: string;
  arch: string;
  /** The newest GLIBC_x.y symbol version the binaries reference: the oldest glibc they run on. */
  glibc: string;
  napi: number;
}

interface Candidate {
  kind: 'prebuilt' | 'source build' | 'PROCLAUNCH_ADDON_PATH';
  file: string;
}

let loadedFrom: string | undefined;

function prebuiltDir(): string {
  return resolve(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);
}

function listCandidates(): Candidate[] {
  // PROCLAUNCH_ADDON_PATH selects another build of the addon (the sanitizer build in CI).
  const override = process.env['PROCLAUNCH_ADDON_PATH'];
  if (override !== undefined) return [{ kind: 'PROCLAUNCH_ADDON_PATH', file: resolve(override) }];
  return [
    { kind: 'prebuilt', file: resolve(prebuiltDir(), 'proclaunch.node') },
    { kind: 'source build', file: resolve(packageRoot, 'build', 'Release', 'proclaunch.node') },
  ];
}

function readManifest(): PrebuiltManifest | undefined {
  try {
    return JSON.parse(readFileSync(resolve(prebuiltDir(), 'manifest.json'), 'utf8')) as PrebuiltManifest;
  } catch {
    return undefined;
  }
}

/** The glibc this process runs on, or null (musl, or not Linux). */
export function describeRuntimeLibc(): string | null {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ?? null;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Why the prebuilt must not be used here, or null. The addon alone may load on an older
 * glibc than its watchdog helper needs, so the manifest's figure decides, not dlopen. */
function checkPrebuiltFits(): string | null {
  const manifest = readManifest();
  if (manifest === undefined) return null;
  const glibc = describeRuntimeLibc();
  if (glibc === null) return `needs glibc >= ${manifest.glibc}, this machine has none`;
  if (compareVersions(glibc, manifest.glibc) < 0) return `needs glibc >= ${manifest.glibc}, this machine has ${glibc}`;
  return null;
}

function explainFailures(failures: string[]): string {
  const manifest = readManifest();
  const glibc = describeRuntimeLibc();
  const lines = [`proclaunch: could not load the native addon (${process.platform}-${process.arch}, Node ${process.version}, N-API ${process.versions.napi}, ${glibc === null ? 'no glibc (musl?)' : `glibc ${glibc}`}).`];
  lines.push(...failures.map((failure) => `  ${failure}`));
  if (manifest !== undefined) {
    lines.push(`The prebuilt needs ${manifest.platform}-${manifest.arch} with glibc >= ${manifest.glibc} and N-API >= ${manifest.napi}.`);
  }
  lines.push('Build it from source with `npm rebuild proclaunch` (needs a C++ compiler, make and python3).');
  return lines.join('\n');
}

/** Loads the addon from the first place that has one that loads; throws a ProcLauncherError naming each attempt. */
export function loadAddonBinary<T>(): T {
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const candidate of listCandidates()) {
    if (!existsSync(candidate.file)) {
      failures.push(`${candidate.kind}: ${candidate.file}: not there`);
      continue;
    }
    const unfit = candidate.kind === 'prebuilt' ? checkPrebuiltFits() : null;
    if (unfit !== null) {
      failures.push(`${candidate.kind}: ${candidate.file}: ${unfit}`);
      continue;
    }
    try {
      const binary = require(candidate.file) as T;
      loadedFrom = dirname(candidate.file);
      return binary;
    } catch (error) {
      failures.push(`${candidate.kind}: ${candidate.file}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new ProcLauncherError('other', explainFailures(failures), { code: 'ERR_ADDON_LOAD', stage: 'load-addon' });
}

/** The directory of the addon in use (or that would be used): the watchdog executable lives beside it. */
export function addonDirectory(): string {
  if (loadedFrom !== undefined) return loadedFrom;
  const present = listCandidates().find((candidate) => existsSync(candidate.file));
  return dirname((present ?? listCandidates()[0]!).file);
}

// Shared by the install and prepack scripts (plain JavaScript: they run before, or
// without, the TypeScript build): where the addon's binaries live and whether they load.
import { accessSync, constants, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const prebuiltDir = join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);
export const sourceBuildDir = join(packageRoot, 'build', 'Release');
export const BINARIES = ['proclaunch.node', 'proclaunch-watchdog', 'proclaunch-spawner'];
/** The helper executables beside the addon. */
export const EXECUTABLES = ['proclaunch-watchdog', 'proclaunch-spawner'];

export function log(message) {
  process.stderr.write(`proclaunch: ${message}\n`);
}

export function readManifest(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

export function runtimeGlibc() {
  return process.report.getReport().header.glibcVersionRuntime ?? null;
}

/** Compares dotted versions ("2.34" < "2.36"). */
export function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Why the binaries in `dir` cannot be used here, or null when they load. */
export function checkBinaries(dir) {
  for (const name of BINARIES) {
    if (!existsSync(join(dir, name))) return `${join(dir, name)} is not there`;
  }
  for (const name of EXECUTABLES) {
    try {
      accessSync(join(dir, name), constants.X_OK);
    } catch {
      return `${join(dir, name)} is not executable`;
    }
  }
  const manifest = readManifest(dir);
  if (manifest !== undefined) {
    const glibc = runtimeGlibc();
    if (glibc === null) return `it needs glibc >= ${manifest.glibc} and this machine has none (musl?)`;
    if (compareVersions(glibc, manifest.glibc) < 0) return `it needs glibc >= ${manifest.glibc}, this machine has ${glibc}`;
    if (Number(process.versions.napi) < manifest.napi) return `it needs N-API >= ${manifest.napi}, Node ${process.version} has ${process.versions.napi}`;
  }
  try {
    createRequire(import.meta.url)(join(dir, 'proclaunch.node'));
  } catch (error) {
    return `it does not load: ${String(error.message).split('\n')[0]}`;
  }
  return null;
}

/** The newest modification time among the addon's sources. */
export function newestSourceTime() {
  const files = [join(packageRoot, 'binding.gyp'), ...readdirSync(join(packageRoot, 'native')).map((name) => join(packageRoot, 'native', name))];
  return Math.max(...files.map((file) => statSync(file).mtimeMs));
}

/** A source build that is newer than every source file. */
export function isSourceBuildFresh() {
  return BINARIES.every((name) => existsSync(join(sourceBuildDir, name)) && statSync(join(sourceBuildDir, name)).mtimeMs >= newestSourceTime());
}

/** How to run node-gyp: the one npm hands to lifecycle scripts, else the repo's own. */
export function nodeGypCommand() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm !== undefined && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const local = join(packageRoot, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(local)) return [process.execPath, local];
  return ['node-gyp'];
}

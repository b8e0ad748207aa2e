// prepack: build the addon and put it, with the watchdog, the spawn server and a manifest of what it
// needs (read off the binaries), in prebuilds/<platform>-<arch>/ for the tarball.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { BINARIES, checkBinaries, compareVersions, log, nodeGypCommand, packageRoot, prebuiltDir, runtimeGlibc, sourceBuildDir } from './addon-files.mjs';

function run(command, args) {
  const result = spawnSync(command, args, { cwd: packageRoot, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? result.status}`);
  return result.stdout;
}

/** The newest GLIBC_ symbol version a binary needs: the oldest glibc it runs on. */
function requiredGlibc(file) {
  const versions = [...run('objdump', ['-T', file]).matchAll(/GLIBC_([0-9.]+)/g)].map((match) => match[1]);
  return versions.sort(compareVersions).at(-1);
}

if (process.platform !== 'linux' || process.arch !== 'x64' || runtimeGlibc() === null) {
  throw new Error(`prebuilts are made on linux-x64 with glibc; this is ${process.platform}-${process.arch}`);
}
const [command, ...args] = nodeGypCommand();
log('building the prebuilt addon');
const build = spawnSync(command, [...args, 'rebuild'], { cwd: packageRoot, stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) throw new Error(`node-gyp rebuild failed: ${build.error?.message ?? build.status}`);
rmSync(prebuiltDir, { recursive: true, force: true });
mkdirSync(prebuiltDir, { recursive: true });
for (const name of BINARIES) {
  copyFileSync(join(sourceBuildDir, name), join(prebuiltDir, name));
  run('strip', ['--strip-unneeded', join(prebuiltDir, name)]);
}
const napi = Number(/NAPI_VERSION=(\d+)/.exec(readFileSync(join(packageRoot, 'binding.gyp'), 'utf8'))[1]);
const glibc = BINARIES.map((name) => requiredGlibc(join(prebuiltDir, name))).sort(compareVersions).at(-1);
const manifest = { platform: process.platform, arch: process.arch, libc: 'glibc', glibc, napi, builtWith: `node ${process.version}, glibc ${runtimeGlibc()}` };
writeFileSync(join(prebuiltDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
const problem = checkBinaries(prebuiltDir);
if (problem !== null) throw new Error(`the prebuilt does not work here: ${problem}`);
log(`prebuilt addon in ${prebuiltDir}: needs glibc >= ${glibc}, N-API >= ${napi}`);

// npm's install script: use the prebuilt addon when it loads on this machine, else
// build from source with node-gyp (which needs a C++ compiler, make and python3).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

import { checkBinaries, isSourceBuildFresh, log, nodeGypCommand, packageRoot, prebuiltDir, readManifest, sourceBuildDir } from './addon-files.mjs';

function findOnPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, name)));
}

function main() {
  if (existsSync(prebuiltDir)) {
    const problem = checkBinaries(prebuiltDir);
    if (problem === null) {
      log(`using the prebuilt addon (${prebuiltDir}, glibc >= ${readManifest(prebuiltDir)?.glibc ?? '?'})`);
      return 0;
    }
    log(`the prebuilt addon cannot be used here: ${problem}; building from source`);
  }
  // A checkout that is already built (npx in a clone installs it again): nothing to do.
  if (isSourceBuildFresh() && checkBinaries(sourceBuildDir) === null) {
    log(`the addon is already built from source (${sourceBuildDir}) and up to date`);
    return 0;
  }
  const [command, ...args] = nodeGypCommand();
  log(`building the addon from source: ${[command, ...args].join(' ')} rebuild`);
  const result = spawnSync(command, [...args, 'rebuild'], { cwd: packageRoot, stdio: 'inherit' });
  if (result.status === 0) return 0;
  const missing = ['g++', 'make', 'python3'].filter((tool) => !findOnPath(tool));
  log(
    [
      `the build from source failed (${result.error?.message ?? `node-gyp exited with ${result.status ?? result.signal}`}).`,
      missing.length > 0 ? `Not found on PATH: ${missing.join(', ')}.` : 'See the node-gyp output above.',
      'node-gyp needs a C++ compiler, make and python3 (Debian/Ubuntu: apt-get install g++ make python3).',
      `The prebuilt addon covers linux-x64 with glibc >= ${readManifest(prebuiltDir)?.glibc ?? '(see README)'}; this machine is ${process.platform}-${process.arch}.`,
    ].join('\n  '),
  );
  return 1;
}

process.exitCode = main();

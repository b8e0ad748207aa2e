// The install script and the loader in a checkout: no surprise rebuild when the addon is
// already built (npx in a clone re-runs the install script), an executable bin after the
// build, and a clear error when no addon loads. The packed tarball itself is checked by
// test/pack/check-tarball.sh (CI).
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { ProcLauncherError } from '../../src/contract.js';
import { loadAddonBinary } from '../../src/native/addon-path.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const addonFile = join(repo, 'build', 'Release', 'proclaunch.node');

describe('scripts/install.mjs in a built checkout', () => {
  it('sees the addon is built and up to date, and leaves it alone', async () => {
    const { isSourceBuildFresh } = (await import(join(repo, 'scripts', 'addon-files.mjs'))) as { isSourceBuildFresh(): boolean };
    if (!isSourceBuildFresh()) {
      // Outside CI a developer may have edited native/ without rebuilding; CI builds first.
      expect(process.env['CI'], 'CI builds the addon before the tests').not.toBe('true');
      console.warn('skipped: build/Release is older than native/ (run `npm run build:native`)');
      return;
    }
    const before = statSync(addonFile).mtimeMs;
    const result = spawnSync(process.execPath, [join(repo, 'scripts', 'install.mjs')], { cwd: repo, encoding: 'utf8' });
    expect({ status: result.status, stderr: result.stderr }).toEqual({
      status: 0,
      stderr: `proclaunch: the addon is already built from source (${join(repo, 'build', 'Release')}) and up to date\n`,
    });
    expect(statSync(addonFile).mtimeMs).toBe(before);
  });
});

describe('the TypeScript build', () => {
  it('leaves the proclaunch bin executable', () => {
    expect((statSync(join(repo, 'dist', 'cli', 'main.js')).mode & 0o111).toString(8)).toBe('111');
  });
});

describe('loading the addon', () => {
  const saved = process.env['PROCLAUNCH_ADDON_PATH'];
  const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-addon-path-'));
  afterEach(() => {
    if (saved === undefined) delete process.env['PROCLAUNCH_ADDON_PATH'];
    else process.env['PROCLAUNCH_ADDON_PATH'] = saved;
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function loadError(): ProcLauncherError {
    try {
      loadAddonBinary();
    } catch (error) {
      return error as ProcLauncherError;
    }
    throw new Error('the addon loaded');
  }

  it('names each place it tried when none has an addon', () => {
    process.env['PROCLAUNCH_ADDON_PATH'] = join(scratch, 'missing.node');
    const error = loadError();
    expect(error).toBeInstanceOf(ProcLauncherError);
    expect({ code: error.code, stage: error.stage, kind: error.kind }).toEqual({ code: 'ERR_ADDON_LOAD', stage: 'load-addon', kind: 'other' });
    expect(error.message).toContain(`PROCLAUNCH_ADDON_PATH: ${join(scratch, 'missing.node')}: not there`);
    expect(error.message).toContain('npm rebuild proclaunch');
  });

  it('says why a file that is there does not load', () => {
    const bogus = join(scratch, 'bogus.node');
    writeFileSync(bogus, 'not an ELF file\n');
    process.env['PROCLAUNCH_ADDON_PATH'] = bogus;
    const error = loadError();
    expect(error.code).toBe('ERR_ADDON_LOAD');
    expect(error.message).toMatch(new RegExp(`${bogus.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*(invalid ELF header|file too short)`));
    expect(error.message).toMatch(/glibc \d+\.\d+/);
  });
});

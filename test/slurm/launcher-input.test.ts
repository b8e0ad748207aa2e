// SlurmProcLauncher: bad input gets a clear error (TypeError/RangeError naming the option,
// or ProcLauncherError with code and stage), bounded in time; nothing is left behind.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ProcLauncherError, SlurmProcLauncher } from '../../src/index.js';
import { fixture } from '../helpers/fixtures.js';
import { cluster } from './slurm-context.js';
import { expectNothingLeft, jobListed } from './slurm-helpers.js';

describe.skipIf(cluster === null)('SlurmProcLauncher: bad input', () => {
  let launcher: SlurmProcLauncher;
  let jobId: string;
  let scratch: string;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'proclaunch-slurm-input-'));
    launcher = new SlurmProcLauncher({ nodes: 2 });
    jobId = await launcher.allocation();
  });

  afterAll(async () => {
    await launcher.dispose();
    await expectNothingLeft(jobId);
    expect(jobListed(jobId)).toBe(false);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('constructor options: wrong types, values and misspelled names name the option', () => {
    expect(() => new SlurmProcLauncher({ nodes: 0 })).toThrow(RangeError);
    expect(() => new SlurmProcLauncher({ nodes: 0 })).toThrow(/nodes/);
    expect(() => new SlurmProcLauncher({ nodes: '2' as never })).toThrow(TypeError);
    expect(() => new SlurmProcLauncher({ allocation: 'abc' })).toThrow(/allocation must be a Slurm job id/);
    expect(() => new SlurmProcLauncher({ allocation: '12', nodes: 2 })).toThrow(/nodes only apply to an allocation the launcher makes/);
    expect(() => new SlurmProcLauncher({ partiton: 'debug' } as never)).toThrow(/Unknown option "partiton".*did you mean "partition"/);
    expect(() => new SlurmProcLauncher({ timeLimit: '1 0' })).toThrow(RangeError);
    expect(() => new SlurmProcLauncher({ stopTimeoutMs: -1 })).toThrow(/stopTimeoutMs/);
    expect(() => new SlurmProcLauncher(null as never)).toThrow(TypeError);
  });

  it('an unknown host is a RangeError naming it and the allocation\'s nodes', async () => {
    const error = await launcher.launch('h', { command: { program: fixture('forever') }, host: 'node9' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/opts\.host "node9" is not a node of allocation \d+ \(its nodes: node1, node2\)/);
    expect(launcher.size).toBe(0);
  });

  it('launch options are validated as on every backend (misspelled names too)', async () => {
    await expect(launcher.launch('x', { command: { program: fixture('forever') }, wantStdoi: true } as never)).rejects.toThrow(/did you mean "wantStdio"/);
    await expect(launcher.launch('x', { command: { program: 42 as never } })).rejects.toThrow(TypeError);
    await expect(launcher.launch('x', { command: { program: fixture('forever') }, host: 7 as never })).rejects.toThrow(/opts\.host must be a string/);
    await expect(launcher.launch('x', { command: { program: 'a\0b' } })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(launcher.launch('', { command: { program: fixture('forever') } })).rejects.toThrow(RangeError);
  });

  it.each([
    ['procBind', { procBind: { cpus: '0' } }, /opts\.procBind is not supported/],
    ['arg0', { command: { program: fixture('forever'), arg0: 'other' } }, /opts\.command\.arg0 is not supported/],
    ['newSession', { newSession: true }, /opts\.newSession is not supported/],
  ])('refuses %s, which a Slurm step cannot honour, with ENOTSUP naming it', async (_name, extra, message) => {
    const error = await launcher.launch('unsupported', { command: { program: fixture('forever') }, ...extra }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcLauncherError);
    expect(error).toMatchObject({ code: 'ENOTSUP', stage: 'validate' });
    expect((error as Error).message).toMatch(message);
  });

  it.each([
    ['a missing program', () => ({ command: { program: join(scratch, 'nope') } }), 'ENOENT', 'remote-exec'],
    ['a program not in PATH', () => ({ command: { program: 'proclaunch-no-such-program' } }), 'ENOENT', 'remote-exec'],
    ['a file that is not executable', () => ({ command: { program: plainFile() } }), 'EACCES', 'remote-exec'],
    ['a directory as the program', () => ({ command: { program: scratch } }), 'EACCES', 'remote-exec'],
    ['a missing cwd', () => ({ command: { program: fixture('forever'), cwd: join(scratch, 'missing') } }), 'ENOENT', 'remote-chdir'],
    ['a file as the cwd', () => ({ command: { program: fixture('forever'), cwd: plainFile() } }), 'ENOTDIR', 'remote-chdir'],
  ])('rejects %s on the node with ProcLauncherError (code and stage), leaving no step', async (_name, opts, code, stage) => {
    const error = await launcher.launch('bad', opts()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcLauncherError);
    expect(error).toMatchObject({ kind: 'launch', code, stage });
    expect(launcher.size).toBe(0);
    await expectNothingLeft(jobId);
  });

  it('a duplicate live procId is EEXIST', async () => {
    const r = await launcher.launch('dup', { command: { program: fixture('forever') } });
    await expect(launcher.launch('dup', { command: { program: fixture('forever') } })).rejects.toMatchObject({ code: 'EEXIST' });
    await launcher.kill('dup');
    await r.exit;
  });

  it('an unknown allocation is a ProcLauncherError, not a hang', async () => {
    const other = new SlurmProcLauncher({ allocation: '999999' });
    const error = await other.hosts().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcLauncherError);
    expect(error).toMatchObject({ code: 'ESRCH', stage: 'allocation' });
    expect((error as Error).message).toMatch(/allocation 999999 is not known to Slurm/);
    await expect(other.launch('x', { command: { program: fixture('forever') } })).rejects.toMatchObject({ code: 'ESRCH' });
    expect(other.size).toBe(0);
    await other.dispose();
  });

  it('Slurm commands missing from PATH: ENOENT naming the command', async () => {
    const savedPath = process.env['PATH'];
    process.env['PATH'] = scratch;
    try {
      const other = new SlurmProcLauncher();
      const error = await other.hosts().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcLauncherError);
      expect(error).toMatchObject({ code: 'ENOENT', path: 'salloc' });
      expect((error as Error).message).toMatch(/'salloc': not found in PATH/);
      await other.dispose();
      // srun itself missing, in an allocation that exists.
      const inJob = new SlurmProcLauncher({ allocation: jobId });
      process.env['PATH'] = savedPath;
      await inJob.hosts();
      process.env['PATH'] = scratch;
      await expect(inJob.launch('x', { command: { program: '/bin/true' } })).rejects.toMatchObject({ code: 'ENOENT', path: 'srun' });
      process.env['PATH'] = savedPath;
      await inJob.dispose();
    } finally {
      process.env['PATH'] = savedPath;
    }
  });

  it('an unreachable controller is a ProcLauncherError within our own bound', async () => {
    const conf = join(scratch, 'unreachable.conf');
    // A controller address in this netns's subnet where nothing listens (no traffic leaves it).
    const { readFileSync } = await import('node:fs');
    writeFileSync(conf, readFileSync(process.env['SLURM_CONF']!, 'utf8').replace(/^SlurmctldHost=.*$/m, 'SlurmctldHost=ctl(10.200.0.99)').replace(/^MessageTimeout=.*$/m, 'MessageTimeout=2'));
    const savedConf = process.env['SLURM_CONF'];
    process.env['SLURM_CONF'] = conf;
    try {
      const other = new SlurmProcLauncher({ allocation: jobId });
      const error = await other.hosts().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcLauncherError);
      expect(['EHOSTUNREACH', 'ETIMEDOUT']).toContain((error as ProcLauncherError).code);
      await other.dispose();
    } finally {
      process.env['SLURM_CONF'] = savedConf;
    }
  });

  function plainFile(): string {
    const file = join(scratch, 'plain.txt');
    writeFileSync(file, 'not a program\n');
    chmodSync(file, 0o644);
    return file;
  }
});

// Every ```ts/```js block of README.md and docs/*.md type-checks against the package's
// own types (resolved as a user resolves them: node_modules/proclaunch -> this checkout,
// through package.json "exports" to dist/), and the runnable ones run to completion.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

import { extractBlocks, findStrayMarkers, listDocFiles, type CodeBlock } from './code-blocks.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Generous: it only keeps a hanging example (the bug this test was written for) from hanging the suite.
const RUN_BOUND_MS = 60_000;

const files = listDocFiles(repo);
const blocks = files.flatMap((file) => extractBlocks(repo, file));
const work = mkdtempSync(join(tmpdir(), 'proclaunch-docs-'));
mkdirSync(join(work, 'node_modules'));
symlinkSync(repo, join(work, 'node_modules', 'proclaunch'));
writeFileSync(join(work, 'package.json'), '{"private":true,"type":"module"}\n');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function fileNameOf(block: CodeBlock): string {
  return join(work, `${block.where.replace(/[^\w]+/g, '-')}.${block.language === 'ts' ? 'mts' : 'mjs'}`);
}

const checked = blocks.filter((block) => block.mode !== 'fragment');
for (const block of checked) writeFileSync(fileNameOf(block), `${block.code}\n`);

// One program for all blocks, with the strictness a careful user would have.
const diagnostics = (() => {
  const program = ts.createProgram(
    checked.map(fileNameOf),
    {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2023.d.ts'],
      types: ['node'],
      typeRoots: [join(repo, 'node_modules', '@types')],
      allowJs: true,
      checkJs: true,
      noEmit: true,
      skipLibCheck: true,
    },
  );
  const byFile = new Map<string, string[]>();
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const file = diagnostic.file?.fileName ?? '(global)';
    const position = diagnostic.file !== undefined && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : undefined;
    const text = `${position === undefined ? '' : `line ${position.line + 1}: `}${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    byFile.set(file, [...(byFile.get(file) ?? []), text]);
  }
  return byFile;
})();

/** Pids of live processes whose environment holds `marker` (the example's procs inherit it). */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function runModule(file: string, marker: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [file], { cwd: work, env: { ...process.env, PROCLAUNCH_DOCS_BLOCK: marker }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const bound = setTimeout(() => child.kill('SIGKILL'), RUN_BOUND_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(bound);
      resolvePromise({ code, signal, output });
    });
  });
}

describe('code blocks in README.md and docs/', () => {
  it('are found, and every marker sits directly above a fence', () => {
    expect(blocks.length).toBeGreaterThan(5);
    expect(blocks.some((block) => block.mode === 'run')).toBe(true);
    expect(files.flatMap((file) => findStrayMarkers(repo, file))).toEqual([]);
  });

  for (const block of checked) {
    it(`${block.where} (${block.language}) type-checks`, () => {
      expect(diagnostics.get(fileNameOf(block)) ?? []).toEqual([]);
    });
  }

  for (const block of blocks.filter((b) => b.mode === 'run')) {
    it(`${block.where} runs to completion and leaves no proc behind`, { timeout: RUN_BOUND_MS + 30_000 }, async () => {
      const source = block.language === 'ts' ? ts.transpileModule(block.code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText : block.code;
      const file = join(work, `run-${block.where.replace(/[^\w]+/g, '-')}.mjs`);
      writeFileSync(file, source);
      const marker = `docs-block-${process.pid}-${block.where.replace(/[^\w]+/g, '-')}`;
      const result = await runModule(file, marker);
      expect({ code: result.code, signal: result.signal, output: result.code === 0 ? '' : result.output }).toEqual({ code: 0, signal: null, output: '' });
      expect(processesWith(marker)).toEqual([]);
    });
  }
});

// Finds the ```ts / ```js blocks of the README and docs/, with the marker that says what
// to do with each. Convention (documented in README "Development"): an HTML comment on
// the line before the fence, `<!-- runnable -->` (a complete program: type-checked and
// run) or `<!-- fragment ... -->` (placeholders or partial code: not checked); no
// marker: type-checked only.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export type BlockMode = 'check' | 'run' | 'fragment';

export interface CodeBlock {
  /** "README.md:42": the file and the line of the opening fence. */
  where: string;
  language: 'ts' | 'js';
  mode: BlockMode;
  code: string;
}

const FENCE = /^```(\w*)\s*$/;
const LANGUAGES: Record<string, 'ts' | 'js'> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js', mjs: 'js' };

function modeOf(previousLine: string | undefined): BlockMode {
  const line = previousLine?.trim() ?? '';
  if (/^<!--\s*runnable\s*-->$/.test(line)) return 'run';
  if (/^<!--\s*fragment\b.*-->$/.test(line)) return 'fragment';
  return 'check';
}

export function listDocFiles(repo: string): string[] {
  const docs = readdirSync(join(repo, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join(repo, 'docs', name));
  return [join(repo, 'README.md'), ...docs];
}

export function extractBlocks(repo: string, file: string): CodeBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (open === null) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    const language = LANGUAGES[open[1]!];
    if (language !== undefined) {
      blocks.push({
        where: `${relative(repo, file)}:${start + 1}`,
        language,
        mode: modeOf(lines[start - 1]),
        code: lines.slice(start + 1, end).join('\n'),
      });
    }
    i = end;
  }
  return blocks;
}

/** Markers that are not directly above a fence: they would silently mark nothing. */
export function findStrayMarkers(repo: string, file: string): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  return lines.flatMap((line, i) =>
    /^<!--\s*(runnable|fragment)\b/.test(line.trim()) && !FENCE.test(lines[i + 1] ?? '') ? [`${relative(repo, file)}:${i + 1}`] : [],
  );
}

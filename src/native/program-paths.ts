// PATH resolution happens in the parent: we hand the child the list of candidates
// and it execve()s them in order, as execvp would, without any allocation or lookup.
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

export function programCandidates(program: string, env: Readonly<Record<string, string | undefined>>): string[] {
  if (program.includes('/')) return [program];
  const searchPath = env['PATH'] ?? DEFAULT_PATH;
  return searchPath.split(':').map((dir) => `${dir === '' ? '.' : dir}/${program}`);
}

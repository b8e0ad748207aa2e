// The Linux list syntax used by taskset, numactl and sysfs: "0-3,6,8-9".
const MAX_INDEX = 1023;

export function parseIndexList(text: string, option: string): number[] {
  const out = new Set<number>();
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new RangeError(`${option} must list at least one index, got an empty string`);
  for (const part of trimmed.split(',')) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (match === null) throw new RangeError(`${option} is not a list like "0-3,6": ${JSON.stringify(text)}`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first || last > MAX_INDEX) {
      throw new RangeError(`${option} has an invalid range "${part.trim()}" (indexes 0-${MAX_INDEX}, ascending)`);
    }
    for (let i = first; i <= last; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

export function formatIndexList(indexes: readonly number[]): string {
  return indexes.join(',');
}

// Order statistics over samples. Nearest-rank on a sorted copy: no interpolation,
// so every reported figure is one that was actually measured.

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** "How many times better than baseline", so that > 1 always reads as better. */
export function betterRatio(value: number, baseline: number, better: 'higher' | 'lower'): number | null {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || value <= 0 || baseline <= 0) return null;
  return better === 'higher' ? value / baseline : baseline / value;
}

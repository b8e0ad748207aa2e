// Counts in headings and notes: "1 round", "3 rounds", "5,000 idle procs", so a --quick
// run (or a run cut down by a limit) says what it actually did.

/** `count` with thousands separators and the noun in the right number. */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : plural}`;
}

/** How per-round figures were combined: a median needs more than one round. */
export function combinedOver(rounds: number, how: 'medians' | 'worst'): string {
  if (rounds === 1) return 'one round only, so no median';
  return how === 'medians' ? 'medians over rounds' : 'worst over rounds';
}

// Interleaved rounds: every contender runs once per round, in an order that rotates
// (A B C, B C A, C A B, ...), so a slow drift of the shared machine hits all of them
// alike and medians over rounds compare like with like.
import type { ContenderName } from './report.js';

export interface InterleaveOptions<C> {
  rounds: number;
  /** Runs once per contender before round 1; its result is discarded. */
  warmup?: (contender: C) => Promise<unknown>;
  /** Called after each measured step (progress). */
  onStep?: (contender: C, round: number) => void;
}

export async function runInterleaved<C extends { name: ContenderName }, R>(
  contenders: readonly C[],
  options: InterleaveOptions<C>,
  measure: (contender: C, round: number) => Promise<R>,
): Promise<Map<ContenderName, R[]>> {
  const results = new Map<ContenderName, R[]>(contenders.map((contender) => [contender.name, []]));
  if (options.warmup !== undefined) {
    for (const contender of contenders) await options.warmup(contender);
  }
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(i + round) % contenders.length]!;
      results.get(contender.name)!.push(await measure(contender, round));
      options.onStep?.(contender, round);
    }
  }
  return results;
}

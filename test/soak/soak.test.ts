import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const script = join(dirname(fileURLToPath(import.meta.url)), 'run-soak.mjs');

describe('soak (short variant; `npm run soak` runs 100,000)', () => {
  it('24,000 mixed launches (12,000 of them warm-up) through the manager: no zombie, no fd, flat memory, every end seen once', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', script, '--launches', '24000', '--warm-up', '12000', '--json'], {
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(result['mismatches']).toEqual([]);
    expect(result['zombies']).toBe(0);
    expect(result['fdsAtEnd']).toBeLessThanOrEqual(result['fdsAfterWarmUp'] as number);
    expect(result['everyEndObservedOnce']).toBe(true);
    expect(result['heapGrowthMB']).toBeLessThan(10);
    expect(result['rssGrowthMB']).toBeLessThan(10);
    expect(result['failures']).toEqual([]);
  }, 300_000);
});

import { describe, expect, it } from 'vitest';
import { zipfOperations, zipfSampler } from '../../bench/zipf.js';

const config = { products: 1000, exponent: 1.0, writeFraction: 0.05, concurrency: 1, coldRequests: 20_000, warmRequests: 20_000, seed: 7 };
const ids = Array.from({ length: config.products }, (_, i) => `p${i}`);

describe('Zipf workload', () => {
  it('is the same sequence for every backend (seeded), with the declared share of writes', () => {
    const a = zipfOperations(ids, config);
    expect(zipfOperations(ids, config)).toEqual(a);
    expect(a).toHaveLength(40_000);
    const writes = a.filter((op) => op.kind === 'write').length / a.length;
    expect(writes).toBeGreaterThan(0.045);
    expect(writes).toBeLessThan(0.055);
  });

  it('draws rank k with probability 1/(k·H_n) for s = 1', () => {
    let state = 1;
    const next = () => {
      state = (state * 48_271) % 2_147_483_647;
      return state / 2_147_483_647;
    };
    const n = 1000;
    const draw = zipfSampler(n, 1, next);
    const counts = new Array<number>(n).fill(0);
    const samples = 200_000;
    for (let i = 0; i < samples; i++) counts[draw()]! += 1;
    const harmonic = Array.from({ length: n }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b, 0);
    for (const rank of [0, 1, 9]) {
      const expected = samples / ((rank + 1) * harmonic);
      expect(Math.abs(counts[rank]! - expected) / expected).toBeLessThan(0.05);
    }
    expect(counts.every((c) => c >= 0)).toBe(true);
  });
});

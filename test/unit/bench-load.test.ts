/** The benchmark's load generator: percentile arithmetic and run bounds, no stack needed. */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { combineRuns, percentile, runClosedLoop, summarize } from '../../bench/load.js';

test('nearest-rank percentiles pick observed samples', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  assert.equal(percentile(sorted, 50), 50);
  assert.equal(percentile(sorted, 95), 95);
  assert.equal(percentile(sorted, 99), 99);
  assert.equal(percentile(sorted, 100), 100);
  assert.equal(percentile([7], 1), 7);
  // 5 samples: the median is the 3rd, p95/p99 the largest.
  const five = summarize([5, 1, 4, 2, 3]);
  assert.deepEqual([five.p50, five.p95, five.p99, five.max], [3, 5, 5, 5]);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('closed loop stops at the request budget and never exceeds the concurrency', async () => {
  let inFlight = 0;
  let peak = 0;
  const seen: number[] = [];
  const result = await runClosedLoop(
    async (index) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      seen.push(index);
      await new Promise((r) => setTimeout(r, 1));
      inFlight -= 1;
      return index % 10 === 0 ? `bad ${index}` : null;
    },
    { concurrency: 4, maxRequests: 40, maxDurationMs: 10_000 },
  );
  assert.equal(result.requests, 40);
  assert.equal(result.errors, 4);
  assert.equal(result.stoppedBy, 'requests');
  assert.equal(peak, 4);
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 40 }, (_, i) => i),
  );
});

test('closed loop stops at the time budget and counts rejections as errors', async () => {
  const result = await runClosedLoop(
    async () => {
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('boom');
    },
    { concurrency: 2, maxRequests: 1_000_000, maxDurationMs: 50 },
  );
  assert.equal(result.stoppedBy, 'time');
  assert.ok(result.requests > 0 && result.requests < 100);
  assert.equal(result.errors, result.requests);
  assert.deepEqual(result.errorSamples, ['Error: boom']);
});

test('combineRuns summarizes consecutive runs as one, from the latencies both handed to samples', async () => {
  const samples: number[] = [];
  const ok = async () => null;
  const failing = async () => 'wrong answer';
  const first = await runClosedLoop(ok, { concurrency: 2, maxRequests: 10, maxDurationMs: 10_000, samples });
  const second = await runClosedLoop(failing, { concurrency: 3, maxRequests: 5, maxDurationMs: 10_000, samples });
  const both = combineRuns([first, second], samples);
  assert.equal(both.requests, 15);
  assert.equal(both.latencyMs.count, 15);
  assert.equal(both.errors, 5);
  assert.deepEqual(both.errorSamples, ['wrong answer']);
  assert.equal(both.durationS, first.durationS + second.durationS);
  assert.equal(both.stoppedBy, 'requests');
  assert.equal(combineRuns([first, { ...second, stoppedBy: 'time' }], samples).stoppedBy, 'time');
  assert.throws(() => combineRuns([first], samples), /15 latency samples for 10 requests/);
});

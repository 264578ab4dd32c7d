import { createRequire } from 'node:module';
import type { ScenarioRequest } from '../scenarios.js';

/**
 * Load from autocannon (in the bench's process; the servers each run in a
 * process of their own). autocannon counts statuses and socket errors but
 * cannot tell a right answer from a wrong one, so every request of a run
 * carries the answer it must get, byte for byte (checked beforehand, see
 * bench/peer/compare.ts), and any other answer is a mismatch.
 */

/** The part of autocannon's result this bench reads (autocannon 9, aggregated, non-worker mode). */
export interface AutocannonResult {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly mismatches: number;
  readonly non2xx: number;
  readonly requests: { readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number; readonly max: number };
}

interface AutocannonRequest {
  method: 'POST';
  path: string;
  body: string;
  headers: Record<string, string>;
  onResponse: (status: number, body: string) => void;
}

interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  requests: AutocannonRequest[];
}

type Autocannon = (options: AutocannonOptions, done: (error: Error | null, result: unknown) => void) => unknown;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadRun {
  readonly requests: number;
  readonly durationS: number;
  readonly requestsPerSecond: number;
  readonly non2xx: number;
  /** Socket errors and timeouts. */
  readonly errors: number;
  /** Answers other than the expected one (their status was 2xx or not). */
  readonly mismatches: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** The first few wrong answers, shortened. */
  readonly mismatchSamples: string[];
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;

/**
 * autocannon's result as a LoadRun: requests per second over the whole run
 * (completed responses ÷ duration), not its per-second sample average, which
 * a partly filled last second drags down. Refuses a result that lacks what it reads.
 */
export function loadRunOf(result: unknown, ownMismatches = 0, mismatchSamples: string[] = []): LoadRun {
  const r = result as Partial<Record<keyof AutocannonResult, unknown>> | null;
  if (typeof r !== 'object' || r === null) throw new Error('autocannon returned no result');
  const requests = (r.requests as { total?: unknown } | undefined)?.total;
  const latency = r.latency as { p50?: unknown; p99?: unknown; max?: unknown } | undefined;
  const { duration, errors, timeouts, mismatches, non2xx } = r;
  if (typeof duration !== 'number' || !(duration > 0)) throw new Error(`autocannon result: bad duration ${String(duration)}`);
  for (const [name, value] of Object.entries({ requests, errors, timeouts, mismatches, non2xx })) {
    if (!isCount(value)) throw new Error(`autocannon result: ${name} is not a count (${String(value)})`);
  }
  if (typeof latency?.p50 !== 'number' || typeof latency.p99 !== 'number' || typeof latency.max !== 'number') {
    throw new Error('autocannon result: latency percentiles missing');
  }
  return {
    requests: requests as number,
    durationS: duration,
    requestsPerSecond: (requests as number) / duration,
    non2xx: non2xx as number,
    // autocannon counts a timeout in `errors` too.
    errors: errors as number,
    mismatches: (mismatches as number) + ownMismatches,
    latencyMs: { p50: latency.p50, p99: latency.p99, max: latency.max },
    mismatchSamples,
  };
}

export interface AutocannonRun {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  /** Cycled in order by every connection. */
  readonly requests: readonly ScenarioRequest[];
  /** What each request must be answered with, by index. */
  readonly expected: readonly string[];
}

export async function runAutocannon(run: AutocannonRun): Promise<LoadRun> {
  if (run.expected.length !== run.requests.length) throw new Error('one expected answer per request');
  const url = new URL(run.url);
  let mismatches = 0;
  const samples: string[] = [];
  const requests = run.requests.map(
    (request, index): AutocannonRequest => ({
      method: 'POST',
      path: url.pathname,
      body: request.body,
      headers: { ...request.headers },
      onResponse: (status, body) => {
        if (status === 200 && body === run.expected[index]) return;
        mismatches += 1;
        if (samples.length < 3) samples.push(`HTTP ${status}: ${body.slice(0, 200)}`);
      },
    }),
  );
  const result = await new Promise<unknown>((resolve, reject) => {
    autocannon({ url: run.url, connections: run.connections, duration: run.durationS, timeout: 30, requests }, (error, value) =>
      error ? reject(error) : resolve(value),
    );
  });
  return loadRunOf(result, mismatches, samples);
}

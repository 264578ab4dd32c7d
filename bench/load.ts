import { performance } from 'node:perf_hooks';

/**
 * A closed-loop load generator: `concurrency` clients each send a request,
 * wait for its answer and only then send the next one. Unlike an open-loop
 * (fixed arrival rate) generator it can never overload the server by more than
 * `concurrency` requests, so the measured latency is the latency at that level
 * of concurrency rather than an ever-growing queue — which is what we want
 * from a local stack sharing two cores with its own client.
 */

/** Sorted-ascending samples in, nearest-rank percentile out (p in (0, 100]). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  // Nearest-rank: the smallest sample with at least p% of samples at or below
  // it. Always an observed value, never an interpolation.
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Percentiles over every sample (no histogram buckets, no reservoir sampling). */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length > 0 ? total / sorted.length : Number.NaN,
  };
}

/**
 * One request of a scenario. `index` is the global sequence number (0, 1, …),
 * so a scenario can cycle over inputs deterministically. Resolves with `null`
 * when the answer was correct, with a description of what was wrong
 * otherwise; a rejection counts as an error too (e.g. a reset connection).
 */
export type Request = (index: number) => Promise<string | null>;

export interface LoadOptions {
  readonly concurrency: number;
  /** Stop issuing after this many requests… */
  readonly maxRequests: number;
  /** …or once this much time has passed since the start, whichever comes first. */
  readonly maxDurationMs: number;
  /** How many distinct error messages to keep as examples. */
  readonly keepErrorSamples?: number;
  /** Receives every latency as well (ms), so that several runs can be summarized as one. */
  readonly samples?: number[];
}

export interface LoadResult {
  readonly concurrency: number;
  readonly requests: number;
  readonly errors: number;
  /** First few distinct error descriptions, for the report. */
  readonly errorSamples: string[];
  /** From the first request sent to the last answer received. */
  readonly durationS: number;
  readonly requestsPerSecond: number;
  /** Milliseconds; covers every completed request, failed ones included. */
  readonly latencyMs: LatencySummary;
  /** Which bound ended the run. */
  readonly stoppedBy: 'requests' | 'time';
}

/** Consecutive runs as one: counts and time added up, latencies summarized from `samples`, which both filled. */
export function combineRuns(runs: readonly LoadResult[], samples: readonly number[]): LoadResult {
  const requests = runs.reduce((sum, run) => sum + run.requests, 0);
  const durationS = runs.reduce((sum, run) => sum + run.durationS, 0);
  if (samples.length !== requests) throw new RangeError(`${samples.length} latency samples for ${requests} requests`);
  return {
    concurrency: Math.max(...runs.map((run) => run.concurrency)),
    requests,
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    errorSamples: [...new Set(runs.flatMap((run) => run.errorSamples))],
    durationS,
    requestsPerSecond: requests / durationS,
    latencyMs: summarize(samples),
    stoppedBy: runs.some((run) => run.stoppedBy === 'time') ? 'time' : 'requests',
  };
}

export async function runClosedLoop(request: Request, options: LoadOptions): Promise<LoadResult> {
  const { concurrency, maxRequests, maxDurationMs } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const keep = options.keepErrorSamples ?? 5;
  const latencies: number[] = [];
  const errorSamples = new Set<string>();
  let issued = 0;
  let errors = 0;
  let stoppedBy: LoadResult['stoppedBy'] = 'requests';

  const start = performance.now();
  const deadline = start + maxDurationMs;

  const client = async (): Promise<void> => {
    // Both bounds are checked before each send; a request already in flight
    // when the time runs out is still awaited and counted, so the run can
    // overshoot the time limit by at most one request latency.
    for (;;) {
      if (issued >= maxRequests) return;
      if (performance.now() >= deadline) {
        stoppedBy = 'time';
        return;
      }
      const index = issued++;
      const sentAt = performance.now();
      let problem: string | null;
      try {
        problem = await request(index);
      } catch (error) {
        problem = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      const latency = performance.now() - sentAt;
      latencies.push(latency);
      options.samples?.push(latency);
      if (problem !== null) {
        errors += 1;
        if (errorSamples.size < keep) errorSamples.add(problem);
      }
    }
  };

  await Promise.all(Array.from({ length: concurrency }, client));
  const durationS = (performance.now() - start) / 1000;
  return {
    concurrency,
    requests: latencies.length,
    errors,
    errorSamples: [...errorSamples],
    durationS,
    requestsPerSecond: latencies.length / durationS,
    latencyMs: summarize(latencies),
    stoppedBy,
  };
}

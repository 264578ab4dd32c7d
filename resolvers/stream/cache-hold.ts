import type { Logger } from '@aws-lambda-powertools/logger';
import type { DeferredLogger } from '../../lib/logger.js';
import type { CacheWriteOutcome } from '../../lib/cache/index.js';

/**
 * What the stream function does while the cache is unreachable: it holds the
 * products stream, waiting inside the invocation, and applies the records in
 * order once the cache answers. A cache outage is not a bad record: failing
 * each record through the mapping's retries (0.2 + 0.4 + 0.8 s) sent every
 * product change of an outage to the dead letters, with an error line per
 * record and retry.
 *
 * Why waiting is right, in both outages that matter:
 * - While the cache is unreachable nothing stale is served: readers skip it
 *   (the breaker) and read DynamoDB.
 * - A cache that comes back empty (a restarted local redis-server, a replaced
 *   node) holds nothing to correct; a held refresh then finds no entry and
 *   stores nothing.
 * - A cache that comes back with its data (an ElastiCache failover to a
 *   replica, a network partition that heals) may hold entries that changed
 *   during the outage. Those are exactly the held records' items: applied in
 *   stream order as soon as the cache answers (polled at most every second),
 *   they replace them within the freshness bound.
 *
 * The wait is bounded by the invocation (HOLD_MS, and the function's timeout
 * less a margin). An outage that outlasts it reports the unapplied records as
 * batch item failures, without an error line each: the mapping retries them
 * (each retry holds again), so a batch reaches the dead letters only after the
 * cache has been unreachable for (maximumRetryAttempts + 1) × HOLD_MS, over a
 * minute; the dead letter then names the shard and sequence range to redrive.
 * (Write-throughs that failed are also fenced by the entity cache of this
 * environment as soon as the cache answers again.)
 */

/** Longest wait for the cache within one invocation. */
export const HOLD_MS = 20_000;
/** Left of the function's timeout after a hold, to answer the mapping. */
const TIMEOUT_MARGIN_MS = 5_000;
/** Retries of the write itself (a cheap, immediate failure while Redis is down), then at most one a second. */
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800, 1_000] as const;

export class CacheUnreachableError extends Error {
  constructor(what: string) {
    super(`The cache is unreachable; ${what} held until it answers`);
    this.name = 'CacheUnreachableError';
  }
}

/** One line when an outage begins and one when it ends, per execution environment; not one per record. */
let outage: { since: number; held: number } | undefined;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One invocation's wait for the cache, shared by its records. */
export class CacheHold {
  #gaveUp = false;

  private constructor(
    private readonly deadline: number,
    private readonly logger: Logger | DeferredLogger,
  ) {}

  static forInvocation(remainingTimeMs: number, logger: Logger | DeferredLogger): CacheHold {
    const budget = Math.max(0, Math.min(HOLD_MS, remainingTimeMs - TIMEOUT_MARGIN_MS));
    return new CacheHold(Date.now() + budget, logger);
  }

  /** True once this invocation stopped waiting: the remaining records fail at once. */
  get gaveUp(): boolean {
    return this.#gaveUp;
  }

  /** Runs a cache write until it applies, waiting for the cache within the invocation's budget. */
  async apply(write: () => Promise<CacheWriteOutcome>, what: string): Promise<void> {
    if (this.#gaveUp) throw new CacheUnreachableError(what);
    for (let attempt = 0; ; attempt++) {
      if ((await write()) !== 'failed') {
        this.#recovered();
        return;
      }
      if (!outage) {
        outage = { since: Date.now(), held: 0 };
        this.logger.warn('Cache unreachable: holding the products stream until it answers', { holdMs: HOLD_MS });
      }
      if (attempt === 0) outage.held += 1;
      const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
      if (Date.now() + delay > this.deadline) {
        this.#gaveUp = true;
        this.logger.error('Cache still unreachable: the rest of this batch is reported failed, for the mapping to retry', {
          unreachableMs: Date.now() - outage.since,
        });
        throw new CacheUnreachableError(what);
      }
      await sleep(delay);
    }
  }

  #recovered(): void {
    if (!outage) return;
    this.logger.warn('Cache reachable again: held stream records applied from here on', {
      unreachableMs: Date.now() - outage.since,
      heldRecords: outage.held,
    });
    outage = undefined;
  }
}

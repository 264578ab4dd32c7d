import { entityCache } from '../../lib/cache/index.js';
import type { ProductItem } from '../../lib/model.js';

/**
 * The product cache as the stream function needs it: a change that did not
 * reach the cache must fail its record, so the mapping retries it (and
 * finally dead-letters it) rather than leave the old value cached.
 *
 * The entity cache never throws (readers fall back to DynamoDB); its write
 * outcome says whether the change reached the cache. With no cache configured
 * (CACHE_BACKEND=none) both are no-ops.
 */

const cache = entityCache<ProductItem>('product');

export class CacheNotUpdatedError extends Error {
  constructor(operation: string, id: string) {
    super(`The cache was unreachable; ${operation} of product ${id} not applied`);
    this.name = 'CacheNotUpdatedError';
  }
}

function assertApplied(outcome: 'applied' | 'failed' | 'no-cache', operation: string, id: string): void {
  if (outcome === 'failed') throw new CacheNotUpdatedError(operation, id);
}

export const productCache = {
  /**
   * Refreshes a cached entry with the image unless the cache holds the same or
   * a newer version. Only an existing entry is refreshed: a replayed old image
   * must not fill a key that was evicted (or lost with a Redis restart), where
   * it could shadow a newer committed write until the TTL.
   */
  async refresh(id: string, item: ProductItem): Promise<void> {
    assertApplied(await cache.refresh(id, item), 'refresh', id);
  },
  /** Drops the entry (and fences it briefly against fills from reads made before the change). */
  async invalidate(id: string): Promise<void> {
    assertApplied(await cache.invalidate(id), 'invalidate', id);
  },
};

import { defaultCacheStore, entityCache } from '../../lib/cache/index.js';
import type { ProductItem } from '../../lib/model.js';

/**
 * The product cache as the stream function needs it: a change that did not
 * reach the cache must fail its record, so the mapping retries it (and
 * finally dead-letters it) rather than leave the old value cached.
 *
 * The entity cache swallows cache errors by design (readers fall back to
 * DynamoDB; a writer's id is left "unsettled" and fenced once the cache
 * answers again). Whether a put/invalidate reached the cache shows in the
 * store afterwards: a failed command opens its breaker, and a command skipped
 * because the breaker was already open leaves it open, so an unavailable store
 * after the call means the change was not applied. Records are processed one
 * at a time, so no other command of this environment interferes. With no
 * cache configured (CACHE_BACKEND=none) both are no-ops.
 */

const cache = entityCache<ProductItem>('product');
const store = defaultCacheStore();

export class CacheNotUpdatedError extends Error {
  constructor(operation: string, id: string) {
    super(`The cache was unreachable; ${operation} of product ${id} not applied`);
    this.name = 'CacheNotUpdatedError';
  }
}

function assertApplied(operation: string, id: string): void {
  if (store && !store.available()) throw new CacheNotUpdatedError(operation, id);
}

export const productCache = {
  /** Stores the image unless the cache holds the same or a newer version. */
  async put(id: string, item: ProductItem): Promise<void> {
    await cache.put(id, item);
    assertApplied('put', id);
  },
  /** Drops the entry (and fences it briefly against fills from reads made before the change). */
  async invalidate(id: string): Promise<void> {
    await cache.invalidate(id);
    assertApplied('invalidate', id);
  },
};

import type { ProductItem } from '../../lib/model.js';
import { productCacheCoherence } from '../../lib/products/coherence.js';
import type { CacheHold } from './cache-hold.js';

/**
 * The product cache as the stream function needs it: a change must reach the
 * cache, not be skipped. The product module's coherence (lib/products/, the
 * same one the resolvers' writes go through) never throws (readers fall back
 * to DynamoDB); its write outcome says whether the change reached the cache,
 * and while it does not (the cache is unreachable) the invocation's CacheHold
 * waits for it, then fails the record without a dead letter in sight (see
 * cache-hold.ts). With no cache configured (CACHE_BACKEND=none) both are no-ops.
 */

const coherence = productCacheCoherence();

export const productCache = {
  /**
   * Refreshes a cached entry with the image unless the cache holds the same or
   * a newer version. Only an existing entry is refreshed: a replayed old image
   * must not fill a key that was evicted (or lost with a Redis restart), where
   * it could shadow a newer committed write until the TTL.
   */
  refresh(id: string, item: ProductItem, hold: CacheHold): Promise<void> {
    return hold.apply(() => coherence.refresh(id, item), `refresh of product ${id}`);
  },
  /** Drops the entry (and fences it briefly against fills from reads made before the change). */
  invalidate(id: string, hold: CacheHold): Promise<void> {
    return hold.apply(() => coherence.invalidate(id), `invalidation of product ${id}`);
  },
};

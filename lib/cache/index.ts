/**
 * Read caching for resolvers (README "Caching"). The policy of each cached
 * entity is declared on its table in declarations/tables.ts; the backend comes from
 * the environment (`cacheBackendFromEnv`), and the client serving it from the
 * bundle: a function bundle holds only its environment's client
 * (backends/selected.ts, build/cache-backend.ts). One store (one ioredis client) per
 * execution environment, created on the first `entityCache()` call, which
 * resolvers make at module load, outside the handler.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { countMetric } from '../metrics.js';
import { tables, type CacheEntity, type CachePolicy } from '../../declarations/tables.js';
import { backend as selectedBackend } from './backends/selected.js';
import { cacheBackendFromEnv, type CacheBackendConfig } from './config.js';
import { createEntityCache, type EntityCache } from './entity-cache.js';
import { createPageCache, type PageCache } from './page-cache.js';
import type { CacheStore } from './store.js';

export { cacheBackendFromEnv, cacheEnvironmentVariables, type CacheBackendConfig, type CacheBackendKind } from './config.js';
export { createEntityCache, type CacheStats, type CacheWriteOutcome, type EntityCache } from './entity-cache.js';
export { createPageCache, type CachedPage, type PageCache } from './page-cache.js';
export { RedisStore } from './redis-store.js';
export type { CacheStore } from './store.js';

/**
 * `backend`, once this bundle is known to serve it. A bundle built for another
 * backend than the environment's CACHE_BACKEND is a deployment mismatch: it
 * fails at init rather than running uncached without anyone noticing.
 */
export function servedBackend<C extends CacheBackendConfig>(backend: C, served = selectedBackend.serves): C {
  if (backend.kind !== 'none' && !served.includes(backend.kind)) {
    const built = served.length > 0 ? served.join(', ') : 'none';
    throw new Error(
      `CACHE_BACKEND=${backend.kind}, but this function was bundled with cache backend ${built}: ` +
        'a deployment mismatch; rebuild the artifacts for this environment (build/bundle.ts, cacheBackend)',
    );
  }
  return backend;
}

/**
 * The client resolvers use for GetItem/BatchGetItem: `writes` itself, except
 * in DAX mode. Async because the DAX package is imported on demand; call it
 * at module load (top-level await), like the document client.
 */
export function documentClientForReads(writes: DynamoDBDocumentClient, backend: CacheBackendConfig): Promise<DynamoDBDocumentClient> {
  return selectedBackend.readsClient(writes, servedBackend(backend));
}

/** The declared policy of an entity; every entity has exactly one cached table. */
export function cachePolicy(entity: CacheEntity): CachePolicy {
  const declared: Array<CachePolicy | undefined> = Object.values(tables).map((table) => ('cache' in table ? table.cache : undefined));
  const policy = declared.find((candidate) => candidate?.entity === entity);
  if (!policy) throw new Error(`No table in declarations/tables.ts declares a cache policy for ${entity}`);
  return policy;
}

let store: { value: CacheStore | undefined } | undefined;

/** This environment's store: a Redis client in redis mode; none for dax (DAX caches inside the read client) and none. */
export function defaultCacheStore(): CacheStore | undefined {
  if (!store) {
    store = { value: selectedBackend.store(servedBackend(cacheBackendFromEnv(process.env))) };
  }
  return store.value;
}

const entityCaches = new Map<CacheEntity, EntityCache<{ version: number }>>();

/** The read-through cache of one entity, shared by every caller in this environment. */
export function entityCache<T extends { version: number }>(entity: 'product'): EntityCache<T> {
  let cache = entityCaches.get(entity);
  if (!cache) {
    cache = createEntityCache(cachePolicy(entity), defaultCacheStore());
    entityCaches.set(entity, cache);
  }
  // One instance per entity whatever T the caller names; T only types the values it hands in and gets back.
  return cache as unknown as EntityCache<T>;
}

/** Cached list pages of an entity's table (its policy's `pages`), or undefined when none are declared. */
export function pageCache(entity: 'product'): PageCache | undefined {
  const policy = cachePolicy(entity).pages;
  return policy && createPageCache(policy, defaultCacheStore(), () => countMetric('CacheErrors'));
}

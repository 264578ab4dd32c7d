/**
 * What the entity and page caches need from a key-value store, apart from any
 * client: the Redis store (redis-store.ts) implements it, and a bundle built
 * without Redis (build/cache-backend.ts) contains this file but not ioredis.
 */

/** Entries are `<version>|<json>`; this marks a fenced (just invalidated) key that takes no fill. */
export const FENCE = '~';

/** Outcome of a versioned store: stored, refused (the cache holds the same or a newer version, or nothing to refresh), or fenced. */
export type StoreOutcome = 'stored' | 'not-newer' | 'fenced';

/** Thrown instead of calling Redis while the breaker is open; not an error of its own. */
export class CacheBypassed extends Error {
  constructor() {
    super('cache skipped after a recent error');
    this.name = 'CacheBypassed';
  }
}

/**
 * What the entity and page caches need from a key-value store. Every method may reject; callers fall back.
 * Reads (get, mget, tryLock) are skipped while the breaker is open; writes are always attempted, because a
 * write-through that lands spares readers a stale entry, and while Redis is really down it fails at once.
 */
export interface CacheStore {
  /** False while the breaker is open: callers skip the cache without trying. */
  available(): boolean;
  get(key: string): Promise<string | null>;
  /** One MGET on a standalone server; per-key GETs (auto-pipelined per node) in cluster mode, where MGET must not span slots. */
  mget(keys: readonly string[]): Promise<Array<string | null>>;
  storeVersioned(
    key: string,
    version: number,
    encoded: string,
    ttlMs: number,
    options?: { lock?: { key: string; token: string }; onlyIfCached?: boolean },
  ): Promise<StoreOutcome>;
  /** SET NX PX: true when this caller now holds the lock. */
  tryLock(lockKey: string, token: string, ttlMs: number): Promise<boolean>;
  releaseLock(lockKey: string, token: string): Promise<void>;
  /** Renews a held lock for another `ttlMs`: false when the caller no longer holds it. */
  extendLock(lockKey: string, token: string, ttlMs: number): Promise<boolean>;
  /** Replaces the entry with a fence for `ttlMs`: no fill or put lands until it expires. */
  fence(key: string, ttlMs: number): Promise<void>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  bumpGeneration(key: string, ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}

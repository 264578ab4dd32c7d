/**
 * Read-through, versioned cache of one entity's items (policy in
 * declarations/tables.ts). Entries are `<version>|<item json>`; `0|` records that the
 * item does not exist (negative caching); `~` is a fence left by invalidate().
 *
 * Coherence rests on versions, which every write of the table bumps:
 * - put() (write-through after a committed write), refresh() (the same, for
 *   change feeds: only over an existing entry) and every fill from a load go
 *   through one compare-and-set script that stores only a strictly newer
 *   version, so a late write-back of an old read can never replace a newer value;
 * - invalidate() (for writers that can't name the new item) leaves a fence for
 *   FENCE_MS that takes no fill or put, and a loader only fills if its load
 *   took under FENCE_MS / 2: a read made before the invalidated write therefore
 *   lands while the fence stands, or not at all.
 * Stampedes: one load per key per execution environment (a map of promises),
 * and across environments a Redis lock (SET NX PX) held as a lease: the holder
 * renews it while its load runs, so it lapses only when the holder is gone
 * (crashed, frozen, timed out). A reader that takes the lock reads the entry
 * again before loading (a fill and unlock can fall between its miss and its
 * lock). Waiters poll the entry with backoff and load themselves only when the
 * lease has lapsed without a fill, or after WAIT_MS.
 * Hence exactly one load per cold key across all environments whenever Redis
 * answers, the holder's load finishes within WAIT_MS, and its event loop is
 * never blocked for LOCK_TTL_MS - LEASE_RENEW_MS at a stretch.
 * Failures: any cache error means a DynamoDB read (counted as a miss), never a
 * failed request. A put/invalidate that failed leaves its id "unsettled": this
 * environment bypasses the cache for it and fences it once Redis answers again.
 */
import { randomUUID } from 'node:crypto';
import { countMetric } from '../metrics.js';
import type { CachePolicy } from '../../declarations/tables.js';
import { CacheBypassed, type CacheStore } from './store.js';

export interface CacheStats {
  /** Reads answered from the cache (values and cached absences). */
  readonly hits: number;
  /** Reads answered by a load (cold, expired, fenced, or the cache unavailable). */
  readonly misses: number;
  /** Cache commands that failed (down, slow, refused); each meant a fallback, not a failure. */
  readonly errors: number;
  /** Calls of a loader (a `loadMany` batch counts once). */
  readonly loads: number;
}

/**
 * What a put or invalidate achieved: `applied` (the cache holds this version, a newer one, or a
 * fence: no older copy can be read), `failed` (the cache was unreachable; this environment
 * bypasses the id and fences it once the cache answers), or `no-cache` (none configured).
 */
export type CacheWriteOutcome = 'applied' | 'failed' | 'no-cache';

export interface EntityCache<T extends { version: number }> {
  readonly entity: CachePolicy['entity'];
  /** False without a cache store (CACHE_BACKEND none or dax): then reads just load and writes are no-ops. */
  readonly enabled: boolean;
  /**
   * True when loaders must read with ConsistentRead: a fill from an eventually
   * consistent read could store a value older than a write already acknowledged.
   */
  readonly consistentLoads: boolean;
  /** The item, from the cache or from `load` (undefined: no such item). */
  get(id: string, load: () => Promise<T | undefined>): Promise<T | undefined>;
  /** Items by id (MGET), the missing ones from one `loadMany` call; absent ids are not in the map. */
  getMany(ids: readonly string[], loadMany: (ids: string[]) => Promise<ReadonlyMap<string, T>>): Promise<Map<string, T>>;
  /** Write-through after a committed write: stored only if newer than the cached version. Never rejects. */
  put(id: string, value: T): Promise<CacheWriteOutcome>;
  /**
   * Like put, but only replaces an entry that exists (a value or a cached absence): for change
   * feeds such as the stream function, which may replay images older than the item. Into an empty
   * key (evicted, expired, Redis restarted) an old image would be served until the feed catches up;
   * left empty, the next read loads the current item. Never rejects.
   */
  refresh(id: string, value: T): Promise<CacheWriteOutcome>;
  /** For a committed write whose new version is unknown: drops the entry and fences it briefly. Never rejects. */
  invalidate(id: string): Promise<CacheWriteOutcome>;
  stats(): CacheStats;
}

/**
 * How long an invalidation fence stands; loads slower than half of it do not fill. Fences are rare (a
 * writer that cannot name the new item), so a generous one costs little, and it lets slow loads fill.
 */
export const FENCE_MS = 5_000;
/** Lifetime of a loader's lease without renewal: a crashed holder blocks no one longer than this. */
export const LOCK_TTL_MS = 3_000;
/** The holder renews its lease this often while loading; a slow load on a busy machine keeps its lock. */
export const LEASE_RENEW_MS = LOCK_TTL_MS / 3;
/**
 * Longest a reader waits behind a live lease before loading itself: a holder alive but stuck this long
 * is treated as lost. Half the catalog function's 10 s timeout, so the waiter still has time to load.
 */
export const WAIT_MS = 5_000;
const BACKOFF_MS = [2, 4, 8, 16, 25] as const;
/** Ids whose write-through failed, kept per environment until Redis answers; beyond this, the oldest are dropped (TTL still bounds them). */
const MAX_UNSETTLED = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Entry<T> = { kind: 'value'; value: T } | { kind: 'absent' } | { kind: 'fenced' } | { kind: 'none' };

export function encodeEntry<T extends { version: number }>(value: T | undefined): string {
  return value === undefined ? '0|' : `${value.version}|${JSON.stringify(value)}`;
}

export function decodeEntry<T>(raw: string | null): Entry<T> {
  if (raw === null) return { kind: 'none' };
  if (raw === '~') return { kind: 'fenced' };
  const sep = raw.indexOf('|');
  if (sep < 0) return { kind: 'none' };
  const payload = raw.slice(sep + 1);
  return payload === '' ? { kind: 'absent' } : { kind: 'value', value: JSON.parse(payload) as T };
}

/** `product:v1:{id}`: the hash tag keeps an entry and its lock in one cluster slot. */
export function entryKey(policy: Pick<CachePolicy, 'keyPrefix'>, id: string): string {
  return `${policy.keyPrefix}{${id}}`;
}

/** How the cross-environment lock behaves; the defaults are the constants above (tests shorten them). */
export interface LockTiming {
  readonly lockTtlMs: number;
  readonly leaseRenewMs: number;
  readonly waitMs: number;
}

const DEFAULT_LOCK_TIMING: LockTiming = { lockTtlMs: LOCK_TTL_MS, leaseRenewMs: LEASE_RENEW_MS, waitMs: WAIT_MS };

export function createEntityCache<T extends { version: number }>(
  policy: CachePolicy,
  store: CacheStore | undefined,
  lockTiming: Partial<LockTiming> = {},
): EntityCache<T> {
  const { lockTtlMs, leaseRenewMs, waitMs } = { ...DEFAULT_LOCK_TIMING, ...lockTiming };
  let hits = 0;
  let misses = 0;
  let errors = 0;
  let loads = 0;
  const inflight = new Map<string, Promise<T | undefined>>();
  const unsettled = new Set<string>();
  const ttlMs = (): number => policy.ttlSeconds * 1000 * (0.9 + Math.random() * 0.1); // jitter: no synchronized expiries
  const key = (id: string): string => entryKey(policy, id);

  const hit = (n = 1): void => {
    hits += n;
    countMetric('CacheHits', n);
  };
  const miss = (n = 1): void => {
    misses += n;
    countMetric('CacheMisses', n);
  };
  const failed = (error: unknown): void => {
    if (error instanceof CacheBypassed) return;
    errors += 1;
    countMetric('CacheErrors');
  };
  const loaded = (): void => {
    loads += 1;
    countMetric('CacheLoads');
  };
  const usable = (id: string): boolean => store?.available() === true && !unsettled.has(id);

  const unsettle = (id: string): 'failed' => {
    unsettled.delete(id);
    unsettled.add(id);
    if (unsettled.size > MAX_UNSETTLED) unsettled.delete(unsettled.values().next().value!);
    return 'failed';
  };

  /** Fences what failed to be written through, as soon as the cache answers again. */
  const settle = async (): Promise<void> => {
    if (!store || unsettled.size === 0 || !store.available()) return;
    const ids = [...unsettled];
    await Promise.all(
      ids.map((id) =>
        store.fence(key(id), FENCE_MS).then(
          () => unsettled.delete(id),
          (error: unknown) => failed(error),
        ),
      ),
    );
  };

  /** Encoded entry and its TTL; none when it exceeds maxValueBytes or absences aren't cached. */
  const entryFor = (value: T | undefined): { encoded: string; ttlMs: number } | undefined => {
    if (value === undefined) {
      return policy.negativeTtlSeconds > 0 ? { encoded: encodeEntry(value), ttlMs: policy.negativeTtlSeconds * 1000 } : undefined;
    }
    const encoded = encodeEntry(value);
    return Buffer.byteLength(encoded) <= policy.maxValueBytes ? { encoded, ttlMs: ttlMs() } : undefined;
  };

  /** Keeps a held lock alive while its load runs; a lost lease only means another reader may load too. */
  const renewLease = (cacheStore: CacheStore, lock: { key: string; token: string }): NodeJS.Timeout => {
    const timer = setInterval(() => {
      cacheStore.extendLock(lock.key, lock.token, lockTtlMs).catch(failed);
    }, leaseRenewMs);
    timer.unref();
    return timer;
  };

  /** Loads, then fills unless the load was too slow to be trusted against a fence; releases `lock` either way. */
  const loadAndFill = async (
    id: string,
    load: () => Promise<T | undefined>,
    lock?: { key: string; token: string },
  ): Promise<T | undefined> => {
    const started = Date.now();
    miss();
    loaded();
    const lease = lock && store ? renewLease(store, lock) : undefined;
    let value: T | undefined;
    try {
      value = await load();
    } catch (error) {
      if (lock) await store?.releaseLock(lock.key, lock.token).catch(failed);
      throw error;
    } finally {
      if (lease) clearInterval(lease);
    }
    const entry = Date.now() - started < FENCE_MS / 2 ? entryFor(value) : undefined;
    if (store && (entry || lock)) {
      await store.storeVersioned(key(id), value?.version ?? 0, entry?.encoded ?? '', entry?.ttlMs ?? 0, { lock }).catch(failed);
    }
    return value;
  };

  const invalidate = async (id: string): Promise<CacheWriteOutcome> => {
    await settle();
    if (!store) return 'no-cache';
    try {
      await store.fence(key(id), FENCE_MS);
      return 'applied';
    } catch (error) {
      failed(error);
      return unsettle(id);
    }
  };

  /** Versioned write-through (attempted even while reads skip the cache: a write that lands spares readers a stale entry). */
  const write = async (id: string, value: T, onlyIfCached: boolean): Promise<CacheWriteOutcome> => {
    await settle();
    const entry = entryFor(value);
    if (!entry) return invalidate(id); // too large to cache: make sure no older, smaller version stays
    if (!store) return 'no-cache';
    try {
      await store.storeVersioned(key(id), value.version, entry.encoded, entry.ttlMs, { onlyIfCached });
      return 'applied';
    } catch (error) {
      failed(error);
      return unsettle(id);
    }
  };

  const fromEntry = (entry: Entry<T>): { value: T | undefined } | undefined => {
    if (entry.kind === 'value') return { value: entry.value };
    if (entry.kind === 'absent') return { value: undefined };
    return undefined;
  };

  const readThrough = async (id: string, load: () => Promise<T | undefined>): Promise<T | undefined> => {
    await settle();
    if (!store || !usable(id)) {
      miss();
      loaded();
      return load();
    }
    const entryKeyName = key(id);
    const lockKey = `${entryKeyName}:lock`;
    const direct = async (error?: unknown): Promise<T | undefined> => {
      if (error !== undefined) failed(error);
      miss();
      loaded();
      return load();
    };
    let entry: Entry<T>;
    try {
      entry = decodeEntry<T>(await store.get(entryKeyName));
    } catch (error) {
      return direct(error);
    }
    const cached = fromEntry(entry);
    if (cached) {
      hit();
      return cached.value;
    }
    if (entry.kind === 'fenced') return direct();

    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    for (;;) {
      let acquired: boolean;
      try {
        acquired = await store.tryLock(lockKey, token, lockTtlMs);
      } catch (error) {
        return direct(error);
      }
      if (acquired) {
        // The entry may have been filled since it was read: its loader fills and unlocks in one step, and
        // that can fall between this reader's miss and its taking the lock. Read it again under the lock.
        let again: Entry<T>;
        try {
          again = decodeEntry<T>(await store.get(entryKeyName));
        } catch (error) {
          await store.releaseLock(lockKey, token).catch(failed);
          return direct(error);
        }
        const filled = fromEntry(again);
        if (!filled && again.kind !== 'fenced') return loadAndFill(id, load, { key: lockKey, token });
        await store.releaseLock(lockKey, token).catch(failed);
        if (!filled) return direct();
        hit();
        return filled.value;
      }
      // Another environment is loading: wait for its fill, or for its lock to go away.
      for (let attempt = 0; ; attempt++) {
        if (Date.now() >= deadline) return loadAndFill(id, load);
        await sleep(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!);
        let value: string | null;
        let lock: string | null;
        try {
          [value = null, lock = null] = await store.mget([entryKeyName, lockKey]);
        } catch (error) {
          return direct(error);
        }
        const polled = decodeEntry<T>(value);
        const found = fromEntry(polled);
        if (found) {
          hit();
          return found.value;
        }
        if (polled.kind === 'fenced') return direct();
        if (lock === null) break; // the holder gave up without a fill: try to take over
      }
    }
  };

  return {
    entity: policy.entity,
    enabled: store !== undefined,
    consistentLoads: store !== undefined,

    get(id, load) {
      const running = inflight.get(id);
      if (running) {
        hit(); // answered by this environment's load in flight, not another DynamoDB read
        return running;
      }
      const promise = readThrough(id, load).finally(() => inflight.delete(id));
      inflight.set(id, promise);
      return promise;
    },

    async getMany(ids, loadMany) {
      await settle();
      const unique = [...new Set(ids)];
      const found = new Map<string, T>();
      let missing = unique;
      let fillable = new Set<string>();
      if (store && unique.some(usable)) {
        const cacheable = unique.filter(usable);
        try {
          const raw = await store.mget(cacheable.map(key));
          missing = unique.filter((id) => !cacheable.includes(id));
          cacheable.forEach((id, i) => {
            const entry = decodeEntry<T>(raw[i] ?? null);
            const cached = fromEntry(entry);
            if (cached) {
              hit();
              if (cached.value) found.set(id, cached.value);
            } else {
              missing.push(id);
              if (entry.kind === 'none') fillable.add(id);
            }
          });
        } catch (error) {
          failed(error);
          missing = unique;
          fillable = new Set();
        }
      }
      if (missing.length === 0) return found;
      miss(missing.length);
      loaded();
      const started = Date.now();
      const items = await loadMany(missing);
      for (const [id, item] of items) found.set(id, item);
      if (store && fillable.size > 0 && Date.now() - started < FENCE_MS / 2) {
        await Promise.all(
          [...fillable].map((id) => {
            const value = items.get(id);
            const entry = entryFor(value);
            return entry ? store.storeVersioned(key(id), value?.version ?? 0, entry.encoded, entry.ttlMs).catch(failed) : undefined;
          }),
        );
      }
      return found;
    },

    put: (id, value) => write(id, value, false),
    refresh: (id, value) => write(id, value, true),

    invalidate,
    stats: () => ({ hits, misses, errors, loads }),
  };
}

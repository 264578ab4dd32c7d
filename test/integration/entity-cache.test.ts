import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEntityCache, createPageCache, RedisStore, type EntityCache } from '../../lib/cache/index.js';
import { entryKey, FENCE_MS, type LockTiming } from '../../lib/cache/entity-cache.js';
import { BREAKER_OPEN_MS } from '../../lib/cache/redis-store.js';
import type { CachePolicy } from '../../declarations/tables.js';
import { startRedisServer, type RedisServerHandle } from '../../local/redis/redis-server.js';

/**
 * The cache module against a real redis-server (no fake): each "environment"
 * is its own RedisStore (own ioredis client) and entity cache, as separate
 * Lambda execution environments would have. Loaders stand in for DynamoDB and
 * count their calls.
 */

interface Item {
  id: string;
  version: number;
  name: string;
}

const policy: CachePolicy = {
  entity: 'product',
  keyPrefix: `test:${process.pid}:`,
  ttlSeconds: 60,
  negativeTtlSeconds: 30,
  maxValueBytes: 1024,
  maxStalenessMs: 10_000,
  pages: { keyPrefix: `test-page:${process.pid}:`, ttlSeconds: 10 },
};

let server: RedisServerHandle;
let admin: Redis;
const stores: RedisStore[] = [];

beforeAll(async () => {
  const started = await startRedisServer();
  if (!started) throw new Error('These tests need redis-server (apt-get install -y redis-server)');
  server = started;
  admin = new Redis(server.url, { lazyConnect: true });
  await admin.connect();
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  if (!server.running()) await server.start();
  await admin.flushall();
});

afterAll(async () => {
  admin.disconnect();
  await server?.stop();
});

/** One execution environment's cache. Generous timeout: these tests are about outcomes, not speed. */
function environment(commandTimeoutMs = 1_000, lockTiming: Partial<LockTiming> = {}): { cache: EntityCache<Item>; store: RedisStore } {
  const store = new RedisStore({ kind: 'redis', url: server.url, tls: false, commandTimeoutMs });
  stores.push(store);
  return { cache: createEntityCache<Item>(policy, store, lockTiming), store };
}

const item = (id: string, version: number, name = `v${version}`): Item => ({ id, version, name });

/**
 * Until the store's breaker lets reads through again: its open period is a timer inside the store, so
 * this polls the store's own state (`available()`), bounded by that period plus scheduling slack.
 */
async function breakerClosed(store: RedisStore): Promise<void> {
  await vi.waitFor(() => expect(store.available(), 'breaker closed').toBe(true), { timeout: BREAKER_OPEN_MS + 5_000, interval: 20 });
}

function countingLoader<T>(value: T): { load: () => Promise<T>; calls: () => number } {
  let calls = 0;
  return {
    load: async () => {
      calls += 1;
      return value;
    },
    calls: () => calls,
  };
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

describe('entity cache on redis-server', () => {
  it('reads through: a miss loads and fills, the next read is a hit', async () => {
    const { cache } = environment();
    const loader = countingLoader<Item | undefined>(item('a', 1));
    expect(await cache.get('a', loader.load)).toEqual(item('a', 1));
    expect(await cache.get('a', loader.load)).toEqual(item('a', 1));
    expect(loader.calls()).toBe(1);
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, errors: 0, loads: 1 });
    expect(await admin.get(entryKey(policy, 'a'))).toBe(`1|${JSON.stringify(item('a', 1))}`);
  });

  it('caches absence for negativeTtlSeconds, and a created item replaces it', async () => {
    const { cache } = environment();
    const loader = countingLoader<Item | undefined>(undefined);
    expect(await cache.get('ghost', loader.load)).toBeUndefined();
    expect(await cache.get('ghost', loader.load)).toBeUndefined();
    expect(loader.calls()).toBe(1);
    const ttl = await admin.pttl(entryKey(policy, 'ghost'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(policy.negativeTtlSeconds * 1000);

    expect(await cache.put('ghost', item('ghost', 1))).toBe('applied');
    expect(await cache.get('ghost', loader.load)).toEqual(item('ghost', 1));
    expect(loader.calls()).toBe(1);
  });

  it('write-through only moves forward: put v3 then v2 leaves v3', async () => {
    const { cache } = environment();
    const other = environment().cache;
    await cache.put('w', item('w', 3));
    await other.put('w', item('w', 2)); // a late write-back from another environment
    const loader = countingLoader<Item | undefined>(item('w', 1));
    expect(await environment().cache.get('w', loader.load)).toEqual(item('w', 3));
    expect(loader.calls()).toBe(0);
    await cache.put('w', item('w', 4));
    expect(await other.get('w', loader.load)).toEqual(item('w', 4));
  });

  it('refresh (for change feeds) only moves an existing entry forward, and never fills an empty key', async () => {
    const { cache } = environment();
    const loader = countingLoader<Item | undefined>(undefined);
    expect(await cache.refresh('r', item('r', 5))).toBe('applied');
    expect(await admin.exists(entryKey(policy, 'r'))).toBe(0); // a replayed image may be old: leave the key to the next read
    await cache.get('r', loader.load); // cached as absent
    expect(await cache.refresh('r', item('r', 1))).toBe('applied');
    expect(await cache.get('r', loader.load)).toEqual(item('r', 1));
    await cache.refresh('r', item('r', 3));
    await cache.refresh('r', item('r', 2));
    expect(await cache.get('r', loader.load)).toEqual(item('r', 3));
    expect(loader.calls()).toBe(1);
  });

  it('a load that read v2 before a write of v3 cannot write v2 back over it', async () => {
    const reader = environment().cache;
    const writer = environment().cache;
    const slowRead = gate();
    // The reader's DynamoDB read returns v2, but its answer arrives only after v3 was committed and written through.
    const reading = reader.get('race', async () => {
      await slowRead.wait;
      return item('race', 2);
    });
    await vi.waitFor(async () => expect(await admin.exists(`${entryKey(policy, 'race')}:lock`)).toBe(1));
    expect(await writer.put('race', item('race', 3))).toBe('applied');
    slowRead.open();
    expect(await reading).toEqual(item('race', 2)); // what that read saw: it began before the write
    const loader = countingLoader<Item | undefined>(item('race', 1));
    expect(await environment().cache.get('race', loader.load)).toEqual(item('race', 3));
    expect(loader.calls()).toBe(0);
  });

  it('invalidate fences the key: a load that began before it cannot refill the old value', async () => {
    const reader = environment().cache;
    const writer = environment().cache;
    await writer.put('f', item('f', 1));
    await admin.del(entryKey(policy, 'f')); // evicted: the next read loads
    const slowRead = gate();
    const reading = reader.get('f', async () => {
      await slowRead.wait;
      return item('f', 1); // read before the transaction below committed
    });
    await vi.waitFor(async () => expect(await admin.exists(`${entryKey(policy, 'f')}:lock`)).toBe(1));
    expect(await writer.invalidate('f')).toBe('applied'); // a transaction changed f; its new version is unknown
    slowRead.open();
    await reading;
    expect(await admin.get(entryKey(policy, 'f'))).toBe('~');
    // While the fence stands, reads go to the loader (the table) and nothing is stored.
    const fresh = countingLoader<Item | undefined>(item('f', 2));
    expect(await environment().cache.get('f', fresh.load)).toEqual(item('f', 2));
    expect(await writer.put('f', item('f', 2))).toBe('applied'); // refused by the fence, which is still safe
    expect(await admin.get(entryKey(policy, 'f'))).toBe('~');
    expect(await admin.pttl(entryKey(policy, 'f'))).toBeLessThanOrEqual(FENCE_MS);
  });

  it('50 concurrent readers of a cold key in 5 environments cause one load', async () => {
    const environments = Array.from({ length: 5 }, () => environment().cache);
    let loads = 0;
    const release = gate();
    const load = async (): Promise<Item> => {
      loads += 1;
      await release.wait; // hold the load open until every reader has asked
      return item('hot', 7);
    };
    const readers = Array.from({ length: 50 }, (_, i) => environments[i % environments.length]!.get('hot', load));
    await vi.waitFor(async () => expect(await admin.exists(`${entryKey(policy, 'hot')}:lock`)).toBe(1));
    release.open();
    const values = await Promise.all(readers);
    expect(values.every((value) => value?.version === 7)).toBe(true);
    expect(loads).toBe(1);
    expect(environments.reduce((sum, cache) => sum + cache.stats().loads, 0)).toBe(1);
    expect(await admin.exists(`${entryKey(policy, 'hot')}:lock`)).toBe(0);
  });

  it('a reader whose miss came just before another environment filled and unlocked does not load again', async () => {
    // B reads the entry (a miss), then is held before it takes the lock, as a descheduled worker thread might
    // be; meanwhile A takes the lock, loads, fills and unlocks. B's lock is then free, and the entry filled.
    const asked = gate();
    const held = gate();
    const heldStore = new (class extends RedisStore {
      override async tryLock(lockKey: string, token: string, ttlMs: number): Promise<boolean> {
        asked.open();
        await held.wait;
        return super.tryLock(lockKey, token, ttlMs);
      }
    })({ kind: 'redis', url: server.url, tls: false, commandTimeoutMs: 1_000 });
    stores.push(heldStore);
    const b = createEntityCache<Item>(policy, heldStore);
    const a = environment().cache;
    const loader = countingLoader<Item | undefined>(item('race', 5));
    const reading = b.get('race', loader.load);
    await asked.wait;
    expect(await a.get('race', loader.load)).toEqual(item('race', 5));
    held.open();
    expect(await reading).toEqual(item('race', 5));
    expect(loader.calls()).toBe(1);
    expect(await admin.exists(`${entryKey(policy, 'race')}:lock`)).toBe(0);
  });

  it('a load that outlasts the lock TTL keeps its lease: still one load, however slow', async () => {
    // A 150 ms lease renewed every 50 ms; waiters would wait up to 60 s. The load is held open
    // until the lock has outlived three TTLs, as a DynamoDB read on a starved machine might.
    const timing = { lockTtlMs: 150, leaseRenewMs: 50, waitMs: 60_000 };
    const [holder, waiter] = [environment(1_000, timing).cache, environment(1_000, timing).cache];
    let loads = 0;
    const release = gate();
    const load = async (): Promise<Item> => {
      loads += 1;
      await release.wait;
      return item('slow', 3);
    };
    const lockKey = `${entryKey(policy, 'slow')}:lock`;
    const first = holder.get('slow', load);
    await vi.waitFor(async () => expect(await admin.exists(lockKey)).toBe(1));
    const second = waiter.get('slow', load);
    const lockSeen = Date.now();
    await vi.waitFor(
      async () => {
        expect(Date.now() - lockSeen).toBeGreaterThan(3 * timing.lockTtlMs);
        expect(await admin.exists(lockKey)).toBe(1);
      },
      { timeout: 10_000, interval: 25 },
    );
    expect(loads).toBe(1);
    release.open();
    expect((await Promise.all([first, second])).map((value) => value?.version)).toEqual([3, 3]);
    expect(loads).toBe(1);
    expect(waiter.stats()).toMatchObject({ loads: 0, hits: 1 });
  });

  it('a holder that disappears lets its lease lapse, and a waiter loads in its place', async () => {
    const timing = { lockTtlMs: 150, leaseRenewMs: 50, waitMs: 60_000 };
    const waiter = environment(1_000, timing).cache;
    // A crashed holder: its lock exists, nobody renews it.
    await admin.set(`${entryKey(policy, 'orphan')}:lock`, 'crashed-holder', 'PX', timing.lockTtlMs);
    const loader = countingLoader(item('orphan', 2));
    expect((await waiter.get('orphan', loader.load))?.version).toBe(2);
    expect(loader.calls()).toBe(1);
  });

  it('getMany: one MGET, one batched load for the misses, and fills for next time', async () => {
    const { cache } = environment();
    await cache.put('m1', item('m1', 1));
    const batches: string[][] = [];
    const loadMany = async (ids: string[]) => {
      batches.push(ids);
      return new Map(ids.filter((id) => id !== 'm-missing').map((id) => [id, item(id, 1)]));
    };
    const first = await cache.getMany(['m1', 'm2', 'm3', 'm2', 'm-missing'], loadMany);
    expect([...first.keys()].sort()).toEqual(['m1', 'm2', 'm3']);
    expect(batches).toEqual([['m2', 'm3', 'm-missing']]);
    const second = await cache.getMany(['m1', 'm2', 'm3', 'm-missing'], loadMany);
    expect(second.size).toBe(3);
    expect(batches).toHaveLength(1);
    expect(cache.stats()).toMatchObject({ hits: 5, misses: 3, loads: 1, errors: 0 });
  });

  it('does not cache values over maxValueBytes, and drops an older smaller one', async () => {
    const { cache } = environment();
    await cache.put('big', item('big', 1));
    const huge = item('big', 2, 'x'.repeat(policy.maxValueBytes));
    expect(await cache.put('big', huge)).toBe('applied');
    expect(await admin.get(entryKey(policy, 'big'))).toBe('~');
    const loader = countingLoader<Item | undefined>(huge);
    expect(await cache.get('big', loader.load)).toEqual(huge);
    expect(loader.calls()).toBe(1);
  });

  it('Redis down: reads keep answering from the loader, writes report failure, and the cache comes back by itself', async () => {
    const { cache, store } = environment();
    const loader = countingLoader<Item | undefined>(item('d', 1));
    await cache.get('d', loader.load);
    await server.stop();
    for (let i = 0; i < 20; i++) expect(await cache.get('d', loader.load)).toEqual(item('d', 1));
    expect(await cache.put('d', item('d', 2))).toBe('failed');
    expect(await cache.invalidate('d')).toBe('failed');
    expect(cache.stats().errors).toBeGreaterThan(0);
    expect(cache.stats().errors).toBeLessThan(5); // the breaker skips Redis instead of failing every command
    await server.start();
    await breakerClosed(store);
    const back = countingLoader<Item | undefined>(item('d', 2));
    await vi.waitFor(
      async () => {
        const before = cache.stats().hits;
        await cache.get('d', back.load);
        await cache.get('d', back.load);
        expect(cache.stats().hits).toBeGreaterThan(before);
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(await cache.get('d', back.load)).toEqual(item('d', 2));
  });

  it('Redis slow (commands past the timeout): reads answer from the loader; an unapplied write-through is fenced once Redis answers', async () => {
    const { cache, store } = environment(50);
    await cache.put('s', item('s', 1));
    await admin.client('PAUSE', 1_000, 'ALL');
    const loader = countingLoader<Item | undefined>(item('s', 2));
    expect(await cache.put('s', item('s', 2))).toBe('failed'); // committed in the table, not confirmed in the cache
    expect(await cache.get('s', loader.load)).toEqual(item('s', 2)); // this environment bypasses the unsettled id
    expect(cache.stats().errors).toBe(1);
    await admin.client('UNPAUSE');
    await breakerClosed(store);
    // The first operation after recovery fences the unsettled id; reads of it never see v1 again.
    await vi.waitFor(async () => expect(await cache.get('s', loader.load)).toEqual(item('s', 2)), { timeout: 10_000, interval: 200 });
    expect(await admin.get(entryKey(policy, 's'))).not.toContain('"version":1');
  });
});

describe('page cache on redis-server', () => {
  it('stores ids and nextToken per variant; a generation bump orphans every page of the partition', async () => {
    const store = new RedisStore({ kind: 'redis', url: server.url, tls: false, commandTimeoutMs: 1_000 });
    stores.push(store);
    const pages = createPageCache(policy.pages!, store, (error) => {
      throw error;
    });
    const miss = await pages.lookup('books', '20:');
    expect(miss.page).toBeUndefined();
    await miss.fill({ ids: ['a', 'b'], nextToken: 'tok' });
    expect((await pages.lookup('books', '20:')).page).toEqual({ ids: ['a', 'b'], nextToken: 'tok' });
    expect((await pages.lookup('books', '5:')).page).toBeUndefined();

    const stale = await pages.lookup('books', '5:'); // a load that began before the invalidation…
    await pages.invalidate('books');
    await stale.fill({ ids: ['a'], nextToken: null }); // …fills under the old generation
    expect((await pages.lookup('books', '20:')).page).toBeUndefined();
    expect((await pages.lookup('books', '5:')).page).toBeUndefined();
    expect((await pages.lookup('games', '20:')).page).toBeUndefined();
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AdjustStockDocument,
  CancelOrderDocument,
  GetProductDocument,
  ListProductsDocument,
  PlaceOrderDocument,
  UpdateProductDocument,
} from '../../generated/client/graphql.js';
import { cachePolicy, createEntityCache, RedisStore } from '../../lib/cache/index.js';
import type { ProductItem } from '../../lib/model.js';
import { cacheAccess, metricDelta, settledMetrics, type CacheAccess } from '../support/cache.js';
import { createProduct } from '../support/fixtures.js';
import { useLocalStack } from '../support/local-stack.js';

/**
 * The read cache through the whole local stack: HTTP → AppSync executor →
 * catalog/orders execution environments → a real redis-server and DynamoDB
 * Local. DynamoDB reads are the catalog function's own DynamoDBReadCalls
 * metric (one EMF line per invocation).
 */

const local = useLocalStack();
let cache: CacheAccess;

beforeAll(async () => {
  cache = await cacheAccess(local.stack);
});
afterAll(() => cache?.close());

const catalogMetrics = () => settledMetrics(local.stack, 'catalog');
const reads = (after: Record<string, number>, before: Record<string, number>) => metricDelta(after, before, 'DynamoDBReadCalls');

/** This suite's products: 50 in stock (the stock arithmetic below starts there). */
const cached = { name: 'Cached', currency: 'EUR', category: 'cache-e2e', stock: 50 } as const;

async function readProduct(id: string) {
  const res = await local.api.request(GetProductDocument, { id }, local.api.asApiKey);
  expect(res.errors).toBeUndefined();
  return res.data!.product;
}

const storedItem = (id: string, version: number): ProductItem => ({
  id,
  sku: `COLD-${id}`,
  name: 'Cold',
  description: null,
  priceCents: 500,
  currency: 'USD',
  category: 'cache-cold',
  stock: 10,
  version,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ratingCount: 0,
  ratingTotal: 0,
});

describe('read cache through the local stack', () => {
  it('runs the functions against the stack’s redis-server', () => {
    expect(local.stack.redis?.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(local.stack.functionEnvironments.catalog).toMatchObject({ CACHE_BACKEND: 'redis', REDIS_URL: local.stack.redis!.url });
    expect(local.stack.functionEnvironments.orders).toMatchObject({ CACHE_BACKEND: 'redis' });
    expect(local.stack.functionEnvironments.authorizer).not.toHaveProperty('CACHE_BACKEND');
  });

  it('hit, miss and negative paths: a created product is served from the cache; a cold one costs one read; so does a missing one', async () => {
    const created = await createProduct(local.api, cached);
    let before = await catalogMetrics();
    for (let i = 0; i < 3; i++) expect(await readProduct(created.id)).toEqual(created);
    let after = await catalogMetrics();
    expect(reads(after, before)).toBe(0); // written through by createProduct
    expect(metricDelta(after, before, 'CacheHits')).toBe(3);

    await cache.coldProduct(storedItem('cold-1', 1));
    before = await catalogMetrics();
    for (let i = 0; i < 3; i++) expect(await readProduct('cold-1')).toMatchObject({ id: 'cold-1', version: 1 });
    after = await catalogMetrics();
    expect(reads(after, before)).toBe(1);
    expect(metricDelta(after, before, 'CacheMisses')).toBe(1);

    before = after;
    for (let i = 0; i < 3; i++) expect(await readProduct('no-such-product')).toBeNull();
    after = await catalogMetrics();
    expect(reads(after, before)).toBe(1); // then cached as absent
  });

  it('write-through: updates and stock changes are read back at once, without a DynamoDB read', async () => {
    const created = await createProduct(local.api, cached);
    await readProduct(created.id);
    const before = await catalogMetrics();
    const updated = await local.api.request(
      UpdateProductDocument,
      { input: { id: created.id, expectedVersion: 1, name: 'Renamed', priceCents: 1200 } },
      local.api.admin(),
    );
    expect(updated.errors).toBeUndefined();
    expect(await readProduct(created.id)).toMatchObject({ name: 'Renamed', priceCents: 1200, version: 2 });
    const adjusted = await local.api.request(AdjustStockDocument, { id: created.id, delta: -5 }, local.api.admin());
    expect(adjusted.errors).toBeUndefined();
    expect(await readProduct(created.id)).toMatchObject({ stock: 45, version: 3 });
    expect(reads(await catalogMetrics(), before)).toBe(0);
  });

  it('order transactions write their stock changes through: read back at once, including on order lines, without a catalog read', async () => {
    const product = await createProduct(local.api, { ...cached, stock: 10 });
    expect((await readProduct(product.id))?.stock).toBe(10); // cached
    const before = await catalogMetrics();
    const customer = local.api.user('cache-customer');
    const placed = await local.api.request(
      PlaceOrderDocument,
      { input: { clientToken: 'cache-order-1', items: [{ productId: product.id, quantity: 3 }] } },
      customer,
    );
    expect(placed.errors).toBeUndefined();
    expect(await readProduct(product.id)).toMatchObject({ stock: 7, version: 2 });
    // OrderItem.product (BatchInvoke → MGET) reads the same entries.
    const lines = await local.api.request<{ order: { items: Array<{ product: { stock: number; version: number } }> } }, { id: string }>(
      'query ($id: ID!) { order(id: $id) { items { product { stock version } } } }',
      { id: placed.data!.placeOrder.id },
      customer,
    );
    expect(lines.data?.order.items[0]?.product).toEqual({ stock: 7, version: 2 });

    const cancelled = await local.api.request(CancelOrderDocument, { id: placed.data!.placeOrder.id }, customer);
    expect(cancelled.errors).toBeUndefined();
    expect(await readProduct(product.id)).toMatchObject({ stock: 10, version: 3 });
    expect(reads(await catalogMetrics(), before)).toBe(0);
  });

  it('category pages: cached as ids, current item fields, and a new or moved product shows at once', async () => {
    const category = 'pages-e2e';
    const first = await createProduct(local.api, { ...cached, category });
    const second = await createProduct(local.api, { ...cached, category });
    const list = async () => {
      const res = await local.api.request(ListProductsDocument, { category, limit: 10 }, local.api.asApiKey);
      expect(res.errors).toBeUndefined();
      return res.data!.products.items;
    };
    expect((await list()).map((p) => p.id)).toEqual([first.id, second.id]);
    let before = await catalogMetrics();
    expect((await list()).map((p) => p.id)).toEqual([first.id, second.id]);
    expect(reads(await catalogMetrics(), before)).toBe(0);

    await local.api.request(AdjustStockDocument, { id: first.id, delta: 7 }, local.api.admin());
    before = await catalogMetrics();
    expect((await list())[0]).toMatchObject({ id: first.id, stock: 57 });
    expect(reads(await catalogMetrics(), before)).toBe(0); // the page's product comes from the (written-through) product cache

    const third = await createProduct(local.api, { ...cached, category });
    expect((await list()).map((p) => p.id)).toEqual([first.id, second.id, third.id]);

    const moved = await local.api.request(
      UpdateProductDocument,
      { input: { id: second.id, expectedVersion: 1, category: 'pages-e2e-other' } },
      local.api.admin(),
    );
    expect(moved.errors).toBeUndefined();
    expect((await list()).map((p) => p.id)).toEqual([first.id, third.id]);
  });

  it('after each committed write through the API, no read returns an older version', async () => {
    const product = await createProduct(local.api, { ...cached, stock: 100 });
    let acknowledged = 1; // the version the last answered write produced (this test is the product's only writer)
    let writing = true;
    const violations: string[] = [];
    let readCount = 0;
    /** Lets the readers complete `n` more reads, so every write is interleaved with reads whatever the machine's speed. */
    const readsDone = async (n: number) => {
      const target = readCount + n;
      await vi.waitFor(() => expect(readCount).toBeGreaterThanOrEqual(target), { timeout: 30_000, interval: 2 });
    };
    const reader = async () => {
      while (writing) {
        const floor = acknowledged;
        const read = await readProduct(product.id);
        readCount += 1;
        if (!read || read.version < floor) violations.push(`read version ${read?.version} after version ${floor} was acknowledged`);
      }
    };
    const customer = local.api.user('staleness-customer');
    const writer = async () => {
      try {
        for (let i = 0; i < 12; i++) {
          await readsDone(4);
          if (i % 4 === 1) {
            const res = await local.api.request(
              PlaceOrderDocument,
              { input: { clientToken: `stale-${i}`, items: [{ productId: product.id, quantity: 1 }] } },
              customer,
            );
            expect(res.errors).toBeUndefined();
            acknowledged += 1;
          } else if (i % 4 === 3) {
            const res = await local.api.request(
              UpdateProductDocument,
              { input: { id: product.id, expectedVersion: acknowledged, name: `Name ${i}` } },
              local.api.admin(),
            );
            expect(res.errors).toBeUndefined();
            acknowledged = res.data!.updateProduct.version;
          } else {
            const res = await local.api.request(AdjustStockDocument, { id: product.id, delta: 1 }, local.api.admin());
            expect(res.errors).toBeUndefined();
            acknowledged = res.data!.adjustStock.version;
          }
        }
      } finally {
        writing = false;
      }
    };
    await Promise.all([writer(), reader(), reader(), reader(), reader()]);
    expect(violations).toEqual([]);
    expect(acknowledged).toBe(13);
    expect(readCount).toBeGreaterThanOrEqual(48);
    expect(await readProduct(product.id)).toMatchObject({ version: 13 });
  });

  it('a stale write-back cannot win: puts of v3 and v2 interleaved leave v3, and the API serves v3', async () => {
    const product = await createProduct(local.api, cached);
    const update = async (expectedVersion: number) => {
      const res = await local.api.request(
        UpdateProductDocument,
        { input: { id: product.id, expectedVersion, name: `v${expectedVersion + 1}` } },
        local.api.admin(),
      );
      expect(res.errors).toBeUndefined();
    };
    await update(1);
    const v2 = await cache.storedProduct(product.id);
    await update(2);
    const v3 = await cache.storedProduct(product.id);
    expect([v2.version, v3.version]).toEqual([2, 3]);

    // Another execution environment's writers, on the same redis-server.
    const store = new RedisStore({ kind: 'redis', url: local.stack.redis!.url, tls: false, commandTimeoutMs: 1_000 });
    try {
      const late = createEntityCache<ProductItem>(cachePolicy('product'), store);
      expect(await late.put(product.id, v2)).toBe('applied'); // accepted as a no-op: v3 is cached
      expect(await readProduct(product.id)).toMatchObject({ name: 'v3', version: 3 });

      await cache.redis.del(cache.productKey(product.id)); // evicted; now the two puts race on an empty key
      await Promise.all([late.put(product.id, v3), late.put(product.id, v2)]);
      await late.put(product.id, v2);
      const before = await catalogMetrics();
      expect(await readProduct(product.id)).toMatchObject({ name: 'v3', version: 3 });
      expect(reads(await catalogMetrics(), before)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('50 concurrent readers of a cold key, across execution environments, cause one DynamoDB read', async () => {
    // Warm environments (and their Redis connections) first: the key is cold, not the functions.
    const warm = await createProduct(local.api, cached);
    await Promise.all(Array.from({ length: 50 }, () => readProduct(warm.id)));
    expect(local.stack.functions.get('catalog')!.stats().environments).toBeGreaterThan(1);

    await cache.coldProduct(storedItem('stampede', 4));
    const before = await catalogMetrics();
    const results = await Promise.all(Array.from({ length: 50 }, () => readProduct('stampede')));
    const after = await catalogMetrics();
    expect(results.every((product) => product?.id === 'stampede' && product.version === 4)).toBe(true);
    const counts = (names: string[]) => Object.fromEntries(names.map((name) => [name, metricDelta(after, before, name)]));
    // All counters at once, so a failure shows which path (lock, wait, error fallback) cost the extra read.
    expect(counts(['DynamoDBReadCalls', 'CacheLoads', 'CacheErrors'])).toEqual({ DynamoDBReadCalls: 1, CacheLoads: 1, CacheErrors: 0 });
  });

  it('Redis stopped mid-traffic: zero failed requests, then cache hits again after it restarts, and values converge within the bound', async () => {
    const products = await Promise.all(Array.from({ length: 8 }, () => createProduct(local.api, cached)));
    const failures: string[] = [];
    let sent = 0;
    // One request of mixed traffic: mostly reads, every 10th a stock change.
    const step = async (): Promise<void> => {
      const index = sent++;
      const product = products[index % products.length]!;
      try {
        const res =
          index % 10 === 9
            ? await local.api.request(AdjustStockDocument, { id: product.id, delta: 1 }, local.api.admin())
            : await local.api.request(GetProductDocument, { id: product.id }, local.api.asApiKey);
        if (res.status !== 200 || res.errors || !res.data) failures.push(JSON.stringify(res));
      } catch (error) {
        failures.push(String(error));
      }
    };
    const traffic = (requests: number) =>
      Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = 0; i < requests / 4; i++) await step();
        }),
      );

    await traffic(40);
    const beforeOutage = await catalogMetrics();
    const redis = local.stack.redis!;
    const stopping = redis.stop();
    await traffic(40); // requests in flight while it goes down
    await stopping;
    await traffic(80);
    const duringOutage = await catalogMetrics();
    expect(metricDelta(duringOutage, beforeOutage, 'CacheErrors')).toBeGreaterThan(0);
    expect(metricDelta(duringOutage, beforeOutage, 'DynamoDBReadCalls')).toBeGreaterThan(0);

    await redis.start();
    // Recovery needs no action: each environment reconnects and leaves its breaker on its own.
    await vi.waitFor(
      async () => {
        const before = await catalogMetrics();
        await traffic(40);
        const after = await catalogMetrics();
        expect(metricDelta(after, before, 'CacheErrors'), 'recovered: no cache errors').toBe(0);
        expect(metricDelta(after, before, 'CacheHits'), 'recovered: cache hits again').toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 250 },
    );
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(200);

    // Write-throughs that failed during the outage are covered by the declared bound, not by
    // read-your-writes: within maxStalenessMs every product reads as stored.
    for (const product of products) {
      const stored = await cache.storedProduct(product.id);
      await vi.waitFor(async () => expect(await readProduct(product.id)).toMatchObject({ version: stored.version, stock: stored.stock }), {
        timeout: cachePolicy('product').maxStalenessMs,
        interval: 100,
      });
    }
  });
});

import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STOCK } from '../../declarations/bounds.js';
import type { CreateProductInput } from '../../generated/graphql.js';
import { cachePolicy, createEntityCache, createPageCache, RedisStore, type EntityCache } from '../../lib/cache/index.js';
import { entryKey } from '../../lib/cache/entity-cache.js';
import { FENCE } from '../../lib/cache/redis-store.js';
import type { ProductItem } from '../../lib/model.js';
import { createProductCoherence, createProducts, type Products, type TransactAction } from '../../lib/products/index.js';
import { createTables } from '../../local/dynamodb/create-tables.js';
import { dynamoDbClientConfig, type DynamoDBLocalHandle } from '../../local/dynamodb/dynamodb-local.js';
import { startRedisServer, type RedisServerHandle } from '../../local/redis/redis-server.js';
import { workerOrOwnDynamoDB } from '../support/worker-dynamodb.js';

/**
 * The products data module (lib/products/) against a real DynamoDB Local and
 * a real redis-server. Each "environment" is its own Redis client, entity
 * cache and page cache, as separate Lambda execution environments have; its
 * DynamoDB clients record the commands they send, so a test can tell a cache
 * hit from a table read.
 */

const policy = cachePolicy('product');

let dynamodb: DynamoDBLocalHandle;
let redisServer: RedisServerHandle;
let admin: Redis;
let db: DynamoDBDocumentClient;
let table: string;
const stores: RedisStore[] = [];

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const [started, redis] = await Promise.all([workerOrOwnDynamoDB('products-data'), startRedisServer()]);
  dynamodb = started.handle;
  if (!redis) throw new Error('These tests need redis-server (apt-get install -y redis-server)');
  redisServer = redis;
  admin = new Redis(redisServer.url, { lazyConnect: true });
  await admin.connect();
  const client = new DynamoDBClient(dynamoDbClientConfig(dynamodb.endpoint));
  db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  ({ products: table } = await createTables(client, started.tablePrefix));
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await admin.flushall();
});

afterAll(async () => {
  admin?.disconnect();
  db?.destroy();
  await Promise.all([dynamodb?.stop(), redisServer?.stop()]);
});

type Sent = { command: string; input: Record<string, unknown> };

/** `db`, recording what it is sent; `fail` makes matching commands reject, as an unreachable table would. */
function recording(fail: (command: unknown) => boolean = () => false): { client: DynamoDBDocumentClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = new Proxy(db, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return async (command: { input: Record<string, unknown> }) => {
        sent.push({ command: command.constructor.name, input: command.input });
        if (fail(command)) throw new Error('DynamoDB unreachable (test)');
        return target.send(command as never);
      };
    },
  });
  return { client, sent };
}

interface Environment {
  readonly products: Products;
  readonly cache: EntityCache<ProductItem>;
  /** Commands sent to `db` (writes, transactions' read-backs, queries, uncached reads). */
  readonly sent: Sent[];
  /** Commands sent to the cache's loaders' client (`reads`, DAX in DAX mode). */
  readonly loads: Sent[];
}

function environment(options: { cacheEnabled?: boolean; failDb?: (command: unknown) => boolean } = {}): Environment {
  const store =
    options.cacheEnabled === false
      ? undefined
      : new RedisStore({ kind: 'redis', url: redisServer.url, tls: false, commandTimeoutMs: 1_000 });
  if (store) stores.push(store);
  const cache = createEntityCache<ProductItem>(policy, store);
  const pages = createPageCache(policy.pages!, store, () => undefined);
  const writes = recording(options.failDb);
  const reads = recording();
  const products = createProducts({ db: writes.client, reads: reads.client, table, cache, pages });
  return { products, cache, sent: writes.sent, loads: reads.sent };
}

let counter = 0;
const unique = (prefix: string): string => `${prefix}-${process.pid}-${++counter}`;

function input(overrides: Partial<CreateProductInput> = {}): CreateProductInput {
  return { sku: unique('sku'), name: 'Tea', priceCents: 450, currency: 'EUR', category: unique('cat'), stock: 10, ...overrides };
}

const raw = (id: string): Promise<string | null> => admin.get(entryKey(policy, id));
const stored = async (id: string): Promise<ProductItem | undefined> =>
  (await db.send(new GetCommand({ TableName: table, Key: { id }, ConsistentRead: true }))).Item as ProductItem | undefined;
const commit = (actions: TransactAction[]): Promise<void> =>
  db.send(new TransactWriteCommand({ TransactItems: actions })).then(() => undefined);
const now = (): string => new Date().toISOString();

describe('writes are visible to the next read through the cache', () => {
  it('a created product is cached at once: another environment reads it without a DynamoDB read', async () => {
    const writer = environment();
    const reader = environment();
    const created = await writer.products.create(input({ name: '  Green tea  ', description: '' }));
    expect(created).toMatchObject({ name: 'Green tea', description: null, version: 1, ratingCount: 0, ratingTotal: 0 });
    expect(await stored(created.id)).toEqual(created);
    expect(await reader.products.get(created.id)).toEqual(created);
    expect(reader.loads).toHaveLength(0);
    expect(reader.cache.stats()).toMatchObject({ hits: 1, loads: 0 });
  });

  it('updateProduct: the new version is what every environment reads next; a stale expectedVersion or a missing product is refused', async () => {
    const writer = environment();
    const reader = environment();
    const created = await writer.products.create(input());
    await admin.del(entryKey(policy, created.id));
    expect(await reader.products.get(created.id)).toEqual(created); // cached by the reader's load: v1
    const updated = await writer.products.update({ id: created.id, expectedVersion: 1, name: 'Black tea', priceCents: 500 });
    expect(updated).toMatchObject({ name: 'Black tea', priceCents: 500, version: 2 });
    expect(await reader.products.get(created.id)).toEqual(updated);
    expect(reader.loads).toHaveLength(1); // the first, cold read only

    await expect(writer.products.update({ id: created.id, expectedVersion: 1, name: 'Late' })).rejects.toMatchObject({
      errorType: 'ConditionFailed',
      errorInfo: { currentVersion: 2 },
    });
    await expect(writer.products.update({ id: unique('missing'), expectedVersion: 1, name: 'X' })).rejects.toMatchObject({
      errorType: 'NotFound',
    });
    await expect(writer.products.update({ id: created.id, expectedVersion: 2 })).rejects.toMatchObject({ errorType: 'ValidationError' });
    await expect(writer.products.update({ id: created.id, expectedVersion: 2, priceCents: -1 })).rejects.toMatchObject({
      errorType: 'ValidationError',
      errorInfo: { field: 'priceCents' },
    });
    expect(await reader.products.get(created.id)).toEqual(updated);
  });

  it('adjustStock: written through; the stock stays within [0, MAX_STOCK], told apart from a missing product', async () => {
    const writer = environment();
    const reader = environment();
    const created = await writer.products.create(input({ stock: 5 }));
    const adjusted = await writer.products.adjustStock(created.id, -3);
    expect(adjusted).toMatchObject({ stock: 2, version: 2 });
    expect(await reader.products.get(created.id)).toEqual(adjusted);
    expect(reader.loads).toHaveLength(0);

    await expect(writer.products.adjustStock(created.id, -3)).rejects.toMatchObject({
      errorType: 'InsufficientStock',
      errorInfo: { stock: 2 },
    });
    await expect(writer.products.adjustStock(created.id, MAX_STOCK - 1)).rejects.toMatchObject({
      errorType: 'ValidationError',
      errorInfo: { field: 'delta', stock: 2, maxStock: MAX_STOCK },
    });
    await expect(writer.products.adjustStock(created.id, 0)).rejects.toMatchObject({
      errorType: 'ValidationError',
      errorInfo: { field: 'delta' },
    });
    await expect(writer.products.adjustStock(created.id, MAX_STOCK + 1)).rejects.toMatchObject({ errorType: 'ValidationError' });
    await expect(writer.products.adjustStock(unique('missing'), 1)).rejects.toMatchObject({ errorType: 'NotFound' });
    expect(await stored(created.id)).toEqual(adjusted);
    expect(await reader.products.get(created.id)).toEqual(adjusted);
  });

  it('loads behind the cache go to the reads client, consistently while a cache is on, not with none (as in DAX mode)', async () => {
    const created = await environment().products.create(input());
    await admin.del(entryKey(policy, created.id));
    const cached = environment();
    await cached.products.get(created.id);
    await admin.del(entryKey(policy, created.id));
    await cached.products.getMany([created.id, '', 'x'.repeat(200), 'bad\u0000id']);
    expect(cached.sent).toHaveLength(0);
    expect(cached.loads).toEqual([
      { command: GetCommand.name, input: expect.objectContaining({ Key: { id: created.id }, ConsistentRead: true }) },
      // Values that are not ids are never sent.
      { command: BatchGetCommand.name, input: { RequestItems: { [table]: { Keys: [{ id: created.id }], ConsistentRead: true } } } },
    ]);

    const uncached = environment({ cacheEnabled: false });
    await uncached.products.get(created.id);
    await uncached.products.getMany([created.id]);
    expect(uncached.loads).toEqual([
      { command: GetCommand.name, input: { TableName: table, Key: { id: created.id } } },
      { command: BatchGetCommand.name, input: { RequestItems: { [table]: { Keys: [{ id: created.id }] } } } },
    ]);
    await expect(uncached.products.get('')).rejects.toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'id' } });
  });
});

describe('stock changes inside a transaction', () => {
  it('a committed take is written through: the next read sees the new stock without a DynamoDB read', async () => {
    const orders = environment();
    const reader = environment();
    const [a, b] = await Promise.all([orders.products.create(input({ stock: 10 })), orders.products.create(input({ stock: 3 }))]);
    await reader.products.getMany([a!.id, b!.id]); // both cached at v1 (written through by create)

    const take = orders.products.takeStock(
      [
        { product: a!, quantity: 4 },
        { product: b!, quantity: 3 },
      ],
      now(),
    );
    expect(take.productIds).toEqual([a!.id, b!.id]);
    let handed: TransactAction[] = [];
    await take.commit(async (actions) => {
      handed = actions;
      await commit(actions);
    });
    expect(handed.map((action) => action.Update?.ConditionExpression)).toEqual([
      'attribute_exists(id) AND stock >= :quantity AND priceCents = :price',
      'attribute_exists(id) AND stock >= :quantity AND priceCents = :price',
    ]);
    expect(handed[0]!.Update!.ExpressionAttributeValues).toMatchObject({ ':quantity': 4, ':price': 450 });

    const after = await reader.products.getMany([a!.id, b!.id]);
    expect(after.get(a!.id)).toMatchObject({ stock: 6, version: 2 });
    expect(after.get(b!.id)).toMatchObject({ stock: 0, version: 2 });
    expect(reader.loads).toHaveLength(0);
    // The read-back was one consistent BatchGetItem on the table.
    expect(orders.sent.filter((sent) => sent.command === BatchGetCommand.name)).toEqual([
      {
        command: BatchGetCommand.name,
        input: { RequestItems: { [table]: { Keys: [{ id: a!.id }, { id: b!.id }], ConsistentRead: true } } },
      },
    ]);
  });

  it('a committed restore is written through; one past MAX_STOCK is refused by its condition and explained', async () => {
    const orders = environment();
    const reader = environment();
    const product = await orders.products.create(input({ stock: 1 }));
    const restore = orders.products.restoreStock([{ productId: product.id, quantity: 5 }], now());
    await restore.commit(commit);
    expect(await reader.products.get(product.id)).toMatchObject({ stock: 6, version: 2 });
    expect(reader.loads).toHaveLength(0);
    expect(await restore.explain(0)).toBeUndefined(); // nothing about the product explains a failure now

    const full = await orders.products.create(input({ stock: MAX_STOCK - 2 }));
    const overflow = orders.products.restoreStock([{ productId: full.id, quantity: 3 }], now());
    await expect(overflow.commit(commit)).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(await overflow.explain(0)).toMatchObject({
      errorType: 'ConditionFailed',
      errorInfo: { productId: full.id, stock: MAX_STOCK - 2, maxStock: MAX_STOCK },
    });
    expect(await stored(full.id)).toMatchObject({ stock: MAX_STOCK - 2, version: 1 });
  });

  it('a refused take writes nothing through, and is explained from the table: stock, price, missing product', async () => {
    const orders = environment();
    const product = await orders.products.create(input({ stock: 5 }));
    const take = orders.products.takeStock([{ product, quantity: 4 }], now());
    await orders.products.adjustStock(product.id, -2); // v2, stock 3: the take's condition now fails
    await expect(take.commit(commit)).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(
      orders.sent.some(
        (sent) =>
          sent.command === BatchGetCommand.name &&
          (sent.input.RequestItems as Record<string, { ConsistentRead?: boolean }>)[table]!.ConsistentRead,
      ),
    ).toBe(false);
    expect(await take.explain(0)).toMatchObject({ errorType: 'InsufficientStock', errorInfo: { productId: product.id, stock: 3 } });

    const repriced = await orders.products.update({ id: product.id, expectedVersion: 2, priceCents: 999 });
    expect(await take.explain(0)).toMatchObject({ errorType: 'ConditionFailed', message: expect.stringMatching(/price/) });
    await db.send(new DeleteCommand({ TableName: table, Key: { id: product.id } }));
    expect(await take.explain(0)).toMatchObject({ errorType: 'NotFound' });
    expect(decodeVersion(await raw(product.id))).toBe(repriced.version);
  });

  it('refuses at once a take the product as read cannot cover, and lines that are not distinct products', async () => {
    const { products } = environment();
    const product = await products.create(input({ stock: 2 }));
    expect(() => products.takeStock([{ product, quantity: 3 }], now())).toThrow(
      expect.objectContaining({ errorType: 'InsufficientStock', errorInfo: { productId: product.id, stock: 2 } }),
    );
    expect(() =>
      products.takeStock(
        [
          { product, quantity: 1 },
          { product, quantity: 1 },
        ],
        now(),
      ),
    ).toThrow(/twice/);
    expect(() => products.restoreStock([{ productId: product.id, quantity: 0 }], now())).toThrow(/quantity/);
  });

  it('a failed read-back fences the products: no read made before the transaction can fill them', async () => {
    const failingReadBack = (command: unknown) => command instanceof BatchGetCommand;
    const orders = environment({ failDb: failingReadBack });
    const reader = environment();
    const product = await orders.products.create(input({ stock: 8 }));
    expect(decodeVersion(await raw(product.id))).toBe(1);

    await orders.products.takeStock([{ product, quantity: 1 }], now()).commit(commit);
    expect(await raw(product.id)).toBe(FENCE);
    // While the fence stands, readers go to the table, and what they read is not stored.
    expect(await reader.products.get(product.id)).toMatchObject({ stock: 7, version: 2 });
    expect(await raw(product.id)).toBe(FENCE);
    expect(await admin.pttl(entryKey(policy, product.id))).toBeGreaterThan(0);
  });

  it('afterTransaction: products changed by any transaction are read back and written through; a vanished one is fenced', async () => {
    const { products } = environment();
    const reader = environment();
    const kept = await products.create(input({ stock: 4 }));
    const gone = await products.create(input({ stock: 4 }));
    await commit([
      {
        Update: {
          TableName: table,
          Key: { id: kept.id },
          UpdateExpression: 'SET stock = :s, version = version + :one',
          ExpressionAttributeValues: { ':s': 1, ':one': 1 },
        },
      },
      { Delete: { TableName: table, Key: { id: gone.id } } },
    ]);
    await products.afterTransaction([kept.id, gone.id]);
    expect(await reader.products.get(kept.id)).toMatchObject({ stock: 1, version: 2 });
    expect(await raw(gone.id)).toBe(FENCE);
  });
});

describe('category pages', () => {
  const queries = (env: Environment) => env.sent.filter((sent) => sent.command === QueryCommand.name).length;
  /** The ids a page lists, sorted (products created within the same millisecond have no defined order). */
  const ids = (page: { items: ProductItem[] }) => page.items.map((item) => item.id).sort();
  const sorted = (...items: ProductItem[]) => items.map((item) => item.id).sort();

  it('are filled only from a query made now, then served from the cache with current item fields', async () => {
    const env = environment();
    const category = unique('cat');
    const [a, b] = [await env.products.create(input({ category })), await env.products.create(input({ category }))];
    const first = await env.products.page({ category, limit: 10 });
    expect(ids(first)).toEqual(sorted(a, b));
    expect(queries(env)).toBe(1);
    const adjusted = await env.products.adjustStock(a.id, 1);
    const second = await env.products.page({ category, limit: 10, nextToken: null });
    expect(queries(env)).toBe(1);
    expect(second.items.find((item) => item.id === a.id)).toEqual(adjusted);
    await expect(env.products.page({ category: '', limit: 10 })).rejects.toMatchObject({ errorInfo: { field: 'category' } });
    await expect(env.products.page({ category, limit: 101 })).rejects.toMatchObject({ errorInfo: { field: 'limit' } });
    await expect(env.products.page({ category, nextToken: 'e30' })).rejects.toMatchObject({ errorInfo: { field: 'nextToken' } });
  });

  it('a product created in a category is listed at once by its cached pages, in every environment', async () => {
    const writer = environment();
    const reader = environment();
    const category = unique('cat');
    const a = await writer.products.create(input({ category }));
    expect(ids(await reader.products.page({ category }))).toEqual(sorted(a));
    expect((await reader.products.page({ category })).items).toHaveLength(1);
    expect(queries(reader)).toBe(1);
    const b = await writer.products.create(input({ category }));
    expect(ids(await reader.products.page({ category }))).toEqual(sorted(a, b));
    expect(queries(reader)).toBe(2);
  });

  it('a product moved to another category leaves the old one’s cached pages and joins the new one’s at once', async () => {
    const writer = environment();
    const reader = environment();
    const [from, to] = [unique('from'), unique('to')];
    const moving = await writer.products.create(input({ category: from }));
    const staying = await writer.products.create(input({ category: from }));
    const resident = await writer.products.create(input({ category: to }));
    expect(ids(await reader.products.page({ category: from }))).toEqual(sorted(moving, staying));
    expect(ids(await reader.products.page({ category: to }))).toEqual(sorted(resident));
    expect(queries(reader)).toBe(2);

    const moved = await writer.products.update({ id: moving.id, expectedVersion: 1, category: to });
    expect(moved.category).toBe(to);
    // The old category's cached page still names it, but its product is now elsewhere: the page is queried again.
    expect(ids(await reader.products.page({ category: from }))).toEqual(sorted(staying));
    // The new category's pages were orphaned by the move.
    expect(ids(await reader.products.page({ category: to }))).toEqual(sorted(resident, moving));
    expect(queries(reader)).toBe(4);
  });
});

describe('change feeds (the stream function) through the same coherence', () => {
  it('refresh only moves an existing entry forward; invalidate fences it', async () => {
    const env = environment();
    const coherence = createProductCoherence(env.cache, undefined);
    const product = await env.products.create(input());
    await admin.del(entryKey(policy, product.id));
    expect(await coherence.refresh(product.id, { ...product, version: 5 })).toBe('applied');
    expect(await raw(product.id)).toBeNull(); // an image may be older than the item: the next read loads it
    await env.products.get(product.id);
    expect(await coherence.refresh(product.id, { ...product, version: 3, name: 'v3' })).toBe('applied');
    expect(await coherence.refresh(product.id, { ...product, version: 2, name: 'v2' })).toBe('applied');
    expect(await env.products.get(product.id)).toMatchObject({ version: 3, name: 'v3' });
    expect(await coherence.invalidate(product.id)).toBe('applied');
    expect(await raw(product.id)).toBe(FENCE);
  });
});

function decodeVersion(entry: string | null): number | undefined {
  if (entry === null || entry === FENCE) return undefined;
  return Number(entry.slice(0, entry.indexOf('|')));
}

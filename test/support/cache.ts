import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import { expect, vi } from 'vitest';
import { cachePolicy } from '../../lib/cache/index.js';
import { entryKey } from '../../lib/cache/entity-cache.js';
import type { ProductItem } from '../../lib/model.js';
import { dynamoDbClientConfig } from '../../local/dynamodb/dynamodb-local.js';
import type { LocalStack } from '../../local/runtime.js';
import { functions, type FunctionName } from '../../declarations/functions.js';
import { latestStreamRecord, streamRecordDelivered } from './streams.js';

/**
 * Test access to a local stack's cache and to what its functions counted.
 * Counts come from the functions' own EMF metric lines (lib/metrics.ts), the
 * same figures CloudWatch would show: nothing here counts on the side.
 */

/** A function's metric sums once every invocation so far has reported (one EMF line per invocation). */
export async function settledMetrics(stack: LocalStack, name: FunctionName): Promise<Record<string, number>> {
  const fn = stack.functions.get(name)!;
  await vi.waitFor(
    () => {
      const stats = fn.stats();
      expect(stats.busy + stats.queued).toBe(0);
      expect(stats.metricReports).toBe(stats.invocations);
    },
    { timeout: 10_000, interval: 10 },
  );
  return { ...fn.stats().metrics };
}

export function metricDelta(after: Record<string, number>, before: Record<string, number>, name: string): number {
  return (after[name] ?? 0) - (before[name] ?? 0);
}

export interface CacheAccess {
  readonly redis: Redis;
  readonly db: DynamoDBDocumentClient;
  productKey(id: string): string;
  /** The stored product, read consistently from the table. */
  storedProduct(id: string): Promise<ProductItem>;
  /**
   * A product in the table and not in the cache. It is written straight to the
   * table; once the stream function has handled that write's stream record
   * (it refreshes only an entry that is cached) the entry is evicted, and since
   * no further record concerns the product, it stays cold until it is read.
   */
  coldProduct(item: ProductItem): Promise<void>;
  close(): void;
}

export async function cacheAccess(stack: LocalStack): Promise<CacheAccess> {
  if (!stack.redis) throw new Error('The cache tests need redis-server (apt-get install -y redis-server)');
  const redis = new Redis(stack.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // tests stop the server on purpose; commands still report their own errors
  await redis.connect();
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(dynamoDbClientConfig(stack.dynamoDbEndpoint)));
  const productKey = (id: string): string => entryKey(cachePolicy('product'), id);
  return {
    redis,
    db,
    productKey,
    async storedProduct(id) {
      const { Item } = await db.send(new GetCommand({ TableName: stack.tables.products, Key: { id }, ConsistentRead: true }));
      if (!Item) throw new Error(`No product ${id} in the table`);
      return Item as ProductItem;
    },
    async coldProduct(item) {
      await db.send(new PutCommand({ TableName: stack.tables.products, Item: item }));
      // Whatever the stream function does with this write happens before its record is checkpointed;
      // after that, and the eviction, nothing else concerns the product.
      const record = await latestStreamRecord(stack, 'products', 'id', item.id);
      await streamRecordDelivered(stack, 'products', record, functions.stream.freshnessBoundSeconds * 1000);
      await redis.del(productKey(item.id));
    },
    close() {
      redis.disconnect();
      db.destroy();
    },
  };
}

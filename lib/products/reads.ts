import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetByKey } from '../batch-get.js';
import type { EntityCache, PageCache } from '../cache/index.js';
import type { ProductItem } from '../model.js';
import { decodeNextToken, encodeNextToken } from '../pagination.js';
import { isId, pageSize, requireCategory, requireId } from '../validation.js';

export interface ProductPageQuery {
  readonly category: string;
  readonly limit?: number | null;
  readonly nextToken?: string | null;
}

export interface ProductPage {
  readonly items: ProductItem[];
  readonly nextToken: string | null;
}

export interface ProductReads {
  /** A product through the cache; undefined when there is none. The id is validated (`id`). */
  get(id: string): Promise<ProductItem | undefined>;
  /**
   * Products by id through the cache (one MGET, one BatchGetItem round for the misses). Values that
   * are not valid ids are never sent anywhere: they are simply absent from the map, like missing products.
   */
  getMany(ids: readonly string[]): Promise<Map<string, ProductItem>>;
  /**
   * A page of a category (the byCategory index). Pages are cached as ids + nextToken and their
   * products read through the product cache, so a cached page shows current stock and prices; only
   * which products it lists can lag (page TTL). A page is filled only from a query made now.
   */
  page(query: ProductPageQuery): Promise<ProductPage>;
  /**
   * Straight from the table, bypassing the cache (and DAX), eventually consistent: for a
   * transaction that conditions on what it read (placeOrder's prices), and for telling why one failed.
   */
  getManyUncached(ids: readonly string[]): Promise<Map<string, ProductItem>>;
}

export interface ProductReadsDependencies {
  /** Queries and uncached reads. */
  readonly db: DynamoDBDocumentClient;
  /** The cache's loaders (GetItem, BatchGetItem): `db`, or DAX in DAX mode. */
  readonly reads: DynamoDBDocumentClient;
  readonly table: string;
  readonly cache: EntityCache<ProductItem>;
  readonly pages: PageCache | undefined;
}

export function createProductReads({ db, reads, table, cache, pages }: ProductReadsDependencies): ProductReads {
  /** The loaders behind the cache; consistent when they fill Redis, so a fill never predates an acknowledged write. */
  async function load(id: string): Promise<ProductItem | undefined> {
    const { Item } = await reads.send(
      new GetCommand({ TableName: table, Key: { id }, ...(cache.consistentLoads ? { ConsistentRead: true } : {}) }),
    );
    return Item as ProductItem | undefined;
  }
  const loadMany = (ids: string[]) => batchGetByKey<ProductItem>(reads, table, 'id', ids, { consistentRead: cache.consistentLoads });

  const getMany = (ids: readonly string[]) => cache.getMany(ids.filter(isId), loadMany);

  /** A cached page's products, or undefined when one is gone or has left the category since (the page is stale then). */
  async function cachedPageItems(ids: readonly string[], category: string): Promise<ProductItem[] | undefined> {
    const found = await getMany(ids);
    const items = ids.map((id) => found.get(id));
    return items.every((item): item is ProductItem => item?.category === category) ? items : undefined;
  }

  return {
    async get(id) {
      requireId('id', id);
      return cache.get(id, () => load(id));
    },

    getMany,

    async page(query) {
      const category = requireCategory('category', query.category);
      const nextToken = query.nextToken ?? null;
      const size = pageSize(query.limit);
      const exclusiveStartKey = decodeNextToken(nextToken, {
        attributes: ['id', 'category', 'createdAt'],
        partition: { name: 'category', value: category },
      });
      const cached = await pages?.lookup(category, `${size}:${nextToken ?? ''}`);
      if (cached?.page) {
        const items = await cachedPageItems(cached.page.ids, category);
        if (items) return { items, nextToken: cached.page.nextToken };
      }
      const { Items, LastEvaluatedKey } = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'byCategory',
          KeyConditionExpression: 'category = :category',
          ExpressionAttributeValues: { ':category': category },
          Limit: size,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      const items = (Items ?? []) as ProductItem[];
      const page = { ids: items.map((item) => item.id), nextToken: encodeNextToken(LastEvaluatedKey) ?? null };
      await cached?.fill(page);
      return { items, nextToken: page.nextToken };
    },

    getManyUncached: (ids) => batchGetByKey<ProductItem>(db, table, 'id', ids),
  };
}

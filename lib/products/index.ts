/**
 * Products' data access: the one way to read or write the products table
 * from a resolver. It owns
 * - reads: a product, many products (OrderItem.product's BatchInvoke) and
 *   category pages, through the product cache and the page cache (reads.ts);
 * - writes: create, update at an expected version, adjust stock (writes.ts),
 *   and the stock changes made inside an order's transaction (stock.ts);
 * - coherence (coherence.ts): every write above writes the new item through
 *   the cache before it resolves (or, for a transaction, reads the products
 *   back and writes them through, fencing them if that read fails), and
 *   orphans the pages of a category a product joins.
 * So the README's promise, that once a mutation has answered no read returns
 * the older value, is kept by this module rather than by each resolver
 * remembering to do it. The stream function applies writes made around the API
 * through the same coherence (`productCacheCoherence`).
 *
 * Bounds come from declarations/bounds.ts, input checks from lib/validation.ts;
 * failed conditions become domain errors (NotFound when the product does not
 * exist, otherwise ConditionFailed, InsufficientStock or ValidationError).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetByKey } from '../batch-get.js';
import { cacheBackendFromEnv, documentClientForReads, entityCache, pageCache, type EntityCache, type PageCache } from '../cache/index.js';
import { tableName } from '../dynamodb.js';
import type { ProductItem } from '../model.js';
import { createProductCoherence } from './coherence.js';
import { createProductReads, type ProductReads } from './reads.js';
import { createProductStock, type ProductStock } from './stock.js';
import { createProductWrites, type ProductWrites } from './writes.js';

export { productChecks, type ProductChecks } from './checks.js';
export { createProductCoherence, productCacheCoherence, type ProductCoherence } from './coherence.js';
export type { ProductPage, ProductPageQuery, ProductReads } from './reads.js';
export type { ProductStock, StockLine, StockRestore, StockTake, StockTakeLine, TransactAction } from './stock.js';
export type { ProductWrites } from './writes.js';

/** Reads, writes and stock changes of products; none of them leaves the cache behind the table. */
export interface Products extends ProductReads, ProductWrites, ProductStock {}

export interface ProductsOptions {
  /** Writes, transactions' read-backs, queries and uncached reads. */
  readonly db: DynamoDBDocumentClient;
  /** The client behind the cache's loads (GetItem, BatchGetItem); `db` unless given (DAX: see openProducts). */
  readonly reads?: DynamoDBDocumentClient;
  /** Physical table name; from the environment (TABLE_PRODUCTS) unless given. */
  readonly table?: string;
  /** The product cache; this environment's `entityCache('product')` unless given. */
  readonly cache?: EntityCache<ProductItem>;
  /** The category page cache; this environment's `pageCache('product')` unless given (`null`: none). */
  readonly pages?: PageCache | null;
}

export function createProducts(options: ProductsOptions): Products {
  const { db } = options;
  const reads = options.reads ?? db;
  const table = options.table ?? tableName('products');
  const cache = options.cache ?? entityCache<ProductItem>('product');
  const pages = options.pages === null ? undefined : (options.pages ?? pageCache('product'));
  const coherence = createProductCoherence(cache, pages);
  const productReads = createProductReads({ db, reads, table, cache, pages });
  return {
    ...productReads,
    ...createProductWrites({ db, table, coherence }),
    ...createProductStock({
      table,
      getManyUncached: productReads.getManyUncached,
      // From the table itself (never DAX), consistently: at least the versions just committed.
      afterTransaction: (ids) =>
        coherence.afterTransaction(ids, (unique) => batchGetByKey<ProductItem>(db, table, 'id', unique, { consistentRead: true })),
    }),
  };
}

/**
 * `createProducts` with item reads through DAX when the environment says CACHE_BACKEND=dax
 * (`documentClientForReads`): call at module load, like the document client.
 */
export async function openProducts(options: Omit<ProductsOptions, 'reads'>): Promise<Products> {
  return createProducts({ ...options, reads: await documentClientForReads(options.db, cacheBackendFromEnv()) });
}

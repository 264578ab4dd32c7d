/**
 * DynamoDB table declarations: the one place that says which tables exist,
 * their keys, indexes, streams and TTL. The CDKTF stacks provision from this,
 * the local runtime creates DynamoDB Local tables from it, and functions get
 * each table's physical name through the environment variable named here.
 */

export type AttributeType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface GlobalSecondaryIndex {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** ALL keeps resolvers free of follow-up GetItems when reading from the index. */
  readonly projection: 'ALL' | 'KEYS_ONLY';
}

/** Entities with a cache policy; `entityCache(entity)` in lib/cache/ serves them. */
export type CacheEntity = 'product';

/**
 * How a table's items are cached (lib/cache/, README "Caching"): declared once,
 * next to the table. Entries are versioned by the item's `version` attribute,
 * which every write of the table must bump.
 */
export interface CachePolicy {
  readonly entity: CacheEntity;
  /** Prefix of every key; bump its `v1` when the cached shape changes, so old entries are never read. */
  readonly keyPrefix: string;
  /** Lifetime of an entry: the backstop bound, since nothing cached outlives it whatever else fails. */
  readonly ttlSeconds: number;
  /** Lifetime of a "no such item" entry; 0 caches no absence. */
  readonly negativeTtlSeconds: number;
  /** An item whose cached form is larger is not cached: it is read from DynamoDB every time. */
  readonly maxValueBytes: number;
  /**
   * The staleness bound. A write through the API is written through (or fenced off) before
   * the mutation answers, so reads after it never see the old value. Any other write (a
   * script, the console, a write-through that failed while the cache was unreachable) is
   * visible within this many milliseconds: the stream function puts the new image
   * (its `freshnessBoundSeconds` must not exceed it); in DAX mode, the cluster's item TTL must not.
   */
  readonly maxStalenessMs: number;
  /**
   * List pages of the table's main query (e.g. `products(category)`), cached as ids plus
   * nextToken and resolved through the entity cache, so they never carry stale item fields.
   * Keyed by partition + limit + token; a write that adds an item to a partition drops its
   * pages; `ttlSeconds` bounds membership staleness otherwise (GSI reads are eventual anyway).
   */
  readonly pages?: { readonly keyPrefix: string; readonly ttlSeconds: number };
}

export interface TableDeclaration {
  /** Logical name, also the suffix of the physical table name. */
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalSecondaryIndexes: readonly GlobalSecondaryIndex[];
  /** Stream view type; the stream function (`resolvers/stream`, declared event sources) needs both images. */
  readonly stream?: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'KEYS_ONLY';
  /** Attribute holding an epoch-seconds expiry, if items expire. */
  readonly ttlAttribute?: string;
  /** Read caching of this table's items, if any. */
  readonly cache?: CachePolicy;
}

export const tables = {
  products: {
    name: 'products',
    partitionKey: { name: 'id', type: 'S' },
    globalSecondaryIndexes: [
      {
        name: 'byCategory',
        partitionKey: { name: 'category', type: 'S' },
        sortKey: { name: 'createdAt', type: 'S' },
        projection: 'ALL',
      },
    ],
    stream: 'NEW_AND_OLD_IMAGES',
    cache: {
      entity: 'product',
      keyPrefix: 'product:v1:',
      ttlSeconds: 300,
      negativeTtlSeconds: 30,
      maxValueBytes: 32_768,
      maxStalenessMs: 10_000,
      pages: { keyPrefix: 'products-page:v1:', ttlSeconds: 10 },
    },
  },
  orders: {
    name: 'orders',
    partitionKey: { name: 'id', type: 'S' },
    globalSecondaryIndexes: [
      {
        name: 'byCustomer',
        partitionKey: { name: 'customerId', type: 'S' },
        sortKey: { name: 'createdAt', type: 'S' },
        projection: 'ALL',
      },
    ],
    stream: 'NEW_AND_OLD_IMAGES',
  },
  reviews: {
    name: 'reviews',
    partitionKey: { name: 'productId', type: 'S' },
    sortKey: { name: 'id', type: 'S' },
    globalSecondaryIndexes: [],
    stream: 'NEW_AND_OLD_IMAGES',
  },
} as const satisfies Record<string, TableDeclaration>;

export type TableName = keyof typeof tables;

export const tableNames = Object.keys(tables) as TableName[];

/** Environment variable through which a function learns a table's physical name. */
export function tableEnvVar(table: TableName): string {
  return `TABLE_${table.toUpperCase()}`;
}

/** Physical table name for a deployment prefix, e.g. `storefront-dev-products`. */
export function physicalTableName(prefix: string, table: TableName): string {
  return `${prefix}-${tables[table].name}`;
}

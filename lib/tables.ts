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

export interface TableDeclaration {
  /** Logical name, also the suffix of the physical table name. */
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalSecondaryIndexes: readonly GlobalSecondaryIndex[];
  /** Stream view type; the cache-coherence function (later) needs both images. */
  readonly stream?: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'KEYS_ONLY';
  /** Attribute holding an epoch-seconds expiry, if items expire. */
  readonly ttlAttribute?: string;
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

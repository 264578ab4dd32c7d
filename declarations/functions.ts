import type { Resolvers } from '../generated/graphql.js';
import type { TableName } from './tables.js';

/**
 * The function map: which Lambda function serves which `Type.field`, with the
 * tables it may touch and its sizing, plus the API's Lambda authorizer and the
 * stream function with its event sources (DynamoDB streams). Declared once;
 * the local runtime routes fields and runs event source mappings from it, and
 * the stacks create functions, data sources, resolvers, IAM grants and
 * environment variables from it.
 */

type ObjectTypeName = {
  [T in keyof Resolvers & string]: NonNullable<Resolvers[T]> extends { serialize: unknown } ? never : T;
}[keyof Resolvers & string];

/** `Type.field` for every field of the schema's object types; a typo fails `tsc`. */
export type FieldCoordinate = {
  [T in ObjectTypeName]: `${T}.${keyof NonNullable<Resolvers[T]> & string}`;
}[ObjectTypeName];

export interface FieldRoute {
  /** Set for fields AppSync resolves with BatchInvoke, e.g. a field on every item of a list. */
  readonly maxBatchSize?: number;
  /**
   * AppSync's per-resolver cache for this field (used where an environment's
   * `api.cache.behavior` is `PER_RESOLVER_CACHING`). AppSync expires an entry by
   * TTL only, so the checker keeps `ttlSeconds` within the staleness bound of
   * the cached tables the serving function reads (declarations/tables.ts).
   */
  readonly cachingConfig?: FieldCachingConfig;
}

/** A cached field: how long a result lives and what it is keyed on. */
export interface FieldCachingConfig {
  /** AppSync accepts 1 to 3,600. */
  readonly ttlSeconds: number;
  /**
   * `$context.arguments.<argument>`, `$context.source.<field>` or
   * `$context.identity.<attribute>`. Every argument of the field must be a key:
   * an argument left out would let different arguments share one cached result.
   * Name an identity attribute when the result depends on who asks.
   */
  readonly cachingKeys: readonly string[];
}

export type TableAccess = 'read' | 'readwrite';

/** An environment variable whose value is deployment data, never code (see `parameters`). */
export interface FunctionParameter {
  /** What the value holds; becomes the Terraform variable's description. */
  readonly description: string;
}

interface FunctionBase {
  readonly description: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Upper bound on concurrent execution environments (reserved concurrency in AWS). */
  readonly reservedConcurrency?: number;
  /**
   * Variables the function reads whose values differ per deployment (e.g.
   * credentials hashes). Only their existence is declared here: each stack
   * takes the values as Terraform variables and the local runtime supplies its
   * own, so no value is ever written in code.
   */
  readonly parameters?: Readonly<Record<string, FunctionParameter>>;
}

/** A direct Lambda resolver: AppSync invokes it for the fields it routes (one data source, one resolver per field). */
export interface ResolverFunctionDeclaration extends FunctionBase {
  readonly kind: 'resolver';
  readonly tables: Partial<Record<TableName, TableAccess>>;
  readonly fields: Partial<Record<FieldCoordinate, FieldRoute>>;
}

/**
 * AppSync's AWS_LAMBDA authorizer (named by `declarations/api.ts`): invoked per request
 * before any field, it serves no field, so it gets no data source or resolver,
 * and it may touch no table (the `never` makes any table grant a type error).
 */
export interface AuthorizerFunctionDeclaration extends FunctionBase {
  readonly kind: 'authorizer';
  readonly tables: Partial<Record<TableName, never>>;
}

/**
 * One DynamoDB stream feeding a stream function: the parameters of Lambda's
 * event source mapping (CreateEventSourceMapping, same names in camelCase), so
 * the stacks provision the mapping and its dead-letter queue, and the local
 * runtime (`local/streams/`) emulates it, from the same values.
 */
export interface StreamEventSource {
  /** The table whose stream is read; it must declare a stream in `declarations/tables.ts`. */
  readonly table: TableName;
  /** Where reading starts when the mapping is created: TRIM_HORIZON (oldest retained record) or LATEST. */
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** Most records per invocation (Lambda: 1 to 10,000). */
  readonly batchSize: number;
  /** How long to gather records before invoking with fewer than `batchSize` (Lambda: 0 to 300). */
  readonly maximumBatchingWindowInSeconds: number;
  /** Retries of a failing batch before its records go to the dead letters (Lambda: -1 = until the records expire, else 0 to 10,000). */
  readonly maximumRetryAttempts: number;
  /** Split a batch in two when the function errors, to isolate a poison record. */
  readonly bisectBatchOnFunctionError: boolean;
  /** `ReportBatchItemFailures`: the function answers `{ batchItemFailures }` and only the failed part is retried. */
  readonly functionResponseTypes: readonly 'ReportBatchItemFailures'[];
  /**
   * Send what exhausts its retries to a dead-letter destination (an SQS queue
   * on AWS, the on-failure destination; a local store locally) instead of
   * dropping it. The message describes the batch (shard, sequence range), not its data.
   */
  readonly deadLetter: boolean;
}

/**
 * A function fed by DynamoDB streams through event source mappings, not by
 * AppSync: it serves no field. `tables` is the data it reads and writes like
 * any function; reading the streams of `eventSources` is granted separately.
 */
export interface StreamFunctionDeclaration extends FunctionBase {
  readonly kind: 'stream';
  readonly tables: Partial<Record<TableName, TableAccess>>;
  readonly eventSources: readonly StreamEventSource[];
  /**
   * The promise made about lag: a committed write's effects (refreshed cache
   * entry, rating summary) are visible within this many seconds, as long as no
   * record ahead of it in its shard is failing (a failing record holds its
   * shard back through its retries, as on Lambda).
   */
  readonly freshnessBoundSeconds: number;
}

export type FunctionDeclaration = ResolverFunctionDeclaration | AuthorizerFunctionDeclaration | StreamFunctionDeclaration;

export type FunctionKind = FunctionDeclaration['kind'];

/** Event source settings shared by the stream function's tables (see StreamEventSource). */
const streamSourceDefaults = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 100,
  // Lambda's default: invoke with what each poll (four a second per shard) found, no extra wait.
  // Freshness is the point; the polls themselves batch bursts, so invocations stay at most 4/s per shard.
  maximumBatchingWindowInSeconds: 0,
  maximumRetryAttempts: 3,
  bisectBatchOnFunctionError: true,
  functionResponseTypes: ['ReportBatchItemFailures'],
  deadLetter: true,
} as const satisfies Omit<StreamEventSource, 'table'>;

export const functions = {
  catalog: {
    kind: 'resolver',
    description: 'Products: reads, catalog writes, stock, and the per-item product of order lines',
    entry: 'resolvers/catalog/index.ts',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: { products: 'readwrite' },
    fields: {
      // The hottest read: a product page's first query. Half the products' 10 s staleness bound, keyed on the id
      // alone: the resolver's answer does not depend on who asks (a partner's `deniedFields` hide `stock` after it,
      // per request). Writes to a product should evict it (stacks/README.md, "Resolver caching").
      'Query.product': { cachingConfig: { ttlSeconds: 5, cachingKeys: ['$context.arguments.id'] } },
      'Query.products': {},
      'Mutation.createProduct': {},
      'Mutation.updateProduct': {},
      'Mutation.adjustStock': {},
      'OrderItem.product': { maxBatchSize: 100 },
    },
  },
  orders: {
    kind: 'resolver',
    description: 'Orders: placement and cancellation as DynamoDB transactions with stock, status, reads',
    entry: 'resolvers/orders/index.ts',
    memoryMb: 512,
    timeoutSeconds: 15,
    tables: { orders: 'readwrite', products: 'readwrite' },
    fields: {
      'Query.order': {},
      'Query.myOrders': {},
      'Mutation.placeOrder': {},
      'Mutation.cancelOrder': {},
      'Mutation.updateOrderStatus': {},
      // Runs at subscribe time: a customer may only follow their own orders.
      'Subscription.onOrderStatusChanged': {},
    },
  },
  reviews: {
    kind: 'resolver',
    description: 'Reviews: listing per product and adding a review (the stream function then updates the rating summary)',
    entry: 'resolvers/reviews/index.ts',
    memoryMb: 256,
    timeoutSeconds: 10,
    // products: only a ConditionCheck that the product exists; its counters are the stream function's.
    tables: { reviews: 'readwrite', products: 'read' },
    fields: {
      'Product.reviews': {},
      'Mutation.addReview': {},
    },
  },
  authorizer: {
    kind: 'authorizer',
    description: 'AWS_LAMBDA authorizer: partner integration tokens (partner-<id>.<secret>) checked against their SHA-256 hashes',
    entry: 'resolvers/authorizer/index.ts',
    // Light work on the path of every uncached partner request; AppSync allows an authorizer 10 seconds at most.
    memoryMb: 256,
    timeoutSeconds: 5,
    tables: {},
    parameters: {
      PARTNER_TOKENS_SHA256: {
        description:
          "Partners allowed in: id:sha256hex pairs (SHA-256 of each partner's token secret), comma-separated; empty admits no partner",
      },
    },
  },
  stream: {
    kind: 'stream',
    description:
      'DynamoDB streams: keeps cached products coherent with every write (API or not) and maintains rating summaries from new reviews',
    entry: 'resolvers/stream/index.ts',
    memoryMb: 256,
    timeoutSeconds: 30,
    tables: { products: 'readwrite', reviews: 'readwrite' },
    // TRIM_HORIZON: nothing written before the mapping first reads is skipped (the handler is
    // idempotent, so a replay costs time, never correctness).
    eventSources: [
      { table: 'products', ...streamSourceDefaults },
      { table: 'reviews', ...streamSourceDefaults },
    ],
    freshnessBoundSeconds: 10,
  },
} as const satisfies Record<string, FunctionDeclaration>;

export type FunctionName = keyof typeof functions;

type FunctionNameOfKind<K extends FunctionKind> = {
  [N in FunctionName]: (typeof functions)[N]['kind'] extends K ? N : never;
}[FunctionName];

export type ResolverFunctionName = FunctionNameOfKind<'resolver'>;
export type AuthorizerFunctionName = FunctionNameOfKind<'authorizer'>;
export type StreamFunctionName = FunctionNameOfKind<'stream'>;

export const functionNames = Object.keys(functions) as FunctionName[];

export function isResolverFunction(name: FunctionName): name is ResolverFunctionName {
  return functions[name].kind === 'resolver';
}

export function isStreamFunction(name: FunctionName): name is StreamFunctionName {
  return functions[name].kind === 'stream';
}

export interface ResolvedField {
  readonly functionName: ResolverFunctionName;
  readonly typeName: string;
  readonly fieldName: string;
  readonly maxBatchSize: number | undefined;
}

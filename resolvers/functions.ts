import type { Resolvers } from '../generated/graphql.js';
import type { TableName } from '../lib/tables.js';

/**
 * The function map: which Lambda function serves which `Type.field`, with the
 * tables it may touch and its sizing. Declared once; the local runtime routes
 * fields from it and the stacks create functions, data sources, resolvers,
 * IAM grants and environment variables from it.
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
}

export type TableAccess = 'read' | 'readwrite';

export interface FunctionDeclaration {
  readonly description: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Upper bound on concurrent execution environments (reserved concurrency in AWS). */
  readonly reservedConcurrency?: number;
  readonly tables: Partial<Record<TableName, TableAccess>>;
  readonly fields: Partial<Record<FieldCoordinate, FieldRoute>>;
}

export const functions = {
  catalog: {
    description: 'Products: reads, catalog writes, stock, and the per-item product of order lines',
    entry: 'resolvers/catalog/index.ts',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: { products: 'readwrite' },
    fields: {
      'Query.product': {},
      'Query.products': {},
      'Mutation.createProduct': {},
      'Mutation.updateProduct': {},
      'Mutation.adjustStock': {},
      'OrderItem.product': { maxBatchSize: 100 },
    },
  },
  orders: {
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
    },
  },
  reviews: {
    description: 'Reviews: listing per product and adding a review with its rating summary',
    entry: 'resolvers/reviews/index.ts',
    memoryMb: 256,
    timeoutSeconds: 10,
    tables: { reviews: 'readwrite', products: 'readwrite' },
    fields: {
      'Product.reviews': {},
      'Mutation.addReview': {},
    },
  },
} as const satisfies Record<string, FunctionDeclaration>;

export type FunctionName = keyof typeof functions;

export const functionNames = Object.keys(functions) as FunctionName[];

export interface ResolvedField {
  readonly functionName: FunctionName;
  readonly typeName: string;
  readonly fieldName: string;
  readonly maxBatchSize: number | undefined;
}

/** Every routed field, flattened; a field served by two functions is a declaration error. */
export function fieldRoutes(): Map<string, ResolvedField> {
  const routes = new Map<string, ResolvedField>();
  for (const functionName of functionNames) {
    const fields: Partial<Record<string, FieldRoute>> = functions[functionName].fields;
    for (const [coordinate, route] of Object.entries(fields)) {
      const previous = routes.get(coordinate);
      if (previous) {
        throw new Error(`${coordinate} is served by both ${previous.functionName} and ${functionName}`);
      }
      const [typeName, fieldName] = coordinate.split('.') as [string, string];
      routes.set(coordinate, { functionName, typeName, fieldName, maxBatchSize: route?.maxBatchSize });
    }
  }
  return routes;
}

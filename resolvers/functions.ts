import type { Resolvers } from '../generated/graphql.js';
import type { TableName } from '../lib/tables.js';

/**
 * The function map: which Lambda function serves which `Type.field`, with the
 * tables it may touch and its sizing, plus the API's Lambda authorizer.
 * Declared once; the local runtime routes fields from it and the stacks create
 * functions, data sources, resolvers, IAM grants and environment variables from it.
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
 * AppSync's AWS_LAMBDA authorizer (named by `lib/api.ts`): invoked per request
 * before any field, it serves no field, so it gets no data source or resolver,
 * and it may touch no table (the `never` makes any table grant a type error).
 */
export interface AuthorizerFunctionDeclaration extends FunctionBase {
  readonly kind: 'authorizer';
  readonly tables: Partial<Record<TableName, never>>;
}

export type FunctionDeclaration = ResolverFunctionDeclaration | AuthorizerFunctionDeclaration;

export type FunctionKind = FunctionDeclaration['kind'];

export const functions = {
  catalog: {
    kind: 'resolver',
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
        description: 'Partners allowed in: id:sha256hex pairs (SHA-256 of each partner\'s token secret), comma-separated; empty admits no partner',
      },
    },
  },
} as const satisfies Record<string, FunctionDeclaration>;

export type FunctionName = keyof typeof functions;

type FunctionNameOfKind<K extends FunctionKind> = {
  [N in FunctionName]: (typeof functions)[N]['kind'] extends K ? N : never;
}[FunctionName];

export type ResolverFunctionName = FunctionNameOfKind<'resolver'>;
export type AuthorizerFunctionName = FunctionNameOfKind<'authorizer'>;

export const functionNames = Object.keys(functions) as FunctionName[];

export function isResolverFunction(name: FunctionName): name is ResolverFunctionName {
  return functions[name].kind === 'resolver';
}

export interface ResolvedField {
  readonly functionName: ResolverFunctionName;
  readonly typeName: string;
  readonly fieldName: string;
  readonly maxBatchSize: number | undefined;
}

/** Every routed field, flattened; a field served by two functions is a declaration error. Authorizers route none. */
export function fieldRoutes(): Map<string, ResolvedField> {
  const routes = new Map<string, ResolvedField>();
  for (const functionName of functionNames.filter(isResolverFunction)) {
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

import type { TableName } from '../declarations/tables.js';
import { DEFAULT_PAGE_SIZE } from '../lib/validation.js';
import type { FieldCoordinate } from '../declarations/functions.js';

/**
 * The workload the cost model prices: every number here is an assumption
 * about traffic, stated once, with its reason. What the code already says
 * (which function serves a field, batch sizes, memory, GSIs, the
 * authorizer's cache TTL, which mutations feed which subscription) is read
 * from the declarations, not repeated here.
 */

export type ReadConsistency = 'eventual' | 'strong' | 'transactional';

/** Items one resolution of a field reads, as DynamoDB bills them. */
export interface ItemRead {
  readonly table: TableName;
  /** Query bills the total size of what it returns; GetItem/BatchGetItem bill each item on its own. */
  readonly api: 'GetItem' | 'BatchGetItem' | 'Query';
  readonly items: number;
  readonly itemBytes: number;
  readonly consistency: ReadConsistency;
}

/** Items one resolution of a field writes (Put, Update or a transaction's element). */
export interface ItemWrite {
  readonly table: TableName;
  readonly items: number;
  readonly itemBytes: number;
  readonly transactional: boolean;
  /** A transaction's ConditionCheck: billed like a write, but changes nothing (no index write, no stream record). */
  readonly conditionCheck?: boolean;
}

export interface FieldAccess {
  readonly reads?: readonly ItemRead[];
  readonly writes?: readonly ItemWrite[];
}

export interface RealtimeWorkload {
  /** Sessions that open a real-time connection, per GraphQL request. */
  readonly sessionsPerRequest: number;
  readonly minutesPerSession: number;
  /** Subscriptions each session starts, by subscription field (a routed one invokes its function at subscribe time). */
  readonly subscriptionsPerSession: Readonly<Partial<Record<FieldCoordinate, number>>>;
  /** Subscribers reached by one triggering mutation, by subscription field. */
  readonly subscribersPerEvent: Readonly<Partial<Record<FieldCoordinate, number>>>;
}

/** How often a function that serves no field runs. */
export type OtherInvocations =
  | { readonly perRequest: number }
  /** A stream consumer: one invocation per `recordsPerInvocation` records written to these tables' streams. */
  | { readonly streamRecordsOf: readonly TableName[]; readonly recordsPerInvocation: number };

export interface Workload {
  /** Share of GraphQL requests per client operation of operations/*.graphql; sums to 1. */
  readonly mix: Readonly<Record<string, number>>;
  /** Average length of each list field an operation traverses (`Type.field` → items). */
  readonly listSizes: Readonly<Record<string, number>>;
  /** DynamoDB reads and writes of one resolution of each routed field; `{}` for none. */
  readonly fieldAccess: Readonly<Partial<Record<FieldCoordinate, FieldAccess>>>;
  /** Partner traffic through the Lambda authorizer (AWS_LAMBDA mode). */
  readonly partners: { readonly requestShare: number; readonly activeTokens: number };
  readonly realtime: RealtimeWorkload;
  /** Functions no field routes to, other than the authorizer (e.g. stream processing), by name. */
  readonly otherInvocations: Readonly<Record<string, OtherInvocations>>;
}

/** Typical stored sizes (attribute names count): a product with a short description, a 3-line order, a short review. */
const PRODUCT_BYTES = 800;
const ORDER_BYTES = 600;
const REVIEW_BYTES = 500;
const ORDER_LINES = 3;

const getOrderStrongly: ItemRead = { table: 'orders', api: 'GetItem', items: 1, itemBytes: ORDER_BYTES, consistency: 'strong' };
const productStockUpdates: ItemWrite = { table: 'products', items: ORDER_LINES, itemBytes: PRODUCT_BYTES, transactional: true };

export const defaultWorkload: Workload = {
  // A browsing-heavy storefront: about 1 request in 30 places an order.
  mix: {
    GetProduct: 0.4,
    ListProducts: 0.25,
    ProductWithReviews: 0.15,
    GetOrder: 0.03,
    GetOrderWithProducts: 0.04,
    MyOrders: 0.06,
    PlaceOrder: 0.03,
    CancelOrder: 0.005,
    UpdateOrderStatus: 0.015,
    AddReview: 0.01,
    CreateProduct: 0.002,
    UpdateProduct: 0.003,
    AdjustStock: 0.005,
  },
  listSizes: {
    // Clients page with the default size.
    'ProductConnection.items': DEFAULT_PAGE_SIZE,
    // Most products have fewer reviews than a page; a customer has a handful of orders.
    'ReviewConnection.items': 5,
    'OrderConnection.items': 5,
    'Order.items': ORDER_LINES,
  },
  fieldAccess: {
    'Query.product': { reads: [{ table: 'products', api: 'GetItem', items: 1, itemBytes: PRODUCT_BYTES, consistency: 'eventual' }] },
    'Query.products': {
      reads: [{ table: 'products', api: 'Query', items: DEFAULT_PAGE_SIZE, itemBytes: PRODUCT_BYTES, consistency: 'eventual' }],
    },
    // Per order line; the BatchInvoke's BatchGetItem bills each item like a GetItem.
    'OrderItem.product': {
      reads: [{ table: 'products', api: 'BatchGetItem', items: 1, itemBytes: PRODUCT_BYTES, consistency: 'eventual' }],
    },
    'Mutation.createProduct': { writes: [{ table: 'products', items: 1, itemBytes: PRODUCT_BYTES, transactional: false }] },
    'Mutation.updateProduct': { writes: [{ table: 'products', items: 1, itemBytes: PRODUCT_BYTES, transactional: false }] },
    'Mutation.adjustStock': { writes: [{ table: 'products', items: 1, itemBytes: PRODUCT_BYTES, transactional: false }] },
    'Query.order': { reads: [getOrderStrongly] },
    'Query.myOrders': { reads: [{ table: 'orders', api: 'Query', items: 5, itemBytes: ORDER_BYTES, consistency: 'eventual' }] },
    // Idempotency check (a miss still bills), the priced products, the transaction, the read-back.
    'Mutation.placeOrder': {
      reads: [
        getOrderStrongly,
        { table: 'products', api: 'BatchGetItem', items: ORDER_LINES, itemBytes: PRODUCT_BYTES, consistency: 'eventual' },
        getOrderStrongly,
      ],
      writes: [{ table: 'orders', items: 1, itemBytes: ORDER_BYTES, transactional: true }, productStockUpdates],
    },
    'Mutation.cancelOrder': {
      reads: [getOrderStrongly],
      writes: [{ table: 'orders', items: 1, itemBytes: ORDER_BYTES, transactional: true }, productStockUpdates],
    },
    'Mutation.updateOrderStatus': {
      reads: [getOrderStrongly],
      writes: [{ table: 'orders', items: 1, itemBytes: ORDER_BYTES, transactional: true }],
    },
    'Subscription.onOrderStatusChanged': {},
    'Product.reviews': { reads: [{ table: 'reviews', api: 'Query', items: 5, itemBytes: REVIEW_BYTES, consistency: 'eventual' }] },
    // The review, and a ConditionCheck that its product exists (the rating summary is the stream function's).
    'Mutation.addReview': {
      writes: [
        { table: 'reviews', items: 1, itemBytes: REVIEW_BYTES, transactional: true },
        { table: 'products', items: 1, itemBytes: PRODUCT_BYTES, transactional: true, conditionCheck: true },
      ],
    },
  },
  // 5% of requests come from partner integrations, through 20 tokens in use.
  partners: { requestShare: 0.05, activeTokens: 20 },
  realtime: {
    // 1 request in 50 comes from a session that follows its orders for a quarter of an hour.
    sessionsPerRequest: 0.02,
    minutesPerSession: 15,
    subscriptionsPerSession: { 'Subscription.onOrderStatusChanged': 1 },
    subscribersPerEvent: { 'Subscription.onOrderStatusChanged': 1, 'Subscription.onProductUpdated': 2, 'Subscription.onReviewAdded': 1 },
  },
  otherInvocations: {
    // A one-second batching window at a few records per second: about one record per batch.
    stream: { streamRecordsOf: ['products', 'reviews'], recordsPerInvocation: 1 },
  },
};

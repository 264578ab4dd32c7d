import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AppSyncIdentity } from 'aws-lambda';
import { MAX_DISTINCT_PRODUCTS, MAX_ORDER_LINES, MAX_QUANTITY } from '../../declarations/bounds.js';
import type { SubscriptionFilters } from '../../lib/appsync/subscription-filter.js';
import { createDocumentClient, tableName } from '../../lib/dynamodb.js';
import { DomainError, notFound, validationError } from '../../lib/errors.js';
import { callerSub, isPrivileged } from '../../lib/identity.js';
import { toOrder, type OrderItemModel, type OrderRecord } from '../../lib/model.js';
import { decodeNextToken, encodeNextToken } from '../../lib/pagination.js';
import { createProducts } from '../../lib/products/index.js';
import { createResolverHandler } from '../../lib/resolver-handler.js';
import { optionalEmail, orderTotal, pageSize, requireId, requireInt, requireToken } from '../../lib/validation.js';
import { functions } from '../../declarations/functions.js';
import type { OrderItemInput, OrderStatus } from '../../generated/graphql.js';

const db = createDocumentClient();
const ORDERS = tableName('orders');
// Stock changes go through the products module: it builds their transaction actions and, once a
// transaction commits, reads the products back and writes them through the cache (lib/products/).
const products = createProducts({ db });

const MAX_TRANSACTION_ATTEMPTS = 10;
const EXPECTED_CANCELLATIONS = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);

const NEXT_STATUS: Partial<Record<OrderStatus, OrderStatus>> = { PLACED: 'PAID', PAID: 'SHIPPED', SHIPPED: 'DELIVERED' };
const CANCELLABLE: readonly OrderStatus[] = ['PLACED', 'PAID'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The order id is derived from (customer, clientToken): a replay maps to the
 * same item, and the transaction's `attribute_not_exists(id)` makes placement
 * idempotent without a separate idempotency store.
 */
export function orderIdFor(customerId: string, clientToken: string): string {
  return createHash('sha256').update(`${customerId}\u0000${clientToken}`).digest('hex').slice(0, 32);
}

type Line = { productId: string; quantity: number };

/** Validates the order lines as the client sent them (kept in that order on the order). */
export function validateLines(items: readonly OrderItemInput[]): Line[] {
  if (items.length === 0) throw validationError('An order needs at least one item', { field: 'items' });
  if (items.length > MAX_ORDER_LINES) throw validationError(`An order may hold at most ${MAX_ORDER_LINES} items`, { field: 'items' });
  return items.map((line, index) => ({
    productId: requireId(`items[${index}].productId`, line.productId),
    quantity: requireInt(`items[${index}].quantity`, line.quantity, 1, MAX_QUANTITY),
  }));
}

/** One stock decrement per product: a transaction may touch an item only once. */
export function stockDemand(lines: readonly Line[]): Line[] {
  const merged = new Map<string, number>();
  for (const line of lines) merged.set(line.productId, (merged.get(line.productId) ?? 0) + line.quantity);
  if (merged.size > MAX_DISTINCT_PRODUCTS) {
    throw validationError(`An order may hold at most ${MAX_DISTINCT_PRODUCTS} distinct products`, { field: 'items' });
  }
  return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}

async function getOrder(id: string): Promise<OrderRecord | undefined> {
  const { Item } = await db.send(new GetCommand({ TableName: ORDERS, Key: { id }, ConsistentRead: true }));
  return Item as OrderRecord | undefined;
}

async function getOwnedOrder(id: string, identity: AppSyncIdentity): Promise<OrderRecord> {
  const order = await getOrder(id);
  if (!order) throw notFound('Order', id);
  if (!isPrivileged(identity) && order.customerId !== callerSub(identity)) {
    // Same answer as a missing order: do not reveal other customers' order ids.
    throw notFound('Order', id);
  }
  return order;
}

const sameLines = (a: readonly OrderItemModel[], b: readonly Line[]): boolean =>
  a.length === b.length && a.every((line, i) => line.productId === b[i]?.productId && line.quantity === b[i]?.quantity);

function replay(existing: OrderRecord, lines: readonly Line[]): OrderRecord {
  if (!sameLines(existing.items, lines)) {
    throw new DomainError('IdempotencyConflict', 'clientToken was already used for a different order', { orderId: existing.id });
  }
  return existing;
}

/**
 * Runs a transaction, retrying only DynamoDB's TransactionConflict (another
 * transaction touched the same items); the SDK does not retry it. Any other
 * cancellation is handed to `onCancelled` with the per-action reasons.
 */
async function transact(
  input: TransactWriteCommandInput,
  onCancelled: (reasons: Array<string | undefined>) => Promise<never>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.send(new TransactWriteCommand(input));
      return;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = (error.CancellationReasons ?? []).map((reason) => reason.Code);
      // Anything but a failed condition or a conflict (e.g. DynamoDB's ValidationError) is not the
      // caller's doing: rethrown as is, it is logged in full and reaches the client as an internal error.
      if (reasons.some((code) => code !== undefined && !EXPECTED_CANCELLATIONS.has(code))) throw error;
      const conflictOnly = reasons.every((code) => code === 'None' || code === 'TransactionConflict' || code === undefined);
      if (conflictOnly && attempt < MAX_TRANSACTION_ATTEMPTS) {
        await sleep(Math.random() * 10 * 2 ** Math.min(attempt, 6));
        continue;
      }
      if (conflictOnly) throw new DomainError('ConditionFailed', 'The order could not be committed: too much contention, retry');
      return onCancelled(reasons);
    }
  }
}

/** Moves an order to `next` only if it is still in the status it was read with. */
function statusTransition(order: OrderRecord, next: OrderStatus, now: string) {
  return {
    Update: {
      TableName: ORDERS,
      Key: { id: order.id },
      UpdateExpression: 'SET #status = :next, updatedAt = :now',
      ConditionExpression: '#status = :current',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':next': next, ':now': now, ':current': order.status },
    },
  };
}

export const handler = createResolverHandler(functions.orders, {
  'Query.order': async ({ id }, event) => {
    requireId('id', id);
    try {
      return toOrder(await getOwnedOrder(id, event.identity));
    } catch (error) {
      if (error instanceof DomainError && error.errorType === 'NotFound') return null;
      throw error;
    }
  },

  'Query.myOrders': async ({ limit, nextToken }, event) => {
    const customerId = callerSub(event.identity);
    const { Items, LastEvaluatedKey } = await db.send(
      new QueryCommand({
        TableName: ORDERS,
        IndexName: 'byCustomer',
        KeyConditionExpression: 'customerId = :customerId',
        ExpressionAttributeValues: { ':customerId': customerId },
        ScanIndexForward: false,
        Limit: pageSize(limit),
        ExclusiveStartKey: decodeNextToken(nextToken, {
          attributes: ['id', 'customerId', 'createdAt'],
          partition: { name: 'customerId', value: customerId },
        }),
      }),
    );
    return { items: ((Items ?? []) as OrderRecord[]).map(toOrder), nextToken: encodeNextToken(LastEvaluatedKey) };
  },

  'Mutation.placeOrder': async ({ input }, event) => {
    const customerId = callerSub(event.identity);
    const clientToken = requireToken('clientToken', input.clientToken);
    const lines = validateLines(input.items);
    const demand = stockDemand(lines);
    const contactEmail = optionalEmail('contactEmail', input.contactEmail);
    const id = orderIdFor(customerId, clientToken);

    const existing = await getOrder(id);
    if (existing) return toOrder(replay(existing, lines));

    const read = await products.getManyUncached(lines.map((l) => l.productId));
    const missing = lines.find((line) => !read.has(line.productId));
    if (missing) throw notFound('Product', missing.productId);
    const priced = demand.map((line) => ({ ...line, product: read.get(line.productId)! }));
    const currencies = new Set(priced.map((line) => line.product.currency));
    if (currencies.size > 1) throw validationError('All items of an order must share one currency', { field: 'items' });
    const items = lines.map((line) => ({
      productId: line.productId,
      quantity: line.quantity,
      unitPriceCents: read.get(line.productId)!.priceCents,
    }));
    const totalCents = orderTotal(items);
    const now = new Date().toISOString();
    // Conditioned on the stock and on the price read above, so the order charges that price;
    // refused at once (InsufficientStock) when a product as read has too little.
    const take = products.takeStock(priced, now);

    const order: OrderRecord = {
      id,
      customerId,
      status: 'PLACED',
      items,
      totalCents,
      currency: priced[0]!.product.currency,
      clientToken,
      contactEmail,
      createdAt: now,
      updatedAt: now,
    };

    await take
      .commit((stockActions) =>
        transact(
          {
            TransactItems: [{ Put: { TableName: ORDERS, Item: order, ConditionExpression: 'attribute_not_exists(id)' } }, ...stockActions],
          },
          async (reasons) => {
            if (reasons[0] === 'ConditionalCheckFailed') {
              const placed = await getOrder(id);
              if (placed) return Promise.reject(new ReplayedOrder(replay(placed, lines)));
            }
            const failedLine = reasons.slice(1).indexOf('ConditionalCheckFailed');
            if (failedLine >= 0) throw await take.explain(failedLine);
            throw new DomainError('ConditionFailed', 'The order could not be committed; read it and retry');
          },
        ),
      )
      .catch((error: unknown) => {
        // A concurrent identical placement committed first: its order is answered below.
        if (error instanceof ReplayedOrder) return;
        throw error;
      });
    const stored = await getOrder(id);
    return toOrder(stored ?? order);
  },

  'Subscription.onOrderStatusChanged': ({ customerId }, event) => {
    if (!isPrivileged(event.identity) && callerSub(event.identity) !== customerId) {
      throw new DomainError('Unauthorized', 'You may only subscribe to your own orders');
    }
    return orderStatusFilters(customerId);
  },

  'Mutation.cancelOrder': async ({ id }, event) => {
    const order = await getOwnedOrder(requireId('id', id), event.identity);
    if (!CANCELLABLE.includes(order.status)) {
      throw new DomainError('InvalidState', `Order ${id} is ${order.status} and can no longer be cancelled`);
    }
    const now = new Date().toISOString();
    const restore = products.restoreStock(stockDemand(order.items), now);
    await restore.commit((stockActions) =>
      transact({ TransactItems: [statusTransition(order, 'CANCELLED', now), ...stockActions] }, async (reasons) => {
        const failedLine = reasons[0] === 'ConditionalCheckFailed' ? -1 : reasons.slice(1).indexOf('ConditionalCheckFailed');
        const error = failedLine >= 0 ? await restore.explain(failedLine) : undefined;
        if (error) throw error;
        throw new DomainError('ConditionFailed', `Order ${id} changed while it was being cancelled; read it and retry`);
      }),
    );
    return toOrder({ ...order, status: 'CANCELLED', updatedAt: now });
  },

  'Mutation.updateOrderStatus': async ({ id, status }, event) => {
    if (!isPrivileged(event.identity)) throw new DomainError('Unauthorized', 'Only administrators may change an order status');
    if (status === 'CANCELLED') throw validationError('Use cancelOrder to cancel an order: it restores stock', { field: 'status' });
    const order = await getOrder(requireId('id', id));
    if (!order) throw notFound('Order', id);
    if (NEXT_STATUS[order.status] !== status) {
      throw new DomainError('InvalidState', `Order ${id} cannot move from ${order.status} to ${status}`);
    }
    const now = new Date().toISOString();
    await transact(
      {
        TransactItems: [statusTransition(order, status, now)],
      },
      async () => {
        throw new DomainError('ConditionFailed', `Order ${id} changed concurrently; read it and retry`);
      },
    );
    return toOrder({ ...order, status, updatedAt: now });
  },
});

/**
 * The enhanced filters of onOrderStatusChanged: the customer's own orders
 * only. It restates AppSync's argument rule so that delivery does not hinge on
 * how AppSync combines argument filtering with an enhanced filter, and keys
 * invalidation on the same customer (a mutation's `invalidations` with payload
 * `{ customerId }` ends that customer's subscriptions).
 */
export function orderStatusFilters(customerId: string): SubscriptionFilters {
  const ownOrders = { customerId: { eq: customerId } };
  return { filter: ownOrders, invalidationFilter: ownOrders };
}

/** Signals that a concurrent identical placement won the race; its order is returned as a replay. */
class ReplayedOrder extends Error {
  constructor(readonly order: OrderRecord) {
    super('replayed');
  }
}

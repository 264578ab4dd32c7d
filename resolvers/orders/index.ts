import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AppSyncIdentity } from 'aws-lambda';
import { batchGetByKey } from '../../lib/batch-get.js';
import { MAX_DISTINCT_PRODUCTS, MAX_ORDER_LINES, MAX_QUANTITY, MAX_STOCK } from '../../declarations/bounds.js';
import { entityCache } from '../../lib/cache/index.js';
import { createDocumentClient, tableName } from '../../lib/dynamodb.js';
import { DomainError, notFound, validationError } from '../../lib/errors.js';
import { callerSub, isPrivileged } from '../../lib/identity.js';
import { toOrder, type OrderItemModel, type OrderRecord, type ProductItem } from '../../lib/model.js';
import { decodeNextToken, encodeNextToken } from '../../lib/pagination.js';
import { createResolverHandler } from '../../lib/resolver-handler.js';
import { optionalEmail, orderTotal, pageSize, requireId, requireInt, requireToken } from '../../lib/validation.js';
import { functions } from '../../declarations/functions.js';
import type { OrderItemInput, OrderStatus } from '../../generated/graphql.js';

const db = createDocumentClient();
const ORDERS = tableName('orders');
const PRODUCTS = tableName('products');
const products = entityCache<ProductItem>('product');

/**
 * Stock changes made by an order transaction reach the product cache before
 * the mutation answers. TransactWriteItems returns no items, so the products
 * are read back (consistently: at least the versions just committed) and
 * written through, version-checked like any put. Writing the new items rather
 * than dropping the entries keeps hot products cached, and leaves no empty key
 * for a lagging change feed to refill with an older image. If that read fails,
 * the entries are invalidated instead (fenced, so no earlier read refills them).
 */
async function writeThroughProducts(lines: readonly Line[]): Promise<void> {
  if (!products.enabled) return;
  const ids = lines.map((line) => line.productId);
  let current: Map<string, ProductItem>;
  try {
    current = await batchGetByKey<ProductItem>(db, PRODUCTS, 'id', ids, { consistentRead: true });
  } catch {
    await Promise.all(ids.map((id) => products.invalidate(id)));
    return;
  }
  await Promise.all(
    ids.map((id) => {
      const item = current.get(id);
      return item ? products.put(id, item) : products.invalidate(id);
    }),
  );
}

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
async function transact(input: TransactWriteCommandInput, onCancelled: (reasons: Array<string | undefined>) => Promise<never>): Promise<void> {
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

    const products = await batchGetByKey<ProductItem>(db, PRODUCTS, 'id', lines.map((l) => l.productId));
    const missing = lines.find((line) => !products.has(line.productId));
    if (missing) throw notFound('Product', missing.productId);
    const priced = demand.map((line) => ({ ...line, product: products.get(line.productId) as ProductItem }));
    const currencies = new Set(priced.map((line) => line.product.currency));
    if (currencies.size > 1) throw validationError('All items of an order must share one currency', { field: 'items' });
    const items = lines.map((line) => ({ productId: line.productId, quantity: line.quantity, unitPriceCents: products.get(line.productId)!.priceCents }));
    const totalCents = orderTotal(items);
    const short = priced.find((line) => line.product.stock < line.quantity);
    if (short) {
      throw new DomainError('InsufficientStock', `Product ${short.productId} has ${short.product.stock} in stock`, {
        productId: short.productId,
        stock: short.product.stock,
      });
    }

    const now = new Date().toISOString();
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

    await transact(
      {
        TransactItems: [
          { Put: { TableName: ORDERS, Item: order, ConditionExpression: 'attribute_not_exists(id)' } },
          // The price condition makes the order charge the price it read.
          ...priced.map((line) => ({
            Update: {
              TableName: PRODUCTS,
              Key: { id: line.productId },
              UpdateExpression: 'SET stock = stock - :quantity, version = version + :one, updatedAt = :now',
              ConditionExpression: 'attribute_exists(id) AND stock >= :quantity AND priceCents = :price',
              ExpressionAttributeValues: { ':quantity': line.quantity, ':one': 1, ':now': now, ':price': line.product.priceCents },
            },
          })),
        ],
      },
      async (reasons) => {
        if (reasons[0] === 'ConditionalCheckFailed') {
          const placed = await getOrder(id);
          if (placed) return Promise.reject(new ReplayedOrder(replay(placed, lines)));
        }
        const failedLine = reasons.slice(1).findIndex((code) => code === 'ConditionalCheckFailed');
        if (failedLine >= 0) {
          const line = priced[failedLine]!;
          const current = (await batchGetByKey<ProductItem>(db, PRODUCTS, 'id', [line.productId])).get(line.productId);
          if (!current) throw notFound('Product', line.productId);
          if (current.priceCents !== line.product.priceCents) {
            throw new DomainError('ConditionFailed', `The price of product ${line.productId} changed; review the order and retry`);
          }
          throw new DomainError('InsufficientStock', `Product ${line.productId} has ${current.stock} in stock`, {
            productId: line.productId,
            stock: current.stock,
          });
        }
        throw new DomainError('ConditionFailed', 'The order could not be committed; read it and retry');
      },
    ).then(
      () => writeThroughProducts(demand),
      (error: unknown) => {
        if (error instanceof ReplayedOrder) return;
        throw error;
      },
    );
    const stored = await getOrder(id);
    return toOrder(stored ?? order);
  },

  'Subscription.onOrderStatusChanged': ({ customerId }, event) => {
    if (!isPrivileged(event.identity) && callerSub(event.identity) !== customerId) {
      throw new DomainError('Unauthorized', 'You may only subscribe to your own orders');
    }
    return null;
  },

  'Mutation.cancelOrder': async ({ id }, event) => {
    const order = await getOwnedOrder(requireId('id', id), event.identity);
    if (!CANCELLABLE.includes(order.status)) {
      throw new DomainError('InvalidState', `Order ${id} is ${order.status} and can no longer be cancelled`);
    }
    const now = new Date().toISOString();
    const restock = stockDemand(order.items);
    await transact(
      {
        TransactItems: [
          statusTransition(order, 'CANCELLED', now),
          // Restoring stock must not carry it past MAX_STOCK (Product.stock is an Int); in the
          // condition, so concurrent restocks cannot cross it between a read and this write.
          ...restock.map((line) => ({
            Update: {
              TableName: PRODUCTS,
              Key: { id: line.productId },
              UpdateExpression: 'SET stock = stock + :quantity, version = version + :one, updatedAt = :now',
              ConditionExpression: 'attribute_exists(id) AND stock <= :ceiling',
              ExpressionAttributeValues: { ':quantity': line.quantity, ':one': 1, ':now': now, ':ceiling': MAX_STOCK - line.quantity },
            },
          })),
        ],
      },
      async (reasons) => {
        const failedLine = reasons[0] === 'ConditionalCheckFailed' ? -1 : reasons.slice(1).findIndex((code) => code === 'ConditionalCheckFailed');
        const line = failedLine >= 0 ? restock[failedLine] : undefined;
        if (line) {
          const current = (await batchGetByKey<ProductItem>(db, PRODUCTS, 'id', [line.productId])).get(line.productId);
          if (current && current.stock + line.quantity > MAX_STOCK) {
            throw new DomainError(
              'ConditionFailed',
              `Product ${line.productId} has ${current.stock} in stock; restoring ${line.quantity} would exceed the maximum of ${MAX_STOCK}`,
              { productId: line.productId, stock: current.stock, maxStock: MAX_STOCK },
            );
          }
        }
        throw new DomainError('ConditionFailed', `Order ${id} changed while it was being cancelled; read it and retry`);
      },
    );
    await writeThroughProducts(restock);
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

/** Signals that a concurrent identical placement won the race; its order is returned as a replay. */
class ReplayedOrder extends Error {
  constructor(readonly order: OrderRecord) {
    super('replayed');
  }
}

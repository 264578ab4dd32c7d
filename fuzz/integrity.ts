import { print } from 'graphql';
import { AdjustStockDocument, CancelOrderDocument, PlaceOrderDocument, UpdateOrderStatusDocument } from '../generated/client/graphql.js';
import type { Rng } from './rng.js';

/**
 * The stock ledger: integrity products are seeded with a known stock, then
 * placeOrder / cancelOrder / adjustStock run with hostile values alongside the
 * garbage. Afterwards, for every product,
 *
 *   initial stock + Σ successful adjustStock deltas
 *     == current stock + Σ quantities of its lines in orders that are not CANCELLED
 *
 * (orders read straight from DynamoDB Local, so an order whose response was
 * lost still counts). Also: stock never below 0 nor above a GraphQL Int, no
 * stored order line with a quantity outside 1..1000.
 *
 * The op generators and the arithmetic are pure (unit-tested); fuzz/run.ts
 * sends the ops and reads the tables.
 */

export const GRAPHQL_INT_MAX = 2 ** 31 - 1;
export const MAX_LINE_QUANTITY = 1000;

export interface LedgerProduct {
  readonly id: string;
  readonly initialStock: number;
  /** Read back after the run; undefined when the item is gone. */
  readonly currentStock: number | undefined;
}

export interface LedgerOrder {
  readonly id: string;
  readonly status: string;
  readonly items: ReadonlyArray<{ readonly productId: string; readonly quantity: number }>;
}

export interface Adjustment {
  readonly productId: string;
  readonly delta: number;
}

export interface IntegrityInput {
  readonly products: readonly LedgerProduct[];
  /** adjustStock calls that answered with the product (no errors). */
  readonly adjustments: readonly Adjustment[];
  /** Every order in the table (others' lines are ignored). */
  readonly orders: readonly LedgerOrder[];
}

export interface Violation {
  readonly productId: string;
  readonly problem: string;
}

export interface ProductBalance {
  readonly productId: string;
  readonly initialStock: number;
  readonly adjusted: number;
  readonly currentStock: number | undefined;
  readonly inOpenOrders: number;
  /** (initial + adjusted) − (current + inOpenOrders); 0 when balanced. */
  readonly imbalance: number | undefined;
}

export interface IntegrityReport {
  readonly balances: readonly ProductBalance[];
  readonly violations: readonly Violation[];
}

export function checkIntegrity(input: IntegrityInput): IntegrityReport {
  const ids = new Set(input.products.map((p) => p.id));
  const adjusted = new Map<string, number>();
  for (const { productId, delta } of input.adjustments) {
    if (ids.has(productId)) adjusted.set(productId, (adjusted.get(productId) ?? 0) + delta);
  }
  const reserved = new Map<string, number>();
  const violations: Violation[] = [];
  for (const order of input.orders) {
    for (const item of order.items) {
      if (!ids.has(item.productId)) continue;
      if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_LINE_QUANTITY) {
        violations.push({
          productId: item.productId,
          problem: `order ${order.id} holds a line of quantity ${item.quantity} (outside 1..${MAX_LINE_QUANTITY})`,
        });
      }
      if (order.status !== 'CANCELLED') reserved.set(item.productId, (reserved.get(item.productId) ?? 0) + item.quantity);
    }
  }
  const balances = input.products.map((product): ProductBalance => {
    const adjustedBy = adjusted.get(product.id) ?? 0;
    const inOpenOrders = reserved.get(product.id) ?? 0;
    const imbalance =
      product.currentStock === undefined ? undefined : product.initialStock + adjustedBy - (product.currentStock + inOpenOrders);
    if (product.currentStock === undefined) {
      violations.push({ productId: product.id, problem: 'the product is gone' });
    } else {
      if (imbalance !== 0) {
        violations.push({
          productId: product.id,
          problem: `initial ${product.initialStock} + adjustments ${adjustedBy} = ${product.initialStock + adjustedBy}, but stock ${product.currentStock} + open orders ${inOpenOrders} = ${product.currentStock + inOpenOrders} (off by ${imbalance})`,
        });
      }
      if (product.currentStock < 0) violations.push({ productId: product.id, problem: `stock is negative: ${product.currentStock}` });
      if (product.currentStock > GRAPHQL_INT_MAX)
        violations.push({
          productId: product.id,
          problem: `stock ${product.currentStock} exceeds a GraphQL Int: every read of the product fails`,
        });
    }
    return {
      productId: product.id,
      initialStock: product.initialStock,
      adjusted: adjustedBy,
      currentStock: product.currentStock,
      inOpenOrders,
      imbalance,
    };
  });
  return { balances, violations };
}

// --- Ops ------------------------------------------------------------------------

const Q = {
  adjust: print(AdjustStockDocument),
  place: print(PlaceOrderDocument),
  cancel: print(CancelOrderDocument),
  status: print(UpdateOrderStatusDocument),
};

/** What the op generator knows of the run so far (mutated by fuzz/run.ts as answers come in). */
export interface LedgerState {
  readonly productIds: readonly string[];
  /** Customer i is `fuzz-customer-<i>`; tokens in the same order. */
  readonly customerTokens: readonly string[];
  readonly adminToken: string;
  /** Orders placed so far, by customer index. */
  readonly orders: Map<number, string[]>;
  /** clientTokens used so far, by customer index, with the lines they were used with. */
  readonly clientTokens: Map<number, Array<{ token: string; items: unknown }>>;
}

export interface LedgerRequest {
  readonly body: string;
  readonly authorization: string;
}

export interface LedgerOp {
  readonly kind: 'adjustStock' | 'placeOrder' | 'replayOrder' | 'cancelOrder' | 'doubleCancel' | 'advanceOrder';
  readonly description: string;
  /** Sent at the same moment (doubleCancel sends two). */
  readonly requests: readonly LedgerRequest[];
  /** For adjustStock: what goes into the ledger if the call answers with the product. */
  readonly adjustment?: Adjustment;
  /** For placeOrder: the customer index, so a placed order is remembered for later cancels. */
  readonly customer?: number;
  readonly clientToken?: { readonly token: string; readonly items: unknown };
}

/** Deltas and quantities that a careless resolver would let through: bounds, signs, types. */
export const HOSTILE_DELTAS: readonly unknown[] = [
  1,
  2,
  5,
  10,
  -1,
  -2,
  -5,
  -10,
  0,
  1000,
  -1000,
  2 ** 31 - 1,
  -(2 ** 31),
  1_000_000_000,
  -1_000_000_000,
  999_999_999,
  '5',
  2.5,
  null,
];
export const HOSTILE_QUANTITIES: readonly unknown[] = [
  1,
  1,
  1,
  2,
  3,
  5,
  1000,
  1001,
  0,
  -1,
  -1000,
  2 ** 31 - 1,
  1_000_000_000,
  '2',
  1.5,
  null,
];

export function ledgerOp(rng: Rng, state: LedgerState): LedgerOp {
  const roll = rng.next();
  const customer = rng.int(state.customerTokens.length);
  const token = state.customerTokens[customer]!;
  const mine = state.orders.get(customer) ?? [];
  if (roll < 0.3) {
    const productId = rng.chance(0.95) ? rng.pick(state.productIds) : 'fuzz-no-such-product';
    const delta = rng.pick(HOSTILE_DELTAS);
    return {
      kind: 'adjustStock',
      description: `adjustStock(${productId}, ${JSON.stringify(delta)})`,
      requests: [{ body: JSON.stringify({ query: Q.adjust, variables: { id: productId, delta } }), authorization: state.adminToken }],
      ...(typeof delta === 'number' && Number.isFinite(delta) ? { adjustment: { productId, delta } } : {}),
    };
  }
  if (roll < 0.65) {
    const lines = rng.chance(0.03) ? 101 : rng.between(1, 3);
    const items = Array.from({ length: lines }, () => ({
      productId: rng.chance(0.97) ? rng.pick(state.productIds) : rng.pick(['fuzz-no-such-product', '', 'x'.repeat(3000)]),
      quantity: rng.pick(HOSTILE_QUANTITIES),
    }));
    const clientToken = `fuzz-${rng.int(2 ** 31).toString(36)}`;
    const contactEmail = rng.pick([undefined, 'buyer@example.com', 'not-an-email', '']);
    return {
      kind: 'placeOrder',
      description: `placeOrder by customer ${customer}: ${JSON.stringify(items).slice(0, 160)}`,
      requests: [
        {
          body: JSON.stringify({
            query: Q.place,
            variables: { input: { clientToken, items, ...(contactEmail === undefined ? {} : { contactEmail }) } },
          }),
          authorization: token,
        },
      ],
      customer,
      clientToken: { token: clientToken, items },
    };
  }
  if (roll < 0.75) {
    // A clientToken used before: the same lines replay the order, other lines are an IdempotencyConflict; another customer's token is a new order.
    const used = state.clientTokens.get(customer) ?? [];
    const previous = used.length > 0 ? rng.pick(used) : undefined;
    const other = rng.chance(0.3) ? (customer + 1) % state.customerTokens.length : customer;
    const items = previous && rng.chance(0.6) ? previous.items : [{ productId: rng.pick(state.productIds), quantity: rng.between(1, 3) }];
    const clientToken = previous?.token ?? 'fuzz-shared-token';
    return {
      kind: 'replayOrder',
      description: `placeOrder replaying clientToken ${clientToken} as customer ${other} with ${items === previous?.items ? 'the same' : 'other'} lines`,
      requests: [
        {
          body: JSON.stringify({ query: Q.place, variables: { input: { clientToken, items } } }),
          authorization: state.customerTokens[other]!,
        },
      ],
      customer: other,
      clientToken: { token: clientToken, items },
    };
  }
  if (roll < 0.88) {
    // Mostly one's own order; sometimes someone else's (must be NotFound) or garbage.
    const foreign = state.orders.get((customer + 1) % state.customerTokens.length) ?? [];
    const id =
      mine.length > 0 && rng.chance(0.8)
        ? rng.pick(mine)
        : foreign.length > 0 && rng.chance(0.7)
          ? rng.pick(foreign)
          : rng.pick(['', 'x'.repeat(40), '0'.repeat(32)]);
    return {
      kind: 'cancelOrder',
      description: `cancelOrder(${id.slice(0, 40)}) by customer ${customer}`,
      requests: [{ body: JSON.stringify({ query: Q.cancel, variables: { id } }), authorization: token }],
    };
  }
  if (roll < 0.95 && mine.length > 0) {
    const id = rng.pick(mine);
    const body = JSON.stringify({ query: Q.cancel, variables: { id } });
    return {
      kind: 'doubleCancel',
      description: `two cancelOrder(${id}) at once by customer ${customer}`,
      requests: [
        { body, authorization: token },
        { body, authorization: token },
      ],
    };
  }
  const all = [...state.orders.values()].flat();
  const id = all.length > 0 ? rng.pick(all) : 'none';
  const status = rng.pick(['PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'PLACED']);
  return {
    kind: 'advanceOrder',
    description: `updateOrderStatus(${id}, ${status}) as admin`,
    requests: [{ body: JSON.stringify({ query: Q.status, variables: { id, status } }), authorization: state.adminToken }],
  };
}

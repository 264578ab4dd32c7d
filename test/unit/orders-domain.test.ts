import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_DISTINCT_PRODUCTS, MAX_ORDER_LINES, MAX_QUANTITY } from '../../declarations/bounds.js';

/**
 * The orders function's pure helpers (resolvers/orders/index.ts): the
 * idempotent order id, the validation of an order's lines, and the per-product
 * stock demand its transaction is built from. The module reads its table names
 * at load, as on Lambda; no AWS call is made here.
 */

let orders: typeof import('../../resolvers/orders/index.js');

beforeAll(async () => {
  Object.assign(process.env, {
    TABLE_ORDERS: 'unit-orders',
    TABLE_PRODUCTS: 'unit-products',
    CACHE_BACKEND: 'none',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  orders = await import('../../resolvers/orders/index.js');
});

const line = (productId: string, quantity = 1) => ({ productId, quantity });

describe('orderIdFor', () => {
  it('is the same for the same customer and clientToken, so a replay finds the order', () => {
    const id = orders.orderIdFor('sub-1', 'token-1');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(orders.orderIdFor('sub-1', 'token-1')).toBe(id);
  });

  it('differs across customers and tokens, and cannot be forged by moving characters between them', () => {
    const ids = new Set([
      orders.orderIdFor('sub-1', 'token-1'),
      orders.orderIdFor('sub-2', 'token-1'),
      orders.orderIdFor('sub-1', 'token-2'),
      orders.orderIdFor('ab', 'c'),
      orders.orderIdFor('a', 'bc'),
    ]);
    expect(ids.size).toBe(5);
  });
});

describe('validateLines', () => {
  it('keeps the lines as sent: order and repeated products', () => {
    const lines = [line('p1', 2), line('p2'), line('p1', 3)];
    expect(orders.validateLines(lines)).toEqual(lines);
  });

  it(`accepts 1 to ${MAX_ORDER_LINES} lines`, () => {
    expect(() => orders.validateLines([])).toThrow(
      expect.objectContaining({ errorType: 'ValidationError', errorInfo: { field: 'items' } }),
    );
    const most = Array.from({ length: MAX_ORDER_LINES }, (_, i) => line(`p${i % 10}`));
    expect(orders.validateLines(most)).toHaveLength(MAX_ORDER_LINES);
    expect(() => orders.validateLines([...most, line('p0')])).toThrow(
      expect.objectContaining({ errorType: 'ValidationError', errorInfo: { field: 'items' } }),
    );
  });

  it('names the offending line: ids that are not ids, quantities outside 1..MAX_QUANTITY', () => {
    for (const productId of ['', 'x'.repeat(129), 'a\u0000b', '\ud800']) {
      expect(() => orders.validateLines([line('p1'), line(productId)])).toThrow(
        expect.objectContaining({ errorType: 'ValidationError', errorInfo: { field: 'items[1].productId' } }),
      );
    }
    for (const quantity of [0, -1, 1.5, MAX_QUANTITY + 1, Number.NaN]) {
      expect(() => orders.validateLines([line('p1', quantity)])).toThrow(
        expect.objectContaining({ errorType: 'ValidationError', errorInfo: expect.objectContaining({ field: 'items[0].quantity' }) }),
      );
    }
    expect(orders.validateLines([line('p1', MAX_QUANTITY)])).toEqual([line('p1', MAX_QUANTITY)]);
  });
});

describe('stockDemand', () => {
  it('merges repeated products into one line each (a transaction touches an item once), in order of first appearance', () => {
    expect(orders.stockDemand([line('p2', 1), line('p1', 2), line('p2', 4), line('p3', 1), line('p1', 1)])).toEqual([
      line('p2', 5),
      line('p1', 3),
      line('p3', 1),
    ]);
  });

  it(`allows at most ${MAX_DISTINCT_PRODUCTS} distinct products: with the order put, a transaction's 100 actions`, () => {
    const distinct = (n: number) => Array.from({ length: n }, (_, i) => line(`p${i}`));
    expect(orders.stockDemand(distinct(MAX_DISTINCT_PRODUCTS))).toHaveLength(MAX_DISTINCT_PRODUCTS);
    expect(orders.stockDemand([...distinct(MAX_DISTINCT_PRODUCTS), line('p0')])).toHaveLength(MAX_DISTINCT_PRODUCTS);
    expect(() => orders.stockDemand(distinct(MAX_DISTINCT_PRODUCTS + 1))).toThrow(
      expect.objectContaining({ errorType: 'ValidationError', errorInfo: { field: 'items' } }),
    );
  });
});

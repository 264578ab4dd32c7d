import { describe, expect, it } from 'vitest';
import {
  CancelOrderDocument,
  GetOrderDocument,
  GetOrderWithProductsDocument,
  GetProductDocument,
  MyOrdersDocument,
  PlaceOrderDocument,
  UpdateOrderStatusDocument,
} from '../../generated/client/graphql.js';
import { createProduct } from '../support/fixtures.js';
import { useLocalStack } from '../support/local-stack.js';

const local = useLocalStack();

async function stockOf(id: string): Promise<number> {
  const res = await local.api.request(GetProductDocument, { id }, local.api.asApiKey);
  const stock = res.data!.product!.stock;
  // Nullable only for callers denied stock levels (partners); API-key callers always see it.
  if (stock === null) throw new Error(`product ${id} came back without stock`);
  return stock;
}

describe('orders over HTTP', () => {
  it('places an order in one transaction: stock decremented, totals computed, owner is the caller', async () => {
    const { id: a } = await createProduct(local.api, { stock: 10, priceCents: 250 });
    const { id: b } = await createProduct(local.api, { stock: 5, priceCents: 1000 });
    const res = await local.api.request(
      PlaceOrderDocument,
      {
        input: {
          clientToken: 'order-1',
          items: [
            { productId: a, quantity: 2 },
            { productId: b, quantity: 1 },
          ],
          contactEmail: 'alice@example.com',
        },
      },
      local.api.user('alice'),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.placeOrder).toMatchObject({ customerId: 'alice', status: 'PLACED', totalCents: 1500, currency: 'USD' });
    expect(await stockOf(a)).toBe(8);
    expect(await stockOf(b)).toBe(4);

    const read = await local.api.request(GetOrderDocument, { id: res.data!.placeOrder.id }, local.api.user('alice'));
    expect(read.data?.order).toEqual(res.data?.placeOrder);
  });

  it('replays placeOrder idempotently on the same clientToken, and refuses a different order under it', async () => {
    const { id: a } = await createProduct(local.api, { stock: 10 });
    const input = { clientToken: 'replay-token', items: [{ productId: a, quantity: 3 }] };
    const first = await local.api.request(PlaceOrderDocument, { input }, local.api.user('bob'));
    const again = await local.api.request(PlaceOrderDocument, { input }, local.api.user('bob'));
    expect(first.errors).toBeUndefined();
    expect(again.data?.placeOrder).toEqual(first.data?.placeOrder);
    expect(await stockOf(a)).toBe(7);

    const conflict = await local.api.request(
      PlaceOrderDocument,
      { input: { ...input, items: [{ productId: a, quantity: 1 }] } },
      local.api.user('bob'),
    );
    expect(conflict.errors?.[0]?.errorType).toBe('IdempotencyConflict');
    expect(await stockOf(a)).toBe(7);

    // The token is scoped to the caller: another user's order under it is a new order.
    const other = await local.api.request(PlaceOrderDocument, { input }, local.api.user('carol'));
    expect(other.data?.placeOrder.id).not.toBe(first.data?.placeOrder.id);
    expect(await stockOf(a)).toBe(4);
  });

  it('races 50 concurrent orders for a product with stock 10: exactly 10 succeed and stock never goes negative', async () => {
    const { id } = await createProduct(local.api, { stock: 10 });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        local.api.request(
          PlaceOrderDocument,
          { input: { clientToken: `race-${i}`, items: [{ productId: id, quantity: 1 }] } },
          local.api.user(`racer-${i}`),
        ),
      ),
    );
    const succeeded = results.filter((r) => r.data?.placeOrder);
    const failed = results.filter((r) => r.errors);
    expect(succeeded).toHaveLength(10);
    expect(failed).toHaveLength(40);
    for (const r of failed) expect(r.errors?.[0]?.errorType).toBe('InsufficientStock');
    expect(await stockOf(id)).toBe(0);
  });

  it('refuses bad lines before writing: negative or zero quantity, empty order, unknown product', async () => {
    const { id: a } = await createProduct(local.api, { stock: 5 });
    const cases = [
      { items: [{ productId: a, quantity: -1 }], errorType: 'ValidationError' },
      { items: [{ productId: a, quantity: 0 }], errorType: 'ValidationError' },
      { items: [], errorType: 'ValidationError' },
      {
        items: [
          { productId: a, quantity: 1 },
          { productId: 'ghost', quantity: 1 },
        ],
        errorType: 'NotFound',
      },
    ];
    for (const [i, c] of cases.entries()) {
      const res = await local.api.request(
        PlaceOrderDocument,
        { input: { clientToken: `bad-${i}`, items: c.items } },
        local.api.user('dave'),
      );
      expect(res.errors?.[0]?.errorType).toBe(c.errorType);
    }
    expect(await stockOf(a)).toBe(5);
    const mine = await local.api.request(MyOrdersDocument, {}, local.api.user('dave'));
    expect(mine.data?.myOrders.items).toHaveLength(0);
  });

  it('rejects an invalid AWSEmail as a variable error before any resolver runs', async () => {
    const { id: a } = await createProduct(local.api, { stock: 5 });
    const before = local.api.invocations('orders');
    const res = await local.api.request(
      PlaceOrderDocument,
      { input: { clientToken: 'bad-email', items: [{ productId: a, quantity: 1 }], contactEmail: 'not-an-email' } },
      local.api.user('erin'),
    );
    expect(res.data).toBeNull();
    expect(res.errors?.[0]?.errorType).toBe('ValidationError');
    expect(res.errors?.[0]?.message).toContain('AWSEmail');
    expect(local.api.invocations('orders')).toBe(before);
    expect(await stockOf(a)).toBe(5);
  });

  it('pages myOrders newest first, and shows nobody else their orders', async () => {
    const { id: a } = await createProduct(local.api, { stock: 100 });
    for (let i = 0; i < 5; i++) {
      const res = await local.api.request(
        PlaceOrderDocument,
        { input: { clientToken: `page-${i}`, items: [{ productId: a, quantity: 1 }] } },
        local.api.user('frank'),
      );
      expect(res.errors).toBeUndefined();
    }
    const tokens: string[] = [];
    let nextToken: string | null | undefined;
    do {
      const res = await local.api.request(MyOrdersDocument, { limit: 2, nextToken }, local.api.user('frank'));
      expect(res.errors).toBeUndefined();
      tokens.push(...res.data!.myOrders.items.map((o) => o.clientToken));
      nextToken = res.data!.myOrders.nextToken;
    } while (nextToken);
    expect(tokens).toEqual(['page-4', 'page-3', 'page-2', 'page-1', 'page-0']);

    const firstId = (await local.api.request(MyOrdersDocument, { limit: 1 }, local.api.user('frank'))).data!.myOrders.items[0]!.id;
    const snoop = await local.api.request(GetOrderDocument, { id: firstId }, local.api.user('grace'));
    expect(snoop.data?.order).toBeNull();
    const cancel = await local.api.request(CancelOrderDocument, { id: firstId }, local.api.user('grace'));
    expect(cancel.errors?.[0]?.errorType).toBe('NotFound');
    const apiKey = await local.api.request(MyOrdersDocument, {}, local.api.asApiKey);
    expect(apiKey.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', path: ['myOrders'] });
  });

  it('cancels an order and restores its stock in the same transaction; a cancelled order stays cancelled', async () => {
    const { id: a } = await createProduct(local.api, { stock: 6 });
    const placed = await local.api.request(
      PlaceOrderDocument,
      { input: { clientToken: 'cancel-me', items: [{ productId: a, quantity: 4 }] } },
      local.api.user('heidi'),
    );
    expect(await stockOf(a)).toBe(2);
    const cancelled = await local.api.request(CancelOrderDocument, { id: placed.data!.placeOrder.id }, local.api.user('heidi'));
    expect(cancelled.data?.cancelOrder.status).toBe('CANCELLED');
    expect(await stockOf(a)).toBe(6);
    const twice = await local.api.request(CancelOrderDocument, { id: placed.data!.placeOrder.id }, local.api.user('heidi'));
    expect(twice.errors?.[0]?.errorType).toBe('InvalidState');
    expect(await stockOf(a)).toBe(6);
  });

  it('moves order status forward for admins only', async () => {
    const { id: a } = await createProduct(local.api, { stock: 3 });
    const placed = await local.api.request(
      PlaceOrderDocument,
      { input: { clientToken: 'ship-me', items: [{ productId: a, quantity: 1 }] } },
      local.api.user('ivan'),
    );
    const id = placed.data!.placeOrder.id;
    const byOwner = await local.api.request(UpdateOrderStatusDocument, { id, status: 'PAID' }, local.api.user('ivan'));
    expect(byOwner.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', path: ['updateOrderStatus'] });
    const skip = await local.api.request(UpdateOrderStatusDocument, { id, status: 'SHIPPED' }, local.api.admin());
    expect(skip.errors?.[0]?.errorType).toBe('InvalidState');
    const paid = await local.api.request(UpdateOrderStatusDocument, { id, status: 'PAID' }, local.api.admin());
    expect(paid.data?.updateOrderStatus.status).toBe('PAID');
    const read = await local.api.request(GetOrderDocument, { id }, local.api.user('ivan'));
    expect(read.data?.order?.status).toBe('PAID');
  });

  it('resolves OrderItem.product for 100 order lines with one BatchInvoke of the catalog function', async () => {
    const ids = await Promise.all(
      Array.from({ length: 50 }, async () => (await createProduct(local.api, { stock: 10, priceCents: 100 })).id),
    );
    const items = Array.from({ length: 100 }, (_, i) => ({ productId: ids[i % 50]!, quantity: 1 }));
    const placed = await local.api.request(PlaceOrderDocument, { input: { clientToken: 'hundred', items } }, local.api.user('judy'));
    expect(placed.errors).toBeUndefined();
    expect(placed.data?.placeOrder.items).toHaveLength(100);

    const before = local.api.invocations('catalog');
    const res = await local.api.request(GetOrderWithProductsDocument, { id: placed.data!.placeOrder.id }, local.api.user('judy'));
    expect(res.errors).toBeUndefined();
    expect(local.api.invocations('catalog') - before).toBe(1);
    const lines = res.data!.order!.items;
    expect(lines).toHaveLength(100);
    lines.forEach((line, i) => expect(line.product?.id).toBe(ids[i % 50]));
  });
});

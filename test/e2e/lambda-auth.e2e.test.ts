import { describe, expect, it } from 'vitest';
import {
  CreateProductDocument,
  GetProductDocument,
  ListProductsDocument,
  MyOrdersDocument,
  PlaceOrderDocument,
  ProductWithReviewsDocument,
} from '../../generated/client/graphql.js';
import { issuePartnerToken } from '../../lib/partner-tokens.js';
import { createProduct } from '../support/fixtures.js';
import { useLocalStack } from '../support/local-stack.js';

const local = useLocalStack();
const CATEGORY = 'partner-e2e';

/** The partner suite's catalog: PARTNER-0 (4 in stock) and PARTNER-1 (9), in a category of their own. */
async function createProducts(): Promise<string[]> {
  const ids: string[] = [];
  for (const [index, stock] of [4, 9].entries()) {
    const { id } = await createProduct(local.api, {
      sku: `PARTNER-${index}`,
      name: `Partner item ${index}`,
      priceCents: 1000 + index,
      category: CATEGORY,
      stock,
    });
    ids.push(id);
  }
  return ids;
}

/** Same partner, same secret, but a different Authorization header: a cache key the authorizer has not seen. */
const bearer = () => ({ token: `Bearer ${local.stack.partner.token}` });

describe('AWS_LAMBDA (partner tokens) over HTTP', () => {
  it('lets a partner read the catalog, with stock levels denied: null plus an Unauthorized error per product', async () => {
    const ids = await createProducts();
    const res = await local.api.request(ListProductsDocument, { category: CATEGORY }, local.api.asPartner);
    expect(res.status).toBe(200);
    const items = res.data?.products.items ?? [];
    expect(items.map((item) => [item.id, item.name, item.priceCents, item.stock]).sort()).toEqual(
      [
        [ids[0], 'Partner item 0', 1000, null],
        [ids[1], 'Partner item 1', 1001, null],
      ].sort(),
    );
    expect(items.every((item) => item.rating.count === 0)).toBe(true);
    expect(res.errors).toHaveLength(2);
    for (const [index] of items.entries()) {
      expect(res.errors).toContainEqual(
        expect.objectContaining({
          errorType: 'Unauthorized',
          path: ['products', 'items', index, 'stock'],
          message: 'Not Authorized to access stock on type Product',
        }),
      );
    }

    // Reviews are part of the catalog partners may read (Product.reviews runs the reviews function).
    const withReviews = await local.api.request(ProductWithReviewsDocument, { id: ids[0]! }, local.api.asPartner);
    expect(withReviews.errors).toBeUndefined();
    expect(withReviews.data?.product).toMatchObject({ id: ids[0], rating: { count: 0 }, reviews: { items: [], nextToken: null } });

    // The same fields are whole for an API-key caller: the denial is the partner's alone.
    const asKey = await local.api.request(GetProductDocument, { id: ids[0]! }, local.api.asApiKey);
    expect(asKey.errors).toBeUndefined();
    expect(asKey.data?.product?.stock).toBe(4);
  });

  it('keeps partners out of user-pool-only fields and every mutation, writing nothing', async () => {
    const orders = await local.api.request(MyOrdersDocument, {}, local.api.asPartner);
    expect(orders.status).toBe(200);
    expect(orders.data).toBeNull();
    expect(orders.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', message: 'Not Authorized to access myOrders on type Query' });

    const before = local.api.invocations('catalog');
    const create = await local.api.request(
      CreateProductDocument,
      { input: { sku: 'PARTNER-EVIL', name: 'Nope', priceCents: 1, currency: 'USD', category: CATEGORY, stock: 1 } },
      local.api.asPartner,
    );
    expect(create.errors?.[0]).toMatchObject({
      errorType: 'Unauthorized',
      message: 'Not Authorized to access createProduct on type Mutation',
    });
    const order = await local.api.request(
      PlaceOrderDocument,
      { input: { items: [{ productId: 'p', quantity: 1 }], clientToken: 'partner-order' } },
      local.api.asPartner,
    );
    expect(order.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', message: 'Not Authorized to access placeOrder on type Mutation' });
    expect(local.api.invocations('catalog')).toBe(before);
    const list = await local.api.request(ListProductsDocument, { category: CATEGORY }, local.api.asApiKey);
    expect(list.data?.products.items.map((item) => item.sku).sort()).toEqual(['PARTNER-0', 'PARTNER-1']);
  });

  it('answers 401 UnauthorizedException to a wrong secret, an unknown partner and a malformed token', async () => {
    const query = { query: `{ products(category: "${CATEGORY}") { items { id } } }` };
    const wrongSecret = issuePartnerToken(local.stack.partner.partnerId).token;
    const unknownPartner = issuePartnerToken('initech').token;
    const before = local.api.invocations('authorizer');
    for (const token of [wrongSecret, unknownPartner]) {
      const res = await local.api.raw(JSON.stringify(query), { token });
      expect(res).toMatchObject({
        status: 401,
        data: null,
        errors: [{ errorType: 'UnauthorizedException', message: 'You are not authorized to make this call.' }],
      });
    }
    // Refusals carry ttlOverride 0: asking again invokes the authorizer again.
    expect((await local.api.raw(JSON.stringify(query), { token: wrongSecret })).status).toBe(401);
    expect(local.api.invocations('authorizer')).toBe(before + 3);

    // Tokens failing the API's identityValidationExpression never reach the authorizer.
    for (const token of ['partner-acme', 'Basic dXNlcjpwYXNz', `${local.stack.partner.token}.x`]) {
      expect((await local.api.raw(JSON.stringify(query), { token })).status, token).toBe(401);
    }
    expect(local.api.invocations('authorizer')).toBe(before + 3);
  });

  it('caches a grant per token for the declared TTL: two requests, one authorizer invocation', async () => {
    const before = local.api.invocations('authorizer');
    const first = await local.api.request(ListProductsDocument, { category: CATEGORY }, bearer());
    const second = await local.api.request(ListProductsDocument, { category: CATEGORY }, bearer());
    for (const res of [first, second]) {
      expect(res.status).toBe(200);
      expect(res.data?.products.items).toHaveLength(2);
    }
    expect(local.api.invocations('authorizer')).toBe(before + 1);
  });

  it('runs the authorizer as a Lambda function with its declared environment and no table', () => {
    const environment = local.stack.functionEnvironments.authorizer;
    expect(environment.PARTNER_TOKENS_SHA256).toBe(local.stack.partner.hashEntry);
    expect(Object.keys(environment).filter((name) => name.startsWith('TABLE_'))).toEqual([]);
    expect(local.stack.partner.token).toMatch(/^partner-local-partner\.[A-Za-z0-9_-]{43}$/);
  });
});

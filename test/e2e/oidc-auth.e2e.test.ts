/**
 * OPENID_CONNECT (staff signed in with the company's identity provider) end to
 * end, over real HTTP and WebSocket against the local stack: the dev issuer's
 * discovery document and keys on the stack's own endpoint, what a staff token
 * may read (the catalog, stock levels included), what it may not (orders,
 * every write: the same Unauthorized errors as every other mode), tokens the
 * API refuses (401 as for any bad credential), and a real-time subscription
 * authorized by an OIDC token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../../declarations/api.js';
import {
  AdjustStockDocument,
  CreateProductDocument,
  GetOrderDocument,
  GetProductDocument,
  ListProductsDocument,
  MyOrdersDocument,
  PlaceOrderDocument,
  ProductWithReviewsDocument,
} from '../../generated/client/graphql.js';
import type { OidcMintOptions } from '../../local/identity/dev-oidc-issuer.js';
import { RealtimeClient } from '../../local/realtime/client.js';
import { createProduct } from '../support/fixtures.js';
import { useLocalStack, type Auth } from '../support/local-stack.js';

const local = useLocalStack();
const CATEGORY = 'staff-e2e';

/** A staff member's token from the dev issuer, as the identity provider would issue it. */
const staff = (subject = 'jane', overrides: Partial<OidcMintOptions> = {}): string =>
  local.stack.oidcIssuer.mint({ subject, email: `${subject}@corp.example`, groups: ['support'], ...overrides });
const asStaff = (token = staff()): Auth => ({ token });

const clients: RealtimeClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

describe('the dev OIDC issuer on the stack', () => {
  it('publishes its discovery document and keys under <stack>/oidc, the issuer of its tokens', async () => {
    const issuer = local.stack.oidcIssuer.issuer;
    expect(issuer).toBe(`${local.stack.url}/oidc`);
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const document = (await discovery.json()) as { issuer: string; jwks_uri: string };
    expect(document.issuer).toBe(issuer);
    const keys = await fetch(document.jwks_uri);
    expect(keys.status).toBe(200);
    expect(await keys.json()).toEqual(local.stack.oidcIssuer.jwks);
  });
});

describe('OPENID_CONNECT over HTTP', () => {
  it('lets staff read the catalog, stock levels and reviews included', async () => {
    const { id } = await createProduct(local.api, { sku: 'STAFF-0', name: 'Staff item', category: CATEGORY, stock: 7 });
    const product = await local.api.request(GetProductDocument, { id }, asStaff());
    expect(product.status).toBe(200);
    expect(product.errors).toBeUndefined();
    expect(product.data?.product).toMatchObject({ id, name: 'Staff item', stock: 7 });

    const list = await local.api.request(ListProductsDocument, { category: CATEGORY }, asStaff(`Bearer ${staff('sam')}`));
    expect(list.errors).toBeUndefined();
    expect(list.data?.products.items.map((item) => [item.id, item.stock])).toEqual([[id, 7]]);

    const withReviews = await local.api.request(ProductWithReviewsDocument, { id }, asStaff());
    expect(withReviews.errors).toBeUndefined();
    expect(withReviews.data?.product).toMatchObject({ id, rating: { count: 0 }, reviews: { items: [] } });
  });

  it("keeps staff out of customers' orders and every write, with the Unauthorized errors every mode gets, writing nothing", async () => {
    const { id: productId } = await createProduct(local.api, { sku: 'STAFF-1', category: CATEGORY, stock: 3 });
    const alice = local.api.user('alice-oidc-e2e');
    const placed = await local.api.request(
      PlaceOrderDocument,
      { input: { clientToken: 'oidc-1', items: [{ productId, quantity: 1 }] } },
      alice,
    );
    expect(placed.errors).toBeUndefined();
    const orderId = placed.data!.placeOrder.id;

    const ordersBefore = local.api.invocations('orders');
    const catalogBefore = local.api.invocations('catalog');
    const myOrders = await local.api.request(MyOrdersDocument, {}, asStaff());
    const order = await local.api.request(GetOrderDocument, { id: orderId }, asStaff());
    const create = await local.api.request(
      CreateProductDocument,
      { input: { sku: 'STAFF-EVIL', name: 'Nope', priceCents: 1, currency: 'USD', category: CATEGORY, stock: 1 } },
      asStaff(),
    );
    const adjust = await local.api.request(AdjustStockDocument, { id: productId, delta: 100 }, asStaff());
    for (const [response, field] of [
      [myOrders, 'myOrders'],
      [order, 'order'],
    ] as const) {
      expect(response.status).toBe(200);
      expect(response.errors).toEqual([
        expect.objectContaining({ errorType: 'Unauthorized', path: [field], message: `Not Authorized to access ${field} on type Query` }),
      ]);
    }
    expect(order.data).toEqual({ order: null });
    for (const [response, field] of [
      [create, 'createProduct'],
      [adjust, 'adjustStock'],
    ] as const) {
      expect(response.data).toBeNull();
      expect(response.errors?.[0]).toMatchObject({
        errorType: 'Unauthorized',
        message: `Not Authorized to access ${field} on type Mutation`,
      });
    }
    // Refused before any resolver ran, exactly as for a partner (AWS_LAMBDA) asking the same.
    expect(local.api.invocations('orders')).toBe(ordersBefore);
    expect(local.api.invocations('catalog')).toBe(catalogBefore);
    const asPartner = await local.api.request(MyOrdersDocument, {}, local.api.asPartner);
    expect(myOrders).toEqual(asPartner);
    const stock = await local.api.request(GetProductDocument, { id: productId }, local.api.asApiKey);
    expect(stock.data?.product?.stock).toBe(2);
  });

  it('refuses, with 401 like any bad credential, a token for another app, an expired one, one past iatTTL or authTTL, and a forged one', async () => {
    const now = Math.floor(Date.now() / 1000);
    const badKey = await local.api.raw(JSON.stringify({ query: '{ __typename }' }), { apiKey: 'da2-notakeyofthisapi00000000000' });
    expect(badKey.status).toBe(401);
    const refused = {
      otherApp: staff('eve', { overrideClaims: { aud: 'another-app-of-the-same-issuer' } }),
      expired: staff('eve', { expiresInSeconds: -5 }),
      pastIatTtl: staff('eve', { issuedAt: now - api.openIdConnect.iatTtlMs / 1000 - 60, expiresInSeconds: 86_400 }),
      pastAuthTtl: staff('eve', { authTime: now - api.openIdConnect.authTtlMs / 1000 - 60 }),
      otherIssuer: staff('eve', { overrideClaims: { iss: 'https://login.example.com/oauth2/default' } }),
      forged: `${staff('eve').split('.').slice(0, 2).join('.')}.${staff('jane').split('.')[2]}`,
    };
    for (const [name, token] of Object.entries(refused)) {
      const response = await local.api.request(GetProductDocument, { id: 'any' }, asStaff(token));
      expect(response, name).toEqual(badKey);
    }
  });

  it('leaves the user-pool mode as it was: a customer token still reaches its orders', async () => {
    const mine = await local.api.request(MyOrdersDocument, {}, local.api.user('alice-oidc-e2e'));
    expect(mine.errors).toBeUndefined();
    expect(mine.data?.myOrders.items.length).toBeGreaterThan(0);
  });
});

describe('OPENID_CONNECT over the real-time endpoint', () => {
  async function connect(token: string): Promise<{ client: RealtimeClient; auth: Record<string, string> }> {
    const auth = { Authorization: token };
    const client = await RealtimeClient.connect(local.stack.realtimeUrl, { headers: auth });
    clients.push(client);
    return { client, auth };
  }

  it('connects with a staff token, follows product updates, and is refused order updates', async () => {
    const { id } = await createProduct(local.api, { sku: 'STAFF-RT', category: CATEGORY, stock: 5 });
    const { client, auth } = await connect(staff());
    expect((await client.init()).type).toBe('connection_ack');
    const onProductUpdated = 'subscription ($id: ID) { onProductUpdated(id: $id) { id stock version } }';
    expect((await client.start('p1', onProductUpdated, { id }, auth)).type).toBe('start_ack');
    const refused = await client.start('o1', 'subscription { onOrderStatusChanged(customerId: "alice-oidc-e2e") { id } }', {}, auth);
    expect(refused.type).toBe('error');
    expect(JSON.stringify(refused.payload)).toContain('Unauthorized');

    await local.api.request(AdjustStockDocument, { id, delta: 2 }, local.api.admin());
    const event = await client.next((message) => message.type === 'data' && message.id === 'p1');
    expect(event.payload).toEqual({ data: { onProductUpdated: { id, stock: 7, version: 2 } } });
  });

  it('refuses the handshake with a token for another app', async () => {
    const { client } = await connect(staff('eve', { overrideClaims: { aud: 'another-app-of-the-same-issuer' } }));
    const reply = await client.init();
    expect(reply.type).toBe('connection_error');
    expect(JSON.stringify(reply.payload)).toContain('UnauthorizedException');
  });
});

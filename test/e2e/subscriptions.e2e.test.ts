import { afterEach, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import {
  AdjustStockDocument,
  PlaceOrderDocument,
  UpdateOrderStatusDocument,
  UpdateProductDocument,
} from '../../generated/client/graphql.js';
import { RealtimeClient } from '../../local/realtime/client.js';
import { signRequest } from '../../local/identity/sigv4.js';
import { createProduct } from '../support/fixtures.js';
import { useLocalStack } from '../support/local-stack.js';

const local = useLocalStack();
const clients: RealtimeClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function connect(headers: Record<string, string>): Promise<RealtimeClient> {
  const client = await RealtimeClient.connect(local.stack.realtimeUrl, { headers });
  clients.push(client);
  expect((await client.init()).type).toBe('connection_ack');
  return client;
}

const onProductUpdated = 'subscription ($id: ID) { onProductUpdated(id: $id) { id stock version } }';

describe('subscriptions through the local runtime', () => {
  it('delivers a mutation result, post-write, to the matching subscriber only', async () => {
    const { id: watched } = await createProduct(local.api, { name: 'Watched', stock: 5 });
    const { id: other } = await createProduct(local.api, { name: 'Watched', stock: 5 });
    const apiKey = { 'x-api-key': local.stack.apiKey };
    const subscriber = await connect(apiKey);
    const bystander = await connect(apiKey);
    expect((await subscriber.start('s1', onProductUpdated, { id: watched }, apiKey)).type).toBe('start_ack');
    expect((await bystander.start('s2', onProductUpdated, { id: other }, apiKey)).type).toBe('start_ack');

    const res = await local.api.request(AdjustStockDocument, { id: watched, delta: 3 }, local.api.admin());
    expect(res.data?.adjustStock.stock).toBe(8);
    const event = await subscriber.next((m) => m.type === 'data' && m.id === 's1');
    expect(event.payload).toEqual({ data: { onProductUpdated: { id: watched, stock: 8, version: 2 } } });
    // Absence, proven by a later event on the same socket (test/README.md, "Waiting"): a change to the
    // bystander's own product is published after the one it must not get, so once it has arrived,
    // anything the first change sent the bystander would have arrived before it.
    await local.api.request(AdjustStockDocument, { id: other, delta: 1 }, local.api.admin());
    const marker = await bystander.next((m) => m.type === 'data' && m.id === 's2');
    expect(marker.payload).toEqual({ data: { onProductUpdated: { id: other, stock: 6, version: 2 } } });
    expect(bystander.pending.filter((m) => m.type === 'data')).toEqual([]);

    expect((await subscriber.stop('s1')).type).toBe('complete');
    expect((await subscriber.start('s3', onProductUpdated, { id: other }, apiKey)).type).toBe('start_ack');
    await local.api.request(AdjustStockDocument, { id: watched, delta: 1 }, local.api.admin());
    // The same proof after stop: the other product's change comes after the watched one's.
    await local.api.request(AdjustStockDocument, { id: other, delta: 1 }, local.api.admin());
    expect((await subscriber.next((m) => m.type === 'data' && m.id === 's3')).payload).toEqual({
      data: { onProductUpdated: { id: other, stock: 7, version: 3 } },
    });
    expect(subscriber.pending.filter((m) => m.type === 'data')).toEqual([]);
  });

  it('publishes updateProduct with the post-write state: the new name and the bumped version', async () => {
    const { id } = await createProduct(local.api, { name: 'Watched', stock: 5 });
    const apiKey = { 'x-api-key': local.stack.apiKey };
    const subscriber = await connect(apiKey);
    const query = 'subscription ($id: ID) { onProductUpdated(id: $id) { id name version stock } }';
    expect((await subscriber.start('u1', query, { id }, apiKey)).type).toBe('start_ack');

    const res = await local.api.request(UpdateProductDocument, { input: { id, expectedVersion: 1, name: 'Renamed' } }, local.api.admin());
    expect(res.data?.updateProduct).toMatchObject({ name: 'Renamed', version: 2 });
    const event = await subscriber.next((m) => m.type === 'data' && m.id === 'u1');
    // What was written (the mutation's ALL_NEW result), not what the caller sent: version 2 was never in the input.
    expect(event.payload).toEqual({ data: { onProductUpdated: { id, name: 'Renamed', version: 2, stock: 5 } } });
  });

  it('delivers order status changes to a signed-in subscriber filtered by customerId', async () => {
    const { id: product } = await createProduct(local.api, { name: 'Watched', stock: 10 });
    const alice = local.api.user('alice-sub') as { token: string };
    const placed = await local.api.request(
      PlaceOrderDocument,
      { input: { clientToken: 'sub-1', items: [{ productId: product, quantity: 1 }] } },
      alice,
    );
    const auth = { Authorization: alice.token };
    const client = await connect(auth);
    const query = 'subscription ($c: ID!) { onOrderStatusChanged(customerId: $c) { id status } }';
    expect((await client.start('o1', query, { c: 'alice-sub' }, auth)).type).toBe('start_ack');
    await local.api.request(UpdateOrderStatusDocument, { id: placed.data!.placeOrder.id, status: 'PAID' }, local.api.admin());
    const event = await client.next((m) => m.type === 'data');
    expect(event.payload).toEqual({ data: { onOrderStatusChanged: { id: placed.data!.placeOrder.id, status: 'PAID' } } });
  });

  it("runs the subscription resolver at subscribe time: a customer cannot follow another customer's orders", async () => {
    const mallory = local.api.user('mallory-sub') as { token: string };
    const auth = { Authorization: mallory.token };
    const client = await connect(auth);
    const before = local.api.invocations('orders');
    const query = 'subscription ($c: ID!) { onOrderStatusChanged(customerId: $c) { id status } }';
    const refused = await client.start('spy', query, { c: 'alice-sub' }, auth);
    expect(refused.type).toBe('error');
    expect(JSON.stringify(refused.payload)).toContain('Unauthorized');
    expect((await client.start('own', query, { c: 'mallory-sub' }, auth)).type).toBe('start_ack');
    expect(local.api.invocations('orders') - before).toBe(2);
    const admin = local.api.admin() as { token: string };
    const adminClient = await connect({ Authorization: admin.token });
    expect((await adminClient.start('any', query, { c: 'alice-sub' }, { Authorization: admin.token })).type).toBe('start_ack');
  });

  it('refuses an API-key subscriber to a user-pool-only subscription', async () => {
    const apiKey = { 'x-api-key': local.stack.apiKey };
    const client = await connect(apiKey);
    const reply = await client.start('o2', 'subscription { onOrderStatusChanged(customerId: "x") { id } }', {}, apiKey);
    expect(reply.type).toBe('error');
    expect(JSON.stringify(reply.payload)).toContain('Unauthorized');
  });

  it('authenticates an IAM connection by the signature of POST /graphql/connect with body {}', async () => {
    const graphqlUrl = local.stack.graphqlUrl;
    const connectHeaders = await signRequest(
      {
        method: 'POST',
        url: `${graphqlUrl}/connect`,
        headers: {
          accept: 'application/json, text/javascript',
          'content-encoding': 'amz-1.0',
          'content-type': 'application/json; charset=UTF-8',
        },
        body: '{}',
      },
      local.stack.iamPrincipal,
      'us-east-1',
    );
    const client = await RealtimeClient.connect(local.stack.realtimeUrl, { headers: connectHeaders });
    clients.push(client);
    expect((await client.init()).type).toBe('connection_ack');

    const forged = await RealtimeClient.connect(local.stack.realtimeUrl, {
      headers: { ...connectHeaders, 'x-amz-date': '20200101T000000Z' },
    });
    clients.push(forged);
    expect((await forged.init()).type).toBe('connection_error');
  });

  it('keeps mutations working with no subscribers and publishes nothing for failed mutations', async () => {
    const before = local.stack.realtime.stats().deliveries;
    const res = await local.api.request(AdjustStockDocument, { id: 'missing', delta: 1 }, local.api.admin());
    expect(res.errors?.[0]?.errorType).toBe('NotFound');
    expect(local.stack.realtime.stats().deliveries).toBe(before);
    expect(print(AdjustStockDocument)).toContain('adjustStock');
  });
});

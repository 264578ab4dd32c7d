/**
 * The real-time endpoint over real WebSockets (`ws` clients) against a real
 * http.Server on 127.0.0.1:0: every protocol message and error path,
 * argument filtering, projection, enhanced filters, slow consumers, shutdown.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getOperationAST, parse } from 'graphql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api } from '../../declarations/api.js';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import { RequestAuthenticator } from '../../local/appsync/authentication.js';
import { FieldAuthorization } from '../../local/appsync/field-authorization.js';
import { DocumentCache } from '../../local/graphql/document-cache.js';
import { MutationEvents, type MutationExecuted } from '../../local/graphql/mutation-events.js';
import { RealtimeClient, UpgradeRefused, type ServerMessage } from '../../local/realtime/client.js';
import type { Authenticate } from '../../local/realtime/connection.js';
import { attachRealtime, type RealtimeEndpoint, type RealtimeOptions } from '../../local/realtime/realtime-server.js';

/** A small schema exercising what the storefront one cannot: a nested field only user pools may read. */
const testSchema = buildAppSyncSchema(`
  type Item @aws_api_key @aws_cognito_user_pools {
    id: ID!
    owner: String
    name: String
    price: Int
    secret: String @aws_cognito_user_pools
    tags: [String]
  }
  type Query { item(id: ID!): Item }
  type Mutation {
    updateItem(id: ID!, name: String): Item
    deleteItem(id: ID!): Item
    adminOnly(id: ID!): Item
  }
  type Subscription {
    onItem(id: ID, owner: String): Item @aws_subscribe(mutations: ["updateItem", "deleteItem"]) @aws_api_key @aws_cognito_user_pools
    onAdmin: Item @aws_subscribe(mutations: ["adminOnly"]) @aws_cognito_user_pools(cognito_groups: ["admin"])
  }
`);

const API = { 'x-api-key': 'good' };
const USER = { Authorization: 'user:alice' };
const ADMIN = { Authorization: 'user:root:admin' };

/** API key 'good', or `Authorization: user:<name>[:group,...]`. */
const fakeAuthenticate: Authenticate = async (headers) => {
  if (headers['x-api-key'] === 'good') return { ok: true, caller: { mode: 'API_KEY', groups: [] }, identity: null };
  const match = /^user:([^:]+)(?::(.*))?$/.exec(headers['authorization'] ?? '');
  if (match) {
    const groups = match[2] ? match[2].split(',') : [];
    return {
      ok: true,
      caller: { mode: 'AMAZON_COGNITO_USER_POOLS', groups },
      identity: { sub: match[1]!, issuer: 'test', username: match[1]!, claims: {}, sourceIp: [], defaultAuthStrategy: 'ALLOW', groups },
    };
  }
  return { ok: false, message: 'You are not authorized to make this call.' };
};

const item = (id: string, owner: string | null, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  owner,
  name: `name-${id}`,
  price: 10,
  secret: `secret-${id}`,
  tags: ['a'],
  ...extra,
});

interface Harness {
  server: Server;
  realtime: RealtimeEndpoint;
  url: (path?: string) => string;
  clients: RealtimeClient[];
  connect: (options?: Parameters<typeof RealtimeClient.connect>[1], path?: string) => Promise<RealtimeClient>;
  ready: (headers?: Record<string, string>) => Promise<RealtimeClient>;
}

let harness: Harness | undefined;

async function start(options: Partial<Omit<RealtimeOptions, 'server'>> = {}): Promise<Harness> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const schema = options.schema ?? testSchema;
  const realtime = attachRealtime({
    authenticate: fakeAuthenticate,
    authorization: new FieldAuthorization(schema, 'API_KEY'),
    ...options,
    schema,
    server,
  });
  const port = (server.address() as AddressInfo).port;
  const clients: RealtimeClient[] = [];
  const h: Harness = {
    server,
    realtime,
    clients,
    url: (path = '/graphql/realtime') => `ws://127.0.0.1:${port}${path}`,
    connect: async (connectOptions = { headers: API }, path) => {
      const client = await RealtimeClient.connect(h.url(path), connectOptions);
      clients.push(client);
      return client;
    },
    ready: async (headers = API) => {
      const client = await h.connect({ headers });
      expect((await client.init()).type).toBe('connection_ack');
      return client;
    },
  };
  harness = h;
  return h;
}

afterEach(async () => {
  if (!harness) return;
  const { clients, realtime, server } = harness;
  harness = undefined;
  await Promise.all(clients.map((c) => c.close()));
  await realtime.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const ON_ITEM = 'subscription S($id: ID, $owner: String) { onItem(id: $id, owner: $owner) { id owner name } }';
const nextData = (client: RealtimeClient, id: string, timeoutMs = 2000): Promise<ServerMessage> =>
  client.next((m) => m.type === 'data' && m.id === id, timeoutMs);
const dataOf = (message: ServerMessage): unknown => message.payload?.['data'];
const errorOf = (message: ServerMessage): { errorType: string; message: string } =>
  (message.payload?.['errors'] as Array<{ errorType: string; message: string }>)[0]!;

/**
 * Proving that nothing (more) arrives without a quiet period: each client also subscribes to `onAdmin`,
 * which no `onItem` event triggers. Publishing an `adminOnly` event after the events under test sends a
 * marker on every socket; messages on one socket arrive in order, so once a client has its marker, every
 * delivery published before it has arrived too, and `pending` is complete.
 */
const MARKER = 'marker';
async function startMarker(client: RealtimeClient): Promise<void> {
  expect(await client.start(MARKER, 'subscription { onAdmin { id } }', {}, ADMIN)).toEqual({ type: 'start_ack', id: MARKER });
}
async function markerArrived(h: Harness, clients: readonly RealtimeClient[]): Promise<void> {
  expect(h.realtime.publish('adminOnly', item(MARKER, null))).toBe(clients.length);
  for (const client of clients) expect(dataOf(await nextData(client, MARKER))).toEqual({ onAdmin: { id: MARKER } });
}

describe('connecting', () => {
  it('refuses an upgrade without the graphql-ws subprotocol', async () => {
    const h = await start();
    await expect(h.connect({ headers: API, protocols: [] })).rejects.toEqual(new UpgradeRefused(400));
    await expect(h.connect({ headers: API, protocols: ['graphql-transport-ws'] })).rejects.toEqual(new UpgradeRefused(400));
    expect(h.realtime.stats().connections).toBe(0);
  });

  it('answers connection_init with connection_ack (connectionTimeoutMs) and sends ka periodically', async () => {
    const h = await start({ connectionTimeoutMs: 12345, keepAliveMs: 40 });
    const client = await h.connect({ headers: API, via: 'query' });
    expect(client.ws.protocol).toBe('graphql-ws');
    expect(await client.init()).toEqual({ type: 'connection_ack', payload: { connectionTimeoutMs: 12345 } });
    await client.next((m) => m.type === 'ka');
    await client.next((m) => m.type === 'ka');
    await client.next((m) => m.type === 'ka');
    expect(h.realtime.stats()).toMatchObject({ connections: 1, acknowledgedConnections: 1 });
  });

  it('accepts the aws-amplify v6 header- subprotocol and the paths amplify derives', async () => {
    const h = await start({ path: '/custom' });
    for (const path of ['/custom', '/graphql/realtime', '/api/graphql/realtime', '/realtime']) {
      const client = await h.connect({ headers: API, via: 'subprotocol' }, path);
      expect((await client.init()).type).toBe('connection_ack');
    }
    await expect(h.connect({ headers: API }, '/graphql')).rejects.toEqual(new UpgradeRefused(404));
  });

  it.each(['query', 'subprotocol'] as const)('rejects bad credentials sent via %s with connection_error and closes', async (via) => {
    const h = await start();
    const client = await h.connect({ headers: { 'x-api-key': 'bad' }, via });
    expect(await client.init()).toEqual({
      type: 'connection_error',
      payload: { errors: [{ errorType: 'UnauthorizedException', message: 'You are not authorized to make this call.', errorCode: 401 }] },
    });
    expect(await client.closed).toEqual({ code: 4401, reason: 'UnauthorizedException' });
    expect(h.realtime.stats().connections).toBe(0);
  });

  it('rejects a header that is not base64 JSON as a bad request', async () => {
    const h = await start();
    const client = await RealtimeClient.connect(`${h.url()}?header=%%%&payload=e30=`, { protocols: ['graphql-ws'] });
    h.clients.push(client);
    const error = await client.init();
    expect(error.type).toBe('connection_error');
    expect(errorOf(error)).toMatchObject({ errorType: 'BadRequestException', errorCode: 400 });
  });

  it('closes a socket that never sends connection_init', async () => {
    const h = await start({ connectionInitTimeoutMs: 100 });
    const client = await h.connect();
    // The close reason proves the init timer fired (not, say, a server shutdown).
    expect(await client.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('refuses upgrades beyond maxConnections', async () => {
    const h = await start({ maxConnections: 2 });
    await h.ready();
    await h.ready();
    await expect(h.connect()).rejects.toEqual(new UpgradeRefused(429));
  });

  it('works with the real RequestAuthenticator and an API key', async () => {
    const schema = buildAppSyncSchema();
    const authenticator = new RequestAuthenticator({
      api,
      apiKeys: [{ id: 'da2-realtimekey', expires: Math.floor(Date.now() / 1000) + 60 }],
    });
    const h = await start({ schema, authenticate: (headers, ip) => authenticator.authenticate(headers, ip) });
    const key = { 'x-api-key': 'da2-realtimekey' };

    const refused = await h.connect({ headers: { 'x-api-key': 'da2-wrong' } });
    expect(errorOf(await refused.init()).errorType).toBe('UnauthorizedException');

    const client = await h.ready(key);
    const query = 'subscription { onProductUpdated(id: "p1") { id name stock } }';
    expect(await client.start('1', query, {}, { ...key, host: '127.0.0.1' })).toEqual({ type: 'start_ack', id: '1' });
    // Order is user-pool only: an API key may not subscribe to it.
    const denied = await client.start('2', 'subscription { onOrderStatusChanged(customerId: "a") { id } }', {}, key);
    expect(errorOf(denied)).toEqual({
      errorType: 'Unauthorized',
      message: 'Not Authorized to access onOrderStatusChanged on type Subscription',
    });

    expect(h.realtime.publish('adjustStock', { id: 'p2', name: 'other', stock: 1 })).toBe(0);
    expect(h.realtime.publish('updateProduct', { id: 'p1', name: 'Book', stock: 3, priceCents: 100 })).toBe(1);
    expect(await nextData(client, '1')).toEqual({
      type: 'data',
      id: '1',
      payload: { data: { onProductUpdated: { id: 'p1', name: 'Book', stock: 3 } } },
    });
  });
});

describe('subscribing', () => {
  it('start → start_ack → data → stop → complete, and no data after stop', async () => {
    const h = await start();
    const client = await h.ready();
    expect(await client.start('sub-1', ON_ITEM, { id: 'i1' }, API)).toEqual({ type: 'start_ack', id: 'sub-1' });
    expect(h.realtime.publish('updateItem', item('i1', 'alice'))).toBe(1);
    expect(await nextData(client, 'sub-1')).toEqual({
      type: 'data',
      id: 'sub-1',
      payload: { data: { onItem: { id: 'i1', owner: 'alice', name: 'name-i1' } } },
    });
    await startMarker(client);
    expect(await client.stop('sub-1')).toEqual({ type: 'complete', id: 'sub-1' });
    expect(h.realtime.publish('updateItem', item('i1', 'alice'))).toBe(0);
    await markerArrived(h, [client]);
    expect(client.pending.filter((m) => m.type === 'data')).toEqual([]);
    expect(h.realtime.stats().subscriptions).toBe(1); // the marker's
  });

  it('allows start without connection_init (optional in AppSync) but still authenticates the connection', async () => {
    const h = await start();
    const client = await h.connect();
    expect((await client.start('1', ON_ITEM, {}, API)).type).toBe('start_ack');
    const bad = await h.connect({ headers: { 'x-api-key': 'nope' } });
    bad.send({ id: '1', type: 'start', payload: { data: JSON.stringify({ query: ON_ITEM }), extensions: { authorization: API } } });
    expect((await bad.next()).type).toBe('connection_error');
  });

  it.each([
    ['a syntax error', 'subscription { onItem { id ', 'ValidationError', /Syntax Error/],
    ['an unknown field', 'subscription { onNothing { id } }', 'ValidationError', /Cannot query field "onNothing" on type "Subscription"/],
    ['an unknown nested field', 'subscription { onItem { id colour } }', 'ValidationError', /Cannot query field "colour"/],
    ['two root fields', 'subscription { onItem { id } onAdmin { id } }', 'ValidationError', /must select only one top level field/],
    ['a query', 'query { item(id: "1") { id } }', 'UnsupportedOperation', /^query not supported through the realtime channel$/],
    ['a mutation', 'mutation { updateItem(id: "1") { id } }', 'UnsupportedOperation', /^mutation not supported/],
    [
      'two unnamed operations',
      'subscription A { onItem { id } } subscription B { onItem { name } }',
      'ValidationError',
      /exactly one operation/,
    ],
    ['a bad variable', 'subscription ($id: ID) { onItem(id: $id) { id } }', 'ValidationError', /Variable "\$id"/],
  ])('answers %s with an error message for that id', async (_what, query, errorType, message) => {
    const h = await start();
    const client = await h.ready();
    const answer = await client.start('x', query, query.includes('$id') ? { id: { not: 'an id' } } : {}, API);
    expect(answer.type).toBe('error');
    expect(answer.id).toBe('x');
    expect(errorOf(answer).errorType).toBe(errorType);
    expect(errorOf(answer).message).toMatch(message);
    expect(h.realtime.stats().subscriptions).toBe(0);
  });

  it('refuses a subscription field the caller may not access (auth mode and cognito group)', async () => {
    const h = await start();
    const client = await h.ready();
    expect(errorOf(await client.start('1', 'subscription { onAdmin { id } }', {}, API))).toEqual({
      errorType: 'Unauthorized',
      message: 'Not Authorized to access onAdmin on type Subscription',
    });
    expect(errorOf(await client.start('2', 'subscription { onAdmin { id } }', {}, USER)).errorType).toBe('Unauthorized');
    expect((await client.start('3', 'subscription { onAdmin { id } }', {}, ADMIN)).type).toBe('start_ack');
  });

  it('authenticates each start on its own extensions.authorization headers', async () => {
    const h = await start();
    const client = await h.ready();
    expect(errorOf(await client.start('1', ON_ITEM, {}, { 'x-api-key': 'bad' }))).toMatchObject({ errorType: 'UnauthorizedException' });
    client.send({ id: '2', type: 'start', payload: { data: JSON.stringify({ query: ON_ITEM }) } });
    expect(errorOf(await client.next((m) => m.id === '2'))).toMatchObject({ errorType: 'UnauthorizedException' });
    // A user-pool subscription on an API-key connection: modes may differ per subscription.
    expect((await client.start('3', 'subscription { onAdmin { id } }', {}, ADMIN)).type).toBe('start_ack');
  });

  it('hands the authenticator the handshake without a body, and each start with its payload.data (what IAM signs there)', async () => {
    const seen: Array<string | undefined> = [];
    const h = await start({
      authenticate: (headers, ip, startData) => {
        seen.push(startData);
        return fakeAuthenticate(headers, ip, startData);
      },
    });
    const client = await h.ready();
    const data = JSON.stringify({ query: ON_ITEM, variables: { id: 'x' } });
    client.send({ id: 'signed', type: 'start', payload: { data, extensions: { authorization: API } } });
    expect((await client.next((m) => m.id === 'signed')).type).toBe('start_ack');
    expect(seen).toEqual([undefined, data]);
  });

  it('answers a duplicate id, an unknown stop id, malformed JSON and unknown types with errors, and keeps serving', async () => {
    const h = await start();
    const client = await h.ready();
    expect((await client.start('dup', ON_ITEM, {}, API)).type).toBe('start_ack');
    expect(errorOf(await client.start('dup', ON_ITEM, {}, API)).errorType).toBe('DuplicatedOperationError');
    const unknownStop = await client.stop('never-started');
    expect(unknownStop).toMatchObject({ type: 'error', id: 'never-started' });
    expect(errorOf(unknownStop).errorType).toBe('UnknownOperationError');

    client.send('{not json');
    const malformed = await client.next((m) => m.type === 'error');
    expect(malformed.id).toBeUndefined();
    expect(errorOf(malformed)).toMatchObject({ errorType: 'BadRequestException', message: 'The message is not valid JSON' });
    client.send({ type: 'subscribe', id: 's', payload: {} });
    expect(await client.next((m) => m.type === 'error')).toEqual({
      type: 'error',
      id: 's',
      payload: { errors: [{ errorType: 'UnsupportedOperation', message: 'unknown not supported through the realtime channel' }] },
    });
    client.send({ type: 'start', payload: {} });
    expect(errorOf(await client.next((m) => m.type === 'error')).errorType).toBe('BadRequestException');
    client.send({ type: 'start', id: 'nodata', payload: { data: '{"query": 1}' } });
    expect(errorOf(await client.next((m) => m.id === 'nodata')).errorType).toBe('BadRequestException');

    expect(h.realtime.publish('updateItem', item('i1', 'bob'))).toBe(1);
    expect(dataOf(await nextData(client, 'dup'))).toEqual({ onItem: { id: 'i1', owner: 'bob', name: 'name-i1' } });
  });

  it('limits subscriptions per connection', async () => {
    const h = await start({ maxSubscriptionsPerConnection: 2 });
    const client = await h.ready();
    await client.start('1', ON_ITEM, {}, API);
    await client.start('2', ON_ITEM, {}, API);
    expect(errorOf(await client.start('3', ON_ITEM, {}, API)).errorType).toBe('LimitExceededError');
  });

  it('forgets a socket’s subscriptions when it closes', async () => {
    const h = await start();
    const client = await h.ready();
    await client.start('1', ON_ITEM, {}, API);
    await client.start('2', ON_ITEM, { owner: 'x' }, API);
    expect(h.realtime.stats().subscriptions).toBe(2);
    await client.close();
    await vi.waitFor(() =>
      expect(h.realtime.stats()).toMatchObject({
        connections: 0,
        subscriptions: 0,
        hub: { subscriptions: 0, buckets: 0, combinations: 0 },
      }),
    );
    expect(h.realtime.publish('updateItem', item('i1', 'x'))).toBe(0);
  });
});

describe('publishing', () => {
  it('delivers each event to exactly the subscribers whose arguments match it', async () => {
    const h = await start();
    const subscribers = {
      all: { args: {} },
      alice: { args: { owner: 'alice' } },
      bob: { args: { owner: 'bob' } },
      i1: { args: { id: 'i1' } },
      aliceI2: { args: { id: 'i2', owner: 'alice' } },
    } as const;
    const clients = new Map<string, RealtimeClient>();
    for (const [name, { args }] of Object.entries(subscribers)) {
      const client = await h.ready();
      expect((await client.start(name, ON_ITEM, args, API)).type).toBe('start_ack');
      await startMarker(client);
      clients.set(name, client);
    }
    const events = [item('i1', 'alice'), item('i2', 'alice'), item('i2', 'bob'), item('i3', null), item('i1', 'bob')];
    const expected: Record<string, string[]> = {
      all: ['i1/alice', 'i2/alice', 'i2/bob', 'i3/null', 'i1/bob'],
      alice: ['i1/alice', 'i2/alice'],
      bob: ['i2/bob', 'i1/bob'],
      i1: ['i1/alice', 'i1/bob'],
      aliceI2: ['i2/alice'],
    };
    let deliveries = 0;
    for (const [n, event] of events.entries()) deliveries += h.realtime.publish(n % 2 === 0 ? 'updateItem' : 'deleteItem', event);
    expect(deliveries).toBe(Object.values(expected).flat().length);
    for (const [name, client] of clients) {
      const got: string[] = [];
      for (let i = 0; i < expected[name]!.length; i += 1) {
        const { onItem } = dataOf(await nextData(client, name)) as { onItem: { id: string; owner: string | null } };
        got.push(`${onItem.id}/${String(onItem.owner)}`);
      }
      expect(got, name).toEqual(expected[name]);
    }
    await markerArrived(h, [...clients.values()]);
    for (const client of clients.values()) expect(client.pending.filter((m) => m.type === 'data')).toEqual([]);
  });

  it('projects the result onto each subscriber’s own selection (subset, aliases, fragments, __typename)', async () => {
    const h = await start();
    const client = await h.ready();
    await client.start('small', 'subscription { onItem { name } }', {}, API);
    await client.start(
      'fancy',
      'subscription Fancy { changed: onItem { __typename itemId: id ...Bits ... on Item { tags } } } fragment Bits on Item { price owner }',
      {},
      API,
    );
    h.realtime.publish('updateItem', item('i9', 'carol'));
    expect(dataOf(await nextData(client, 'small'))).toEqual({ onItem: { name: 'name-i9' } });
    expect(dataOf(await nextData(client, 'fancy'))).toEqual({
      changed: { __typename: 'Item', itemId: 'i9', price: 10, owner: 'carol', tags: ['a'] },
    });
  });

  it('nulls a nested field the subscriber may not read, with an Unauthorized error, as queries do', async () => {
    const h = await start();
    const apiClient = await h.ready();
    const userClient = await h.ready(USER);
    const query = 'subscription { onItem { id secret } }';
    await apiClient.start('k', query, {}, API);
    await userClient.start('u', query, {}, USER);
    h.realtime.publish('updateItem', item('i1', 'alice'));
    const forKey = await nextData(apiClient, 'k');
    expect(dataOf(forKey)).toEqual({ onItem: { id: 'i1', secret: null } });
    expect(forKey.payload?.['errors']).toEqual([
      expect.objectContaining({
        errorType: 'Unauthorized',
        message: 'Not Authorized to access secret on type Item',
        path: ['onItem', 'secret'],
      }),
    ]);
    const forUser = await nextData(userClient, 'u');
    expect(forUser.payload).toEqual({ data: { onItem: { id: 'i1', secret: 'secret-i1' } } });
  });

  it('applies enhanced filters set for a subscription in addition to its arguments', async () => {
    const h = await start({
      subscriptionFilter: ({ fieldName, caller }) =>
        fieldName === 'onItem' && caller.mode === 'API_KEY'
          ? { filterGroup: [{ filters: [{ fieldName: 'price', operator: 'ge', value: 100 }] }] }
          : null,
    });
    const keyClient = await h.ready();
    const userClient = await h.ready(USER);
    await keyClient.start('k', 'subscription { onItem(owner: "alice") { id price } }', {}, API);
    await userClient.start('u', 'subscription { onItem(owner: "alice") { id price } }', {}, USER);
    expect(h.realtime.publish('updateItem', item('cheap', 'alice', { price: 5 }))).toBe(1);
    expect(h.realtime.publish('updateItem', item('dear', 'alice', { price: 500 }))).toBe(2);
    expect(h.realtime.publish('updateItem', item('dear', 'bob', { price: 500 }))).toBe(0);
    expect(dataOf(await nextData(keyClient, 'k'))).toEqual({ onItem: { id: 'dear', price: 500 } });
    expect(dataOf(await nextData(userClient, 'u'))).toEqual({ onItem: { id: 'cheap', price: 5 } });
    expect(dataOf(await nextData(userClient, 'u'))).toEqual({ onItem: { id: 'dear', price: 500 } });
  });

  it('rejects an invalid enhanced filter at start', async () => {
    const h = await start({ subscriptionFilter: () => ({ filterGroup: [] }) });
    const client = await h.ready();
    expect(errorOf(await client.start('1', ON_ITEM, {}, API))).toMatchObject({ errorType: 'ValidationError' });
  });

  it('refuses to publish an unknown mutation field', async () => {
    const h = await start();
    expect(() => h.realtime.publish('nope', {})).toThrow(/not a Mutation field/);
    expect(h.realtime.publish('adminOnly', item('i', 'o'))).toBe(0);
  });

  it('closes a consumer that stops reading, without holding up the others', async () => {
    const h = await start({ maxBufferedBytes: 64 * 1024 });
    const fast = await h.ready();
    await fast.start('f', 'subscription { onItem { id name } }', {}, API);

    // A raw client that completes the handshake, subscribes, then never reads again.
    const port = (h.server.address() as AddressInfo).port;
    const header = Buffer.from(JSON.stringify(API)).toString('base64url');
    const slow = connect(port, '127.0.0.1');
    slow.on('error', () => undefined);
    const slowClosed = new Promise<void>((resolve) => slow.once('close', () => resolve()));
    slow.write(
      'GET /graphql/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-ws, header-${header}\r\n\r\n`,
    );
    slow.write(
      maskedFrame(
        JSON.stringify({
          id: 's',
          type: 'start',
          payload: { data: JSON.stringify({ query: 'subscription { onItem { id name } }' }), extensions: { authorization: API } },
        }),
      ),
    );
    await vi.waitFor(() => expect(h.realtime.stats().subscriptions).toBe(2));
    slow.pause();

    const big = 'x'.repeat(100 * 1024);
    let fastReceived = 0;
    for (let i = 0; i < 200; i += 1) {
      h.realtime.publish('updateItem', item(`i${i}`, 'o', { name: big }));
      // The fast client reads every event as it comes, whatever the slow one does.
      expect((dataOf(await nextData(fast, 'f')) as { onItem: { id: string } }).onItem.id).toBe(`i${i}`);
      fastReceived += 1;
      if (h.realtime.stats().slowConsumersClosed > 0) break;
    }
    expect(h.realtime.stats().slowConsumersClosed).toBe(1);
    // Reading again, the raw client drains what was queued and then sees the server's close.
    slow.resume();
    await slowClosed;
    expect(h.realtime.stats()).toMatchObject({ connections: 1, subscriptions: 1 });
    expect(fastReceived).toBe(h.realtime.stats().publishes);
    expect(h.realtime.publish('updateItem', item('after', 'o'))).toBe(1);
    expect(dataOf(await nextData(fast, 'f'))).toEqual({ onItem: { id: 'after', name: 'name-after' } });
  });

  it('close() closes every socket with 1001 and stops accepting upgrades', async () => {
    const h = await start();
    const a = await h.ready();
    const b = await h.connect();
    await h.realtime.close();
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    await expect(RealtimeClient.connect(h.url(), { headers: API })).rejects.toBeInstanceOf(Error);
  });
});

/** What the executor emits after a mutation request (local/graphql/mutation-events.ts). */
function executed(query: string, data: Record<string, unknown>, variables: Record<string, unknown> = {}): MutationExecuted {
  const document = parse(query);
  const operation = getOperationAST(document);
  if (!operation) throw new Error('no operation');
  return { document, operation, variables, data };
}

describe('publishing mutation events', () => {
  it('publishMutation undoes the request’s aliases, fragments and @skip/@include, then fans out', async () => {
    const h = await start();
    const client = await h.ready();
    await client.start('1', ON_ITEM, { owner: 'alice' }, API);
    const event = executed(
      'mutation M($full: Boolean!) { renamed: updateItem(id: "i1") { itemId: id who: owner ...N @include(if: $full) price @skip(if: $full) } } fragment N on Item { title: name }',
      { renamed: { itemId: 'i1', who: 'alice', title: 'Book' } },
      { full: true },
    );
    expect(h.realtime.publishMutation(event)).toBe(1);
    expect(dataOf(await nextData(client, '1'))).toEqual({ onItem: { id: 'i1', owner: 'alice', name: 'Book' } });
    // A mutation field whose value is null (it failed) publishes nothing; a query publishes nothing.
    expect(h.realtime.publishMutation(executed('mutation { updateItem(id: "i1") { id } }', { updateItem: null }))).toBe(0);
    expect(h.realtime.publishMutation(executed('query { item(id: "i1") { id owner } }', { item: { id: 'i1', owner: 'alice' } }))).toBe(0);
  });

  it('subscribes to a mutation source, publishes after the request (setImmediate), and unsubscribes on close', async () => {
    const mutations = new MutationEvents();
    const h = await start({ mutations });
    expect(mutations.listening).toBe(true);
    const client = await h.ready();
    await client.start('1', ON_ITEM, {}, API);
    mutations.emit(executed('mutation { updateItem(id: "i2") { id owner name } }', { updateItem: item('i2', 'bob') }));
    // Nothing is sent within the emitting request itself.
    expect(h.realtime.stats().publishes).toBe(0);
    expect(dataOf(await nextData(client, '1'))).toEqual({ onItem: { id: 'i2', owner: 'bob', name: 'name-i2' } });
    expect(h.realtime.stats().publishes).toBe(1);
    await h.realtime.close();
    expect(mutations.listening).toBe(false);
  });

  it('prepares start documents in the DocumentCache it is given (the executor’s)', async () => {
    const documents = new DocumentCache({ schema: testSchema });
    const h = await start({ documents });
    const client = await h.ready();
    expect((await client.start('1', ON_ITEM, {}, API)).type).toBe('start_ack');
    expect(documents.size).toBe(1);
    expect(documents.prepare(ON_ITEM).ok).toBe(true);
    expect(documents.size).toBe(1);
  });
});

describe('over TLS', () => {
  // aws-amplify v6 always connects with wss:// (it rewrites http:// too), so the endpoint must work on an https.Server.
  const openssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!openssl)('serves wss:// on an https.Server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'realtime-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'));
      const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const realtime = attachRealtime({
        server,
        schema: testSchema,
        authenticate: fakeAuthenticate,
        authorization: new FieldAuthorization(testSchema, 'API_KEY'),
      });
      try {
        const client = await RealtimeClient.connect(`wss://127.0.0.1:${(server.address() as AddressInfo).port}/graphql/realtime`, {
          headers: API,
          ca: cert,
        });
        expect((await client.init()).type).toBe('connection_ack');
        expect((await client.start('1', ON_ITEM, {}, API)).type).toBe('start_ack');
        expect(realtime.publish('updateItem', item('i1', 'o'))).toBe(1);
        expect(dataOf(await nextData(client, '1'))).toEqual({ onItem: { id: 'i1', owner: 'o', name: 'name-i1' } });
        await client.close();
      } finally {
        await realtime.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A masked client text frame (RFC 6455 §5.2), for the raw slow client. */
function maskedFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x81, 0x80 | length]) : Buffer.from([0x81, 0x80 | 126, length >> 8, length & 0xff]);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}

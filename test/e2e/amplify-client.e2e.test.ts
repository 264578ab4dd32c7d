/**
 * A real AppSync client, aws-amplify v6's `generateClient()`, drives the local
 * runtime over HTTPS and WSS, as a frontend would: queries and mutations over
 * `fetch`, and subscriptions over the real-time WebSocket it derives itself
 * from the GraphQL endpoint (`wss://…/graphql/realtime`: Amplify appends
 * `/realtime` to a custom endpoint and always uses `wss://`, which is why the
 * runtime must serve TLS for it).
 *
 * Node 20 has neither a global WebSocket nor a way to add a CA to `fetch`
 * after start, so the test supplies the two transports a browser would, each
 * trusting the runtime's development CA: `ws`'s WebSocket as
 * `globalThis.WebSocket`, and an undici Agent as fetch's global dispatcher.
 * Both are restored afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/api';
import { decodeJWT, type TokenProvider } from 'aws-amplify/auth';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { WebSocket as NodeWebSocket, type ClientOptions } from 'ws';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AdjustStockDocument,
  CreateProductDocument,
  GetOrderDocument,
  GetProductDocument,
  PlaceOrderDocument,
  UpdateOrderStatusDocument,
} from '../../generated/client/graphql.js';
import type { LocalStack } from '../../local/runtime.js';
import { STACK_START_TIMEOUT_MS, startTestStack } from '../support/local-stack.js';

/*
 * Amplify types an operation by a branded string: its own codegen (`amplify codegen`) declares these
 * three types in every generated operations file, and `client.graphql` infers variables and result
 * from the brand. Here the project's typed documents (generated/client) get the same brand.
 */
type GeneratedQuery<InputType, OutputType> = string & { __generatedQueryInput: InputType; __generatedQueryOutput: OutputType };
type GeneratedMutation<InputType, OutputType> = string & { __generatedMutationInput: InputType; __generatedMutationOutput: OutputType };
type GeneratedSubscription<InputType, OutputType> = string & {
  __generatedSubscriptionInput: InputType;
  __generatedSubscriptionOutput: OutputType;
};
const query = <TData, TVariables>(document: TypedDocumentNode<TData, TVariables>) => print(document) as GeneratedQuery<TVariables, TData>;
const mutation = <TData, TVariables>(document: TypedDocumentNode<TData, TVariables>) =>
  print(document) as GeneratedMutation<TVariables, TData>;

type ProductUpdated = { onProductUpdated: { id: string; stock: number; version: number } | null };
const onProductUpdated = /* GraphQL */ `
  subscription OnProductUpdated($id: ID) {
    onProductUpdated(id: $id) { id stock version }
  }
` as GeneratedSubscription<{ id?: string }, ProductUpdated>;
type OrderStatusChanged = { onOrderStatusChanged: { id: string; status: string } | null };
const onOrderStatusChanged = /* GraphQL */ `
  subscription OnOrderStatusChanged($customerId: ID!) {
    onOrderStatusChanged(customerId: $customerId) { id status }
  }
` as GeneratedSubscription<{ customerId: string }, OrderStatusChanged>;

const WAIT_MS = 10_000;

let stack: LocalStack;
let certificateDir: string;
let previousDispatcher: Dispatcher;
let trustingAgent: Agent | undefined;
const previousWebSocket = (globalThis as { WebSocket?: unknown }).WebSocket;

/**
 * Who Amplify's `authMode: 'userPool'` speaks for. A custom token provider is
 * Amplify's documented hook for tokens that do not come from a Cognito sign-in;
 * it hands out tokens minted by the local dev user pool, so requests take the
 * real user-pool path (Amplify sends the access token in `Authorization`).
 */
let signedIn: string | undefined;
const tokenProvider: TokenProvider = {
  async getTokens() {
    return signedIn ? { accessToken: decodeJWT(signedIn) } : null;
  },
};
function signIn(username: string, groups: string[] = []): void {
  signedIn = stack.userPool.mint({ username, sub: username, groups, tokenUse: 'access' });
}

const client = generateClient();
const subscriptions: Array<{ unsubscribe(): void }> = [];

beforeAll(async () => {
  certificateDir = await mkdtemp(join(tmpdir(), 'amplify-e2e-certs-'));
  ({ stack } = await startTestStack({ https: { certificateDir } }));
  const ca = stack.caCertificatePem!;

  // fetch (undici inside Node) reads its dispatcher from a process-wide slot that the npm undici shares.
  previousDispatcher = getGlobalDispatcher();
  trustingAgent = new Agent({ connect: { ca } });
  setGlobalDispatcher(trustingAgent);
  // Amplify calls `new WebSocket(url, protocols)`; ws takes TLS options as a third argument.
  class TrustingWebSocket extends NodeWebSocket {
    constructor(url: string | URL, protocols?: string | string[], options?: ClientOptions) {
      super(url, protocols, { ...options, ca });
    }
  }
  (globalThis as { WebSocket?: unknown }).WebSocket = TrustingWebSocket;

  Amplify.configure(
    { API: { GraphQL: { endpoint: stack.graphqlUrl, region: 'us-east-1', defaultAuthMode: 'apiKey', apiKey: stack.apiKey } } },
    { Auth: { tokenProvider } },
  );
}, STACK_START_TIMEOUT_MS);

afterEach(async () => {
  for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
  signedIn = undefined;
});

afterAll(async () => {
  if (stack) {
    // Amplify sends `stop` for each subscription and closes its socket a second after the last one;
    // wait for that rather than cut it off, so no reconnection attempt outlives the test.
    await vi
      .waitFor(() => expect(stack.realtime.stats().connections, 'Amplify to close its WebSocket').toBe(0), {
        timeout: WAIT_MS,
        interval: 20,
      })
      .catch(() => undefined);
    await stack.stop();
  }
  if (previousDispatcher) setGlobalDispatcher(previousDispatcher);
  await trustingAgent?.close();
  (globalThis as { WebSocket?: unknown }).WebSocket = previousWebSocket;
  if (certificateDir) await rm(certificateDir, { recursive: true, force: true });
});

/**
 * Starts an Amplify subscription and resolves with its first event; `ready` resolves once the server
 * holds it. (T is given at the call: TypeScript cannot infer it through rxjs's overloaded `subscribe`.)
 */
function subscribeOnce<T>(observable: {
  subscribe(observer: { next(value: T): void; error(error: unknown): void }): { unsubscribe(): void };
}): {
  ready: Promise<void>;
  event: Promise<T>;
} {
  const before = stack.realtime.stats().subscriptions;
  let settle!: { resolve(value: T): void; reject(error: unknown): void };
  const event = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
  const timer = setTimeout(() => settle.reject(new Error(`No subscription event within ${WAIT_MS} ms`)), WAIT_MS);
  event.finally(() => clearTimeout(timer)).catch(() => undefined);
  subscriptions.push(
    observable.subscribe({
      next: (value) => settle.resolve(value),
      error: (error) => settle.reject(error),
    }),
  );
  // Amplify exposes no per-subscription "acknowledged" signal; the server's own count is exact.
  const ready = Promise.race([
    vi.waitFor(() => expect(stack.realtime.stats().subscriptions, 'the subscription to be registered').toBeGreaterThan(before), {
      timeout: WAIT_MS,
      interval: 20,
    }),
    event.then(() => undefined),
  ]);
  return { ready, event };
}

describe('aws-amplify v6 against the local runtime (HTTPS + WSS)', () => {
  it('serves the endpoints Amplify derives: https:// GraphQL and wss://…/graphql/realtime', () => {
    expect(stack.graphqlUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(stack.realtimeUrl).toBe(`${stack.graphqlUrl.replace('https://', 'wss://')}/realtime`);
    expect(stack.caFile).toBe(join(certificateDir, 'ca.pem'));
  });

  it('API key: queries, and holds a live subscription that receives an admin mutation', async () => {
    signIn('amplify-admin', ['admin']);
    const created = await client.graphql({
      query: mutation(CreateProductDocument),
      variables: {
        input: { sku: `AMP-${Date.now()}`, name: 'Amplified', priceCents: 1250, currency: 'USD', category: 'amplify', stock: 4 },
      },
      authMode: 'userPool',
    });
    const id = created.data.createProduct.id;

    const read = await client.graphql({ query: query(GetProductDocument), variables: { id } });
    expect(read.errors).toBeUndefined();
    expect(read.data.product).toMatchObject({ id, name: 'Amplified', stock: 4, version: 1 });

    const { ready, event } = subscribeOnce<{ data: ProductUpdated }>(client.graphql({ query: onProductUpdated, variables: { id } }));
    await ready;

    const adjusted = await client.graphql({ query: mutation(AdjustStockDocument), variables: { id, delta: 3 }, authMode: 'userPool' });
    expect(adjusted.data.adjustStock).toMatchObject({ id, stock: 7, version: 2 });
    expect((await event).data).toEqual({ onProductUpdated: { id, stock: 7, version: 2 } });
  });

  it('API key: an admin-only mutation is refused, as AppSync refuses it', async () => {
    const refused = client.graphql({
      query: mutation(AdjustStockDocument),
      variables: { id: 'nope', delta: 1 },
    });
    // Amplify rejects with the GraphQL result when it carries errors.
    await expect(refused).rejects.toMatchObject({ errors: [expect.objectContaining({ errorType: 'Unauthorized' })] });
  });

  it('user pool: a customer places and reads an order, and is told when its status changes', async () => {
    signIn('amplify-admin', ['admin']);
    const created = await client.graphql({
      query: mutation(CreateProductDocument),
      variables: {
        input: { sku: `AMP-O-${Date.now()}`, name: 'Ordered', priceCents: 900, currency: 'USD', category: 'amplify', stock: 10 },
      },
      authMode: 'userPool',
    });
    const productId = created.data.createProduct.id;

    signIn('amplify-alice');
    const placed = await client.graphql({
      query: mutation(PlaceOrderDocument),
      variables: { input: { clientToken: `amp-${Date.now()}`, items: [{ productId, quantity: 2 }] } },
      authMode: 'userPool',
    });
    const order = placed.data.placeOrder;
    expect(order).toMatchObject({ customerId: 'amplify-alice', status: 'PLACED', totalCents: 1800 });
    const read = await client.graphql({ query: query(GetOrderDocument), variables: { id: order.id }, authMode: 'userPool' });
    expect(read.data.order).toMatchObject({ id: order.id, status: 'PLACED' });

    // The subscription's handshake and `start` carry alice's token (user-pool-only field).
    const { ready, event } = subscribeOnce<{ data: OrderStatusChanged }>(
      client.graphql({ query: onOrderStatusChanged, variables: { customerId: 'amplify-alice' }, authMode: 'userPool' }),
    );
    await ready;

    signIn('amplify-admin', ['admin']);
    await client.graphql({ query: mutation(UpdateOrderStatusDocument), variables: { id: order.id, status: 'PAID' }, authMode: 'userPool' });
    expect((await event).data).toEqual({ onOrderStatusChanged: { id: order.id, status: 'PAID' } });
  });
});

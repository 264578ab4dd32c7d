import { afterAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import { fieldRoutes } from '../../declarations/check.js';
import { api, type ApiLimits } from '../../declarations/api.js';
import { AppSyncExecutor, type InvokeResult } from '../../local/appsync/execute.js';
import { FieldAuthorization, type Caller } from '../../local/appsync/field-authorization.js';
import type { MutationExecuted } from '../../local/graphql/mutation-events.js';
import { mutationPublications } from '../../local/realtime/publisher.js';
import { LocalFunction } from '../../local/lambda/function-runtime.js';
import { encodeEvent } from '../../local/lambda/event-transfer.js';
import { orderValue, productValue } from '../support/fixtures.js';

const schema = buildAppSyncSchema();
const routes = fieldRoutes();
const authorization = new FieldAuthorization(schema, 'API_KEY');

const apiKeyCaller = { caller: { mode: 'API_KEY', groups: [] } as Caller, identity: null, headers: { 'x-api-key': 'k' } };
const userCaller = (groups: string[] = []) => ({
  caller: { mode: 'AMAZON_COGNITO_USER_POOLS', groups } as Caller,
  identity: { sub: 'u1', issuer: 'iss', username: 'u1', claims: {}, sourceIp: ['127.0.0.1'], defaultAuthStrategy: 'ALLOW', groups },
  headers: { authorization: 't' },
});

/** A fake Lambda: records every invocation and answers with `respond`. */
function recorder(respond: (fn: string, payload: ResolverEvent | ResolverEvent[]) => InvokeResult, limits: Partial<ApiLimits> = {}) {
  const calls: Array<{ fn: string; payload: ResolverEvent | ResolverEvent[] }> = [];
  const executor = new AppSyncExecutor({
    schema,
    routes,
    authorization,
    limits: { ...api.limits, ...limits },
    invoke: async (fn, payload) => {
      calls.push({ fn, payload });
      return respond(fn, payload);
    },
  });
  return { calls, executor };
}

const product = productValue;

describe('AppSyncExecutor', () => {
  it('sends the Lambda the AppSync direct resolver event', async () => {
    const { calls, executor } = recorder(() => ({ ok: true, payload: { data: product('p1') } }));
    const query = `query Q($id: ID!) { product(id: $id) { id ...F rating { count } } } fragment F on Product { name __typename }`;
    const res = await executor.execute({ query, variables: { id: 'p1' } }, apiKeyCaller);
    expect(res.errors).toBeUndefined();
    expect(calls).toHaveLength(1);
    const event = calls[0]!.payload as ResolverEvent;
    expect(calls[0]!.fn).toBe('catalog');
    expect(event.arguments).toEqual({ id: 'p1' });
    expect(event.source).toBeNull();
    expect(event.identity).toBeNull();
    expect(event.request).toEqual({ headers: { 'x-api-key': 'k' }, domainName: null });
    expect(event.info).toMatchObject({ fieldName: 'product', parentTypeName: 'Query', variables: { id: 'p1' } });
    expect(event.info.selectionSetList).toEqual(['id', 'name', 'rating', 'rating/count']);
    expect(event.info.selectionSetGraphQL).toContain('...F');
    expect(event.prev).toBeNull();
    expect(event.stash).toEqual({});
  });

  it('leaves what @skip/@include leave out of selectionSetList, with the request’s variables', async () => {
    const { calls, executor } = recorder(() => ({ ok: true, payload: { data: product('p1') } }));
    const query = `query Q($id: ID!, $full: Boolean = false) { product(id: $id) { id name @include(if: $full) ...F @skip(if: $full) } } fragment F on Product { rating { count } }`;
    await executor.execute({ query, variables: { id: 'p1' } }, apiKeyCaller);
    await executor.execute({ query, variables: { id: 'p1', full: true } }, apiKeyCaller);
    expect(calls.map((c) => (c.payload as ResolverEvent).info.selectionSetList)).toEqual([
      ['id', 'rating', 'rating/count'],
      ['id', 'name'],
    ]);
  });

  it('admits the same document again per request when a variable sets a page size: what it allows follows the variables', async () => {
    // 1 (products) + n (reviews per item): a limit of 5 resolvers admits n = 4 and refuses n = 5.
    const { calls, executor } = recorder(
      (_fn, payload) => ({
        ok: true,
        payload: Array.isArray(payload) ? payload.map(() => ({ data: { items: [] } })) : { data: { items: [], nextToken: null } },
      }),
      { resolverCountLimit: 5 },
    );
    const query = 'query Q($n: Int) { products(category: "c", limit: $n) { items { reviews { items { id } } } } }';
    const admitted = await executor.execute({ query, variables: { n: 4 } }, apiKeyCaller);
    expect(admitted.errors).toBeUndefined();
    const refused = await executor.execute({ query, variables: { n: 5 } }, apiKeyCaller);
    expect(refused).toEqual({ data: null, errors: [expect.objectContaining({ errorType: 'ResolverExecutionLimitReached' })] });
    const again = await executor.execute({ query, variables: { n: 1 } }, apiKeyCaller);
    expect(again.errors).toBeUndefined();
    expect(calls.filter((call) => call.fn === 'catalog')).toHaveLength(2);
  });

  it('reports an enveloped domain error with its errorType, path and locations, and null data for the field', async () => {
    const { executor } = recorder(() => ({
      ok: true,
      payload: { data: null, errorType: 'NotFound', errorMessage: 'gone', errorInfo: { id: 'p' } },
    }));
    const res = await executor.execute({ query: '{ product(id: "p") { id } }' }, apiKeyCaller);
    expect(res.data).toEqual({ product: null });
    expect(res.errors).toEqual([
      {
        path: ['product'],
        data: null,
        errorType: 'NotFound',
        errorInfo: { id: 'p' },
        locations: [{ line: 1, column: 3, sourceName: null }],
        message: 'gone',
      },
    ]);
  });

  it('reports a function error as Lambda:Unhandled', async () => {
    const { executor } = recorder(() => ({ ok: false, error: { errorType: 'TypeError', errorMessage: 'boom' } }));
    const res = await executor.execute({ query: '{ product(id: "p") { id } }' }, apiKeyCaller);
    expect(res.errors?.[0]).toMatchObject({ errorType: 'Lambda:Unhandled', message: 'boom', path: ['product'] });
  });

  it('refuses a field the caller may not see without invoking its function', async () => {
    const { calls, executor } = recorder(() => ({ ok: true, payload: { data: null } }));
    const res = await executor.execute({ query: '{ myOrders { items { id } } }' }, apiKeyCaller);
    expect(calls).toHaveLength(0);
    expect(res.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', message: 'Not Authorized to access myOrders on type Query' });
  });

  it('enforces cognito_groups: admin may createProduct, a plain user may not', async () => {
    const { calls, executor } = recorder(() => ({ ok: true, payload: { data: product('new') } }));
    const query = 'mutation { createProduct(input: {sku: "s", name: "n", priceCents: 1, currency: USD, category: "c", stock: 1}) { id } }';
    const denied = await executor.execute({ query }, userCaller());
    expect(denied.errors?.[0]?.errorType).toBe('Unauthorized');
    expect(calls).toHaveLength(0);
    const allowed = await executor.execute({ query }, userCaller(['admin']));
    expect(allowed.errors).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('gathers a batched field across the response and splits it by maxBatchSize', async () => {
    const lines = Array.from({ length: 250 }, (_, i) => ({ productId: `p${i}`, quantity: 1, unitPriceCents: 1 }));
    const order = orderValue(lines);
    const { calls, executor } = recorder((fn, payload) => {
      if (fn === 'orders') return { ok: true, payload: { data: order } };
      const events = payload as ResolverEvent<{ productId: string }>[];
      return { ok: true, payload: events.map((e) => ({ data: product(e.source.productId) })) };
    });
    const res = await executor.execute({ query: '{ order(id: "o") { items { product { id } } } }' }, userCaller());
    expect(res.errors).toBeUndefined();
    const batches = calls.filter((c) => c.fn === 'catalog').map((c) => (c.payload as ResolverEvent[]).length);
    expect(batches).toEqual([100, 100, 50]);
    const ids = (res.data as { order: { items: Array<{ product: { id: string } }> } }).order.items.map((i) => i.product.id);
    expect(ids).toEqual(lines.map((l) => l.productId));
    const first = (calls.find((c) => c.fn === 'catalog')!.payload as ResolverEvent[])[0]!;
    expect(first.info).toMatchObject({ fieldName: 'product', parentTypeName: 'OrderItem' });
    expect(first.source).toMatchObject({ productId: 'p0' });
  });

  it('hands a batch to a real execution environment that receives exactly the events the executor built', async () => {
    // The errors fixture's callback handler answers with the event it received, as the worker rebuilt it.
    const echo = new LocalFunction({
      name: 'echo',
      bundlePath: fileURLToPath(new URL('../fixtures/lambda/errors.mjs', import.meta.url)),
      handlerExport: 'callbackHandler',
      environment: {},
      memoryMb: 256,
      timeoutSeconds: 10,
      maxConcurrency: 1,
      log: () => undefined,
    });
    afterAll(() => echo.close());
    const lines = Array.from({ length: 100 }, (_, i) => ({ productId: `p${i % 50}`, quantity: 1 + (i % 3), unitPriceCents: 1 }));
    const order = orderValue(lines);
    const received: unknown[] = [];
    const executor = new AppSyncExecutor({
      schema,
      routes,
      authorization,
      invoke: async (fn, payload) => {
        if (fn === 'orders') return { ok: true, payload: { data: order } };
        // The events share their common members, so the runtime sends those once per batch.
        expect(encodeEvent(payload)).toHaveProperty('batch');
        const result = await echo.invoke(payload);
        if (!result.ok) throw new Error(result.error.errorMessage);
        const { echo: events } = result.payload as { echo: ResolverEvent<{ productId: string }>[] };
        // What the handler got, against what JSON would have carried: same members, values and order.
        expect(events).toEqual(JSON.parse(JSON.stringify(payload)));
        expect(JSON.stringify(events)).toBe(JSON.stringify(payload));
        received.push(...events);
        return { ok: true, payload: events.map((e) => ({ data: product(e.source.productId) })) };
      },
    });
    const query = 'query O($id: ID!) { order(id: $id) { items { quantity product { id name ... on Product { priceCents } } } } }';
    const caller = { ...userCaller(), headers: { authorization: 't', 'x-amz-user-agent': 'aws-amplify/6' } };
    const res = await executor.execute({ query, variables: { id: 'o' } }, caller);
    expect(res.errors).toBeUndefined();
    expect(received).toHaveLength(100);
    expect(received[7]).toMatchObject({
      arguments: {},
      identity: caller.identity,
      source: { productId: 'p7', quantity: 2 },
      request: { headers: caller.headers, domainName: null },
      info: { fieldName: 'product', parentTypeName: 'OrderItem', variables: { id: 'o' }, selectionSetList: ['id', 'name', 'priceCents'] },
      prev: null,
      stash: {},
    });
  });

  it('fails every item of a batch whose response has the wrong length', async () => {
    const order = orderValue([
      { productId: 'a', quantity: 1, unitPriceCents: 1 },
      { productId: 'b', quantity: 1, unitPriceCents: 1 },
    ]);
    const { executor } = recorder((fn) =>
      fn === 'orders' ? { ok: true, payload: { data: order } } : { ok: true, payload: [{ data: null }] },
    );
    const res = await executor.execute({ query: '{ order(id: "o") { items { product { id } } } }' }, userCaller());
    expect(res.errors).toHaveLength(2);
    for (const error of res.errors ?? []) expect(error.errorType).toBe('Lambda:Unhandled');
  });

  it('reports an invalid AWS scalar in the response as a field error', async () => {
    const { executor } = recorder(() => ({ ok: true, payload: { data: { ...product('p'), createdAt: 'yesterday' } } }));
    const res = await executor.execute({ query: '{ product(id: "p") { createdAt } }' }, apiKeyCaller);
    expect(res.errors?.[0]?.message).toContain('AWSDateTime');
  });
});

describe('AppSyncExecutor mutation results', () => {
  /** An executor whose mutations are heard, and what the real-time publisher makes of each event. */
  function listening(respond: () => InvokeResult) {
    const events: MutationExecuted[] = [];
    const executor = new AppSyncExecutor({ schema, routes, authorization, invoke: async () => respond() });
    executor.onMutationExecuted((event) => events.push(event));
    const published = () =>
      events.flatMap((event) => mutationPublications(event).map(({ mutationField, result }) => [mutationField, result]));
    return { executor, events, published };
  }

  it('reports each successful root mutation field, under its field name, as the mutation selected it', async () => {
    const { executor, events, published } = listening(() => ({ ok: true, payload: { data: product('p9') } }));
    const query = 'mutation { renamed: adjustStock(id: "p9", delta: 1) { id level: stock } }';
    const res = await executor.execute({ query }, userCaller(['admin']));
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ renamed: { id: 'p9', level: 1 } });
    expect(published()).toEqual([['adjustStock', { id: 'p9', stock: 1 }]]);
    // The event itself is the request as it ran: the response keyed by aliases, the operation, the document.
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ data: { renamed: { id: 'p9', level: 1 } }, variables: {}, operation: { operation: 'mutation' } });
  });

  it('reports nothing for a failed mutation or a query', async () => {
    const { executor, published } = listening(() => ({
      ok: true,
      payload: { data: null, errorType: 'NotFound', errorMessage: 'x', errorInfo: null },
    }));
    await executor.execute({ query: 'mutation { adjustStock(id: "p", delta: 1) { id } }' }, userCaller(['admin']));
    await executor.execute({ query: '{ product(id: "p") { id } }' }, apiKeyCaller);
    expect(published()).toEqual([]);
  });

  it('emits events with coerced variables (defaults applied), before the response returns; unsubscribing stops them', async () => {
    const { executor, events } = listening(() => ({ ok: true, payload: { data: product('p9') } }));
    const query =
      'mutation M($id: ID!, $delta: Int! = 2, $full: Boolean = false) { adjustStock(id: $id, delta: $delta) { id name @include(if: $full) } }';
    await executor.execute({ query, variables: { id: 'p9' } }, userCaller(['admin']));
    expect(events.map((event) => event.variables)).toEqual([{ id: 'p9', delta: 2, full: false }]);
    expect(mutationPublications(events[0]!)).toEqual([{ mutationField: 'adjustStock', result: { id: 'p9' } }]);
    const seen: string[] = [];
    const stop = executor.onMutationExecuted((event) => seen.push(event.operation.name?.value ?? ''));
    await executor.execute({ query, variables: { id: 'p9' } }, userCaller(['admin']));
    stop();
    await executor.execute({ query, variables: { id: 'p9' } }, userCaller(['admin']));
    expect(seen).toEqual(['M']);
    expect(events).toHaveLength(3);
  });
});

/** An order of `lines` lines, as the orders function answers it. */
const orderOf = (lines: number) =>
  orderValue(Array.from({ length: lines }, (_, i) => ({ productId: `p${i}`, quantity: 1, unitPriceCents: 1 })));

/** Orders from `orders`, products (batched or not) from `catalog`. */
function storefront(lines: number) {
  return (fn: string, payload: ResolverEvent | ResolverEvent[]): InvokeResult => {
    if (fn === 'orders') return { ok: true, payload: { data: orderOf(lines) } };
    if (Array.isArray(payload))
      return { ok: true, payload: payload.map((e) => ({ data: product((e.source as { productId: string }).productId) })) };
    return { ok: true, payload: { data: product('p') } };
  };
}

describe('AppSyncExecutor request limits (declarations/api.ts), answered as AppSync does', () => {
  it('fails a field past the depth limit with QueryDepthLimitReached, bubbling to its first nullable parent; fields within it resolve', async () => {
    const { calls, executor } = recorder(() => ({ ok: true, payload: { data: product('p') } }), { queryDepthLimit: 1 });
    const res = await executor.execute({ query: '{ product(id: "p") { id } }' }, apiKeyCaller);
    // Product.id is ID!: the error nulls the nullable product.
    expect(res.data).toEqual({ product: null });
    expect(res.errors).toEqual([expect.objectContaining({ errorType: 'QueryDepthLimitReached', path: ['product', 'id'], data: null })]);
    expect(calls).toHaveLength(1);
  });

  it('never invokes a resolver past the depth limit', async () => {
    const { calls, executor } = recorder(storefront(3), { queryDepthLimit: 2 });
    const res = await executor.execute({ query: '{ order(id: "o") { id items { quantity product { id } } } }' }, userCaller());
    // items is level 2; quantity and product (level 3) fail, each per line; items is [OrderItem!]!, so order is null.
    expect(res.data).toEqual({ order: null });
    expect(res.errors?.map((e) => e.errorType)).toContain('QueryDepthLimitReached');
    expect(res.errors?.[0]?.path).toEqual(['order', 'items', 0, 'quantity']);
    expect(calls.map((c) => c.fn)).toEqual(['orders']);
  });

  it('refuses, before any invocation, an operation that could run more resolvers than the limit', async () => {
    const { calls, executor } = recorder(() => ({ ok: true, payload: { data: product('p') } }), { resolverCountLimit: 2 });
    const res = await executor.execute(
      { query: '{ a: product(id: "1") { id } b: product(id: "2") { id } c: product(id: "3") { id } }' },
      apiKeyCaller,
    );
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([
      expect.objectContaining({
        errorType: 'ResolverExecutionLimitReached',
        path: null,
        message: expect.stringMatching(/3 resolvers and the API allows 2/),
      }),
    ]);
    expect(calls).toHaveLength(0);
    // Two are within the limit.
    expect(
      (await executor.execute({ query: '{ a: product(id: "1") { id } b: product(id: "2") { id } }' }, apiKeyCaller)).errors,
    ).toBeUndefined();
  });

  it('counts resolvers as they run, as AppSync does: past the limit they fail without running', async () => {
    // An order holds at most 100 lines (the static bound: 101 resolvers); a backend answering 250 lines
    // goes past a limit of 150, and the running count stops the extra OrderItem.products.
    const { calls, executor } = recorder(storefront(250), { resolverCountLimit: 150 });
    const res = await executor.execute({ query: '{ order(id: "o") { items { product { id } } } }' }, userCaller());
    const items = (res.data as { order: { items: Array<{ product: { id: string } | null }> } }).order.items;
    expect(items.filter((item) => item.product !== null)).toHaveLength(149);
    expect(res.errors).toHaveLength(101);
    expect(res.errors?.[0]).toMatchObject({ errorType: 'ResolverExecutionLimitReached', path: ['order', 'items', 149, 'product'] });
    const invokedItems = calls.filter((c) => c.fn === 'catalog').reduce((n, c) => n + (c.payload as ResolverEvent[]).length, 0);
    expect(invokedItems).toBe(149);
  });

  it('with introspection off, answers __schema with a validation error and keeps __typename', async () => {
    const { executor } = recorder(() => ({ ok: true, payload: { data: null } }), { introspection: false });
    const refused = await executor.execute({ query: '{ __schema { queryType { name } } }' }, apiKeyCaller);
    expect(refused.data).toBeNull();
    expect(refused.errors).toEqual([
      expect.objectContaining({ errorType: 'ValidationError', message: expect.stringMatching(/FieldUndefined: Field '__schema'/) }),
    ]);
    expect((await executor.execute({ query: '{ __typename }' }, apiKeyCaller)).data).toEqual({ __typename: 'Query' });
    const on = recorder(() => ({ ok: true, payload: { data: null } })).executor;
    expect((await on.execute({ query: '{ __schema { queryType { name } } }' }, apiKeyCaller)).data).toEqual({
      __schema: { queryType: { name: 'Query' } },
    });
  });

  it('answers a hostile document from its cache the second time', async () => {
    const { calls, executor } = recorder(() => ({ ok: true, payload: { data: product('p') } }));
    let fragments = '';
    for (let i = 0; i < 25; i++) fragments += `fragment F${i} on Product { ...F${i + 1} ...F${i + 1} }\n`;
    const query = `{ product(id: "x") { ...F0 } }\n${fragments}fragment F25 on Product { id }`;
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const res = await executor.execute({ query }, apiKeyCaller);
      expect(res).toEqual({ data: null, errors: [expect.objectContaining({ errorType: 'ValidationError' })] });
      expect(performance.now() - started).toBeLessThan(250);
    }
    expect(calls).toHaveLength(0);
  });
});

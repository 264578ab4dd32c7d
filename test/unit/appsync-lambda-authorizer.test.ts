import type { AppSyncAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { api, type LambdaAuthorizerDeclaration } from '../../declarations/api.js';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import { issuePartnerToken } from '../../lib/partner-tokens.js';
import { fieldRoutes } from '../../declarations/check.js';
import { RequestAuthenticator } from '../../local/appsync/authentication.js';
import { AppSyncExecutor, type InvokeResult } from '../../local/appsync/execute.js';
import { FieldAuthorization, type Caller } from '../../local/appsync/field-authorization.js';
import { LambdaAuthorizer, type LambdaAuthorizerOptions } from '../../local/appsync/lambda-authorizer.js';
import { DevUserPool } from '../../local/identity/dev-user-pool.js';
import { lambdaCaller } from '../support/fixtures.js';

const API = { apiId: 'localapi', accountId: '111122223333', region: 'us-east-1' } as const;
const fieldArn = (typeName: string, fieldName: string, apiId: string = API.apiId) =>
  `arn:aws:appsync:${API.region}:${API.accountId}:apis/${apiId}/types/${typeName}/fields/${fieldName}`;
const partner = issuePartnerToken('acme');
const granted = { isAuthorized: true, resolverContext: { partnerId: 'acme' }, deniedFields: ['Product.stock'] };

/** A LambdaAuthorizer over a fake authorizer function that records its events, with a settable clock. */
function harness(
  respond: (event: AppSyncAuthorizerEvent) => InvokeResult | Promise<InvokeResult>,
  overrides: Partial<LambdaAuthorizerOptions> = {},
) {
  const events: AppSyncAuthorizerEvent[] = [];
  const clock = { now: 1_000_000 };
  const declaration: LambdaAuthorizerDeclaration = {
    function: 'authorizer',
    resultTtlSeconds: 300,
    identityValidationExpression: api.lambdaAuthorizer.identityValidationExpression,
  };
  const authorizer = new LambdaAuthorizer({
    declaration,
    ...API,
    now: () => clock.now,
    invoke: async (event) => {
      events.push(event);
      return respond(event);
    },
    ...overrides,
  });
  return { authorizer, events, clock };
}

const answer = (payload: unknown): InvokeResult => ({ ok: true, payload });

describe('LambdaAuthorizer (local AWS_LAMBDA mode)', () => {
  it("invokes the authorizer with AppSync's event and turns a grant into deniedFields and a resolverContext identity", async () => {
    const { authorizer, events } = harness(() => answer(granted));
    const decision = await authorizer.authorize(
      partner.token,
      { query: 'query P($id: ID!) { product(id: $id) { id } }', operationName: 'P', variables: { id: 'p1' } },
      { authorization: partner.token, 'x-partner-trace': 't1' },
    );
    expect(decision).toEqual({ ok: true, deniedFields: new Set(['Product.stock']), identity: { resolverContext: { partnerId: 'acme' } } });
    expect(events).toEqual([
      {
        authorizationToken: partner.token,
        requestContext: {
          apiId: API.apiId,
          accountId: API.accountId,
          requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          queryString: 'query P($id: ID!) { product(id: $id) { id } }',
          operationName: 'P',
          variables: { id: 'p1' },
        },
        requestHeaders: { authorization: partner.token, 'x-partner-trace': 't1' },
      },
    ]);
  });

  it('caches a decision per token for resultTtlSeconds, or for ttlOverride; 0 means never', async () => {
    const { authorizer, events, clock } = harness(() => answer(granted));
    const other = issuePartnerToken('acme').token;
    await authorizer.authorize(partner.token, undefined, {});
    await authorizer.authorize(partner.token, undefined, {});
    expect(events).toHaveLength(1);
    await authorizer.authorize(other, undefined, {}); // another token is another cache entry
    expect(events).toHaveLength(2);
    clock.now += 299_999;
    await authorizer.authorize(partner.token, undefined, {});
    expect(events).toHaveLength(2);
    clock.now += 1;
    await authorizer.authorize(partner.token, undefined, {});
    expect(events).toHaveLength(3);

    const { authorizer: uncached, events: uncachedEvents } = harness(() => answer({ ...granted, ttlOverride: 0 }));
    await uncached.authorize(partner.token, undefined, {});
    await uncached.authorize(partner.token, undefined, {});
    expect(uncachedEvents).toHaveLength(2);

    const { authorizer: short, events: shortEvents, clock: shortClock } = harness(() => answer({ ...granted, ttlOverride: 5 }));
    await short.authorize(partner.token, undefined, {});
    shortClock.now += 5_000;
    await short.authorize(partner.token, undefined, {});
    expect(shortEvents).toHaveLength(2);

    const { authorizer: neverCaching, events: neverEvents } = harness(() => answer(granted), {
      declaration: { function: 'authorizer', resultTtlSeconds: 0 },
    });
    await neverCaching.authorize(partner.token, undefined, {});
    await neverCaching.authorize(partner.token, undefined, {});
    expect(neverEvents).toHaveLength(2);
  });

  it('refuses a token the identityValidationExpression rejects without invoking the authorizer', async () => {
    const { authorizer, events } = harness(() => answer(granted));
    expect(await authorizer.authorize('partner-acme', undefined, {})).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/identityValidationExpression/),
    });
    expect(events).toHaveLength(0);
  });

  it('honours isAuthorized: false (cached like a grant unless ttlOverride says otherwise)', async () => {
    const { authorizer, events } = harness(() => answer({ isAuthorized: false }));
    expect((await authorizer.authorize(partner.token, undefined, {})).ok).toBe(false);
    expect((await authorizer.authorize(partner.token, undefined, {})).ok).toBe(false);
    expect(events).toHaveLength(1);
  });

  it('refuses, and does not cache, on a function error, a timeout, a failed invoke or a malformed response', async () => {
    const lines: string[] = [];
    for (const respond of [
      (): InvokeResult => ({ ok: false, error: { errorType: 'Error', errorMessage: 'boom' } }),
      (): InvokeResult => ({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 5.00 seconds' } }),
      (): Promise<InvokeResult> => Promise.reject(new Error('Local function authorizer is closed')),
      () => answer({ isAuthorized: 'yes' }),
      () => answer(null),
      () => answer({ ...granted, ttlOverride: -1 }),
      () => answer({ ...granted, resolverContext: 'acme' }),
      () => answer({ ...granted, deniedFields: 'Product.stock' }),
      () => answer({ ...granted, deniedFields: ['Product'] }),
      () => answer({ ...granted, deniedFields: [42] }),
    ]) {
      const { authorizer, events } = harness(respond, { log: (line) => lines.push(line) });
      expect((await authorizer.authorize(partner.token, undefined, {})).ok).toBe(false);
      expect((await authorizer.authorize(partner.token, undefined, {})).ok).toBe(false);
      expect(events).toHaveLength(2);
    }
    expect(lines.some((line) => line.includes('Sandbox.Timedout'))).toBe(true);
  });

  it("reads deniedFields as Type.field or as this API's field ARNs, ignoring another API's", async () => {
    const { authorizer } = harness(() =>
      answer({ ...granted, deniedFields: ['Product.stock', fieldArn('Product', 'sku'), fieldArn('Product', 'name', 'otherapi')] }),
    );
    const decision = await authorizer.authorize(partner.token, undefined, {});
    expect(decision.ok && [...decision.deniedFields].sort()).toEqual(['Product.sku', 'Product.stock']);
  });

  it('bounds its cache', async () => {
    const { authorizer, events } = harness(() => answer(granted), { maxCacheEntries: 2 });
    const tokens = [partner.token, issuePartnerToken('b').token, issuePartnerToken('c').token];
    for (const token of tokens) await authorizer.authorize(token, undefined, {});
    await authorizer.authorize(tokens[0]!, undefined, {}); // evicted first
    await authorizer.authorize(tokens[2]!, undefined, {}); // still cached
    expect(events).toHaveLength(4);
  });
});

describe('RequestAuthenticator with AWS_LAMBDA', () => {
  const userPool = new DevUserPool();

  function authenticator(respond: (event: AppSyncAuthorizerEvent) => InvokeResult = () => answer(granted)) {
    const { authorizer, events } = harness(respond);
    return { events, authenticator: new RequestAuthenticator({ api, apiKeys: [], userPool, lambdaAuthorizer: authorizer }) };
  }

  it('sends a non-JWT Authorization header to the authorizer, with the GraphQL request read from the body', async () => {
    const { authenticator: auth, events } = authenticator();
    const body = JSON.stringify({ query: '{ product(id: "p1") { id } }', variables: { a: 1 }, operationName: null });
    const result = await auth.authenticate({ authorization: partner.token }, '127.0.0.1', { method: 'POST', path: '/graphql', body });
    expect(result).toEqual({
      ok: true,
      caller: { mode: 'AWS_LAMBDA', groups: [], deniedFields: new Set(['Product.stock']) },
      identity: { resolverContext: { partnerId: 'acme' } },
    });
    expect(events[0]?.requestContext).toMatchObject({ queryString: '{ product(id: "p1") { id } }', variables: { a: 1 } });
    expect(events[0]?.requestContext.operationName).toBeUndefined();
  });

  it('prefers an already parsed request, and still authenticates when there is none (real-time handshake)', async () => {
    const { authenticator: auth, events } = authenticator();
    const graphql = { query: 'query Mine { products(category: "c") { items { id } } }', operationName: 'Mine' };
    await auth.authenticate({ authorization: `Bearer ${partner.token}` }, '127.0.0.1', {
      method: 'POST',
      path: '/graphql',
      body: 'ignored',
      graphql,
    });
    expect(events[0]?.requestContext).toMatchObject({ queryString: graphql.query, operationName: 'Mine', variables: {} });
    expect((await auth.authenticate({ authorization: issuePartnerToken('other').token }, '127.0.0.1')).ok).toBe(true);
    expect(events[1]?.requestContext).toMatchObject({ queryString: '', variables: {} });
  });

  it('keeps JWT-shaped tokens for the user pool and SigV4 for IAM: the authorizer never sees them', async () => {
    const { authenticator: auth, events } = authenticator();
    const jwt = userPool.mint({ username: 'alice', sub: 'alice', groups: [] });
    expect(await auth.authenticate({ authorization: jwt }, '127.0.0.1')).toMatchObject({
      ok: true,
      caller: { mode: 'AMAZON_COGNITO_USER_POOLS' },
    });
    expect((await auth.authenticate({ authorization: 'aaa.bbb.ccc' }, '127.0.0.1')).ok).toBe(false);
    const sigv4 = 'AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/appsync/aws4_request, SignedHeaders=host, Signature=00';
    expect((await auth.authenticate({ authorization: sigv4 }, '127.0.0.1', { method: 'POST', path: '/graphql', body: '{}' })).ok).toBe(
      false,
    );
    expect(events).toHaveLength(0);
  });

  it('answers 401 material when the authorizer refuses or fails, and refuses Lambda tokens when no authorizer is wired', async () => {
    const refused = authenticator(() => answer({ isAuthorized: false }));
    expect(await refused.authenticator.authenticate({ authorization: partner.token }, '127.0.0.1')).toEqual({
      ok: false,
      message: 'You are not authorized to make this call.',
    });
    const failing = authenticator(() => ({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out' } }));
    expect((await failing.authenticator.authenticate({ authorization: partner.token }, '127.0.0.1')).ok).toBe(false);
    const unwired = new RequestAuthenticator({ api, apiKeys: [], userPool });
    expect((await unwired.authenticate({ authorization: partner.token }, '127.0.0.1')).ok).toBe(false);
  });
});

describe('FieldAuthorization and the executor for Lambda callers', () => {
  const schema = buildAppSyncSchema();
  const authorization = new FieldAuthorization(schema, api.defaultAuthMode);
  const admitted = lambdaCaller({ resolverContext: { partnerId: 'acme' }, deniedFields: ['Product.stock'] });
  const partnerCaller: Caller = admitted.caller;

  it('lets partners reach the @aws_lambda catalog, except denied fields; nothing else', () => {
    expect(authorization.allows(partnerCaller, 'Query', 'products')).toBe(true);
    expect(authorization.allows(partnerCaller, 'Query', 'product')).toBe(true);
    expect(authorization.allows(partnerCaller, 'Product', 'name')).toBe(true);
    expect(authorization.allows(partnerCaller, 'Product', 'reviews')).toBe(true);
    expect(authorization.allows(partnerCaller, 'Review', 'rating')).toBe(true);
    expect(authorization.allows(partnerCaller, 'Product', 'stock')).toBe(false);
    expect(authorization.allows(partnerCaller, 'Query', 'myOrders')).toBe(false);
    expect(authorization.allows(partnerCaller, 'Query', 'order')).toBe(false);
    expect(authorization.allows(partnerCaller, 'Mutation', 'placeOrder')).toBe(false);
    expect(authorization.allows(partnerCaller, 'Mutation', 'createProduct')).toBe(false);
    expect(authorization.allows(partnerCaller, 'Subscription', 'onProductUpdated')).toBe(false);
    // Without a denial the same Lambda caller sees stock; other modes are unaffected by the field list.
    expect(authorization.allows({ mode: 'AWS_LAMBDA', groups: [] }, 'Product', 'stock')).toBe(true);
    expect(authorization.allows({ mode: 'API_KEY', groups: [] }, 'Product', 'stock')).toBe(true);
    expect(authorization.allows({ ...partnerCaller, deniedFields: new Set(['Product.name']) }, 'Product', 'name')).toBe(false);
    // Introspection stays open, as in AppSync.
    expect(authorization.allows(partnerCaller, 'Product', '__typename')).toBe(true);
  });

  it('resolves a denied field to null with an Unauthorized error, and hands resolvers { resolverContext } as identity', async () => {
    const calls: ResolverEvent[] = [];
    const executor = new AppSyncExecutor({
      schema,
      routes: fieldRoutes(),
      authorization,
      invoke: async (_fn, payload) => {
        calls.push(payload as ResolverEvent);
        return { ok: true, payload: { data: { id: 'p1', name: 'Lamp', stock: 3 } } };
      },
    });
    const { identity } = admitted;
    const res = await executor.execute({ query: '{ product(id: "p1") { id name stock } }' }, { ...admitted, headers: {} });
    expect(res.data).toEqual({ product: { id: 'p1', name: 'Lamp', stock: null } });
    expect(res.errors).toEqual([
      expect.objectContaining({
        path: ['product', 'stock'],
        errorType: 'Unauthorized',
        message: 'Not Authorized to access stock on type Product',
      }),
    ]);
    expect(calls[0]?.identity).toEqual(identity);
  });
});

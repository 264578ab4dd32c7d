import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../support/local-stack.js';
import { DevUserPool } from '../../local/identity/dev-user-pool.js';
import { functionNames } from '../../declarations/functions.js';

const local = useLocalStack();

const productsQuery = JSON.stringify({ query: '{ products(category: "x") { items { id } } }' });

describe('the HTTP endpoint behaves like AppSync', () => {
  it('answers a malformed JSON body with 400 MalformedHttpRequestException', async () => {
    const res = await local.api.raw('{"query": ', local.api.asApiKey);
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.errorType).toBe('MalformedHttpRequestException');
  });

  it('answers a body without a query with 400', async () => {
    for (const body of ['{}', '[]', '{"query": 5}', '{"query": "{ __typename }", "variables": [1]}']) {
      const res = await local.api.raw(body, local.api.asApiKey);
      expect(res.status, body).toBe(400);
      expect(res.errors?.[0]?.errorType).toBe('MalformedHttpRequestException');
    }
  });

  it('answers invalid GraphQL syntax with a ValidationError and a location', async () => {
    const res = await local.api.raw(JSON.stringify({ query: '{ product(id: "1") { id ' }), local.api.asApiKey);
    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    expect(res.errors?.[0]).toMatchObject({ errorType: 'ValidationError' });
    expect(res.errors?.[0]?.message).toMatch(/Syntax Error/);
  });

  it('answers an unknown field with a ValidationError naming it, without invoking anything', async () => {
    const before = local.api.invocations('catalog');
    const res = await local.api.raw(JSON.stringify({ query: '{ product(id: "1") { id colour } }' }), local.api.asApiKey);
    expect(res.errors?.[0]?.errorType).toBe('ValidationError');
    expect(res.errors?.[0]?.message).toContain('colour');
    expect(local.api.invocations('catalog')).toBe(before);
  });

  it('refuses a request with no API key, a wrong key, or a bad bearer token with 401 UnauthorizedException', async () => {
    const forgedPool = new DevUserPool({ userPoolId: 'us-east-1_LocalDev', clientId: 'localdevclient' });
    const forged = forgedPool.mint({ username: 'eve', groups: ['admin'] });
    const expired = local.stack.userPool.mint({ username: 'eve', expiresInSeconds: -60 });
    for (const auth of [
      null,
      { apiKey: 'da2-wrongwrongwrongwrongwrongwr' },
      { token: forged },
      { token: expired },
      { token: 'not.a.jwt' },
    ]) {
      const res = await local.api.raw(productsQuery, auth);
      expect(res.status, JSON.stringify(auth)).toBe(401);
      expect(res.errors?.[0]).toEqual({ errorType: 'UnauthorizedException', message: 'You are not authorized to make this call.' });
    }
  });

  it('accepts both ID and access tokens from the user pool', async () => {
    for (const tokenUse of ['id', 'access'] as const) {
      const token = local.stack.userPool.mint({ username: 'zoe', tokenUse });
      const res = await local.api.raw(productsQuery, { token });
      expect(res.status).toBe(200);
      expect(res.errors).toBeUndefined();
    }
  });

  it('rejects GET on /graphql with 405 and unknown paths with 404', async () => {
    const get = await fetch(local.stack.graphqlUrl, { headers: { 'x-api-key': local.stack.apiKey } });
    expect(get.status).toBe(405);
    const missing = await fetch(`${local.stack.url}/nowhere`);
    expect(missing.status).toBe(404);
  });

  it('refuses a request body over 1 MB with 413', async () => {
    const big = JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(1024 * 1024) } });
    const res = await fetch(local.stack.graphqlUrl, { method: 'POST', headers: { 'x-api-key': local.stack.apiKey }, body: big });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      errors: [{ errorType: 'PayloadTooLargeException', message: 'Request body exceeds 1048576 bytes' }],
    });
    // The connection was drained, not left half-read: the next request is answered (test/hostile/http-keepalive.test.ts).
    expect((await local.api.raw(productsQuery, local.api.asApiKey)).status).toBe(200);
  });

  it('answers limit errors as AppSync does: a ValidationError for a document it will not run, before invoking anything', async () => {
    const before = local.api.invocations('catalog');
    const deep = await local.api.raw(
      JSON.stringify({ query: `{ product(id: "1") ${'{ a '.repeat(3000)}${'}'.repeat(3001)}` }),
      local.api.asApiKey,
    );
    expect(deep.status).toBe(200);
    expect(deep.data).toBeNull();
    expect(deep.errors?.[0]?.errorType).toBe('ValidationError');
    const many = await local.api.raw(
      JSON.stringify({
        query: `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: products(category: "x", limit: 100) { items { reviews { items { id } } } }`).join(' ')} }`,
      }),
      local.api.asApiKey,
    );
    expect(many.data).toBeNull();
    expect(many.errors?.[0]?.errorType).toBe('ResolverExecutionLimitReached');
    expect(local.api.invocations('catalog')).toBe(before);
  });

  it('serves GraphiQL, health and the dev user pool JWKS', async () => {
    const page = await fetch(`${local.stack.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('graphiql');
    const health = (await (await fetch(`${local.stack.url}/health`)).json()) as { status: string; functions: Record<string, unknown> };
    expect(health.status).toBe('ok');
    // Every function of the map, the Lambda authorizer included.
    expect(Object.keys(health.functions).sort()).toEqual([...functionNames].sort());
    const jwks = (await (await fetch(`${local.stack.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys[0]?.kid).toBeTruthy();
  });

  it('mints tokens from the dev endpoint that the API accepts', async () => {
    // /dev/token requires the secret `npm run dev` prints (local/dev-routes.ts).
    const headers = { 'x-dev-secret': local.stack.devSecret };
    const minted = await fetch(`${local.stack.url}/dev/token`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ username: 'kim', groups: ['admin'] }),
    });
    const { token } = (await minted.json()) as { token: string };
    const res = await local.api.raw(productsQuery, { token });
    expect(res.status).toBe(200);
    const bad = await fetch(`${local.stack.url}/dev/token`, { method: 'POST', headers, body: '{' });
    expect(bad.status).toBe(400);
  });

  it('keeps serving after a burst of bad requests', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => local.api.raw(i % 2 ? '{' : '{"query":"{"}', local.api.asApiKey)));
    const res = await local.api.raw(productsQuery, local.api.asApiKey);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ products: { items: [] } });
  });
});

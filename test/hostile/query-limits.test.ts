import fc from 'fast-check';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProductWithReviewsDocument } from '../../generated/client/graphql.js';
import { RealtimeClient } from '../../local/realtime/client.js';
import { alongsideOrdinaryRequest, createProduct, expectNothingWritten, ORDINARY_REQUEST_BOUND_MS } from '../support/hostile.js';
import { useLocalStack, type GraphQLResponse } from '../support/local-stack.js';

/**
 * One request must not stall the local runtime (issue 8, section 3). Each
 * hostile document is refused before anything runs: the errorType the client
 * sees, no function invoked, nothing written for a mutation, and an ordinary
 * request sent at the same moment still answered. The limits are declarations/api.ts's
 * (local/appsync/query-limits.ts enforces them).
 */

const local = useLocalStack();
let probeId: string;

beforeAll(async () => {
  probeId = (await createProduct(local.api)).id;
});

/** `fragment F0 { ...F1 ...F1 }` … : 25 fragments, 1.1 KB, 2^25 fields once expanded. */
function fragmentBomb(n: number, operation = 'query { product(id: "x") { ...F0 } }', leaf = 'id'): string {
  let fragments = '';
  for (let i = 0; i < n; i++) fragments += `fragment F${i} on Product { ...F${i + 1} ...F${i + 1} }\n`;
  return `${operation}\n${fragments}fragment F${n} on Product { ${leaf} }\n`;
}

const aliases = (n: number, selection: string): string => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${selection}`).join(' ')} }`;
const productsWithReviews = 'products(category: "hostile", limit: 100) { items { reviews { items { id } } } }';
const nested = (depth: number): string => `{ product(id: "x") ${'{ a '.repeat(depth)}${'}'.repeat(depth + 1)}`;
const createInput = '{ sku: "BOMB-1", name: "Bomb", priceCents: 1, currency: USD, category: "hostile", stock: 1 }';

/** Every invocation counter of the stack, to show a refusal invoked nothing. */
function invocations(): { catalog: number; orders: number; reviews: number } {
  return { catalog: local.api.invocations('catalog'), orders: local.api.invocations('orders'), reviews: local.api.invocations('reviews') };
}

/** Sends `query` alongside an ordinary read; returns the answer and how long the refusal took. */
async function refused(query: string, auth = local.api.asApiKey): Promise<{ res: GraphQLResponse<unknown>; ms: number }> {
  const before = invocations();
  const { res, ms } = await alongsideOrdinaryRequest(local.api, probeId, async () => {
    const started = performance.now();
    const res = await local.api.request(query, {}, auth);
    return { res, ms: performance.now() - started };
  });
  expect(res.status).toBe(200);
  expect(res.data).toBeNull();
  // The ordinary read alongside is the one catalog invocation.
  expect(invocations(), 'a refused document invoked a function').toEqual({ ...before, catalog: before.catalog + 1 });
  return { res, ms };
}

describe('hostile documents are refused before anything runs', () => {
  it('the 25-fragment document (the 8 s stall): ValidationError in milliseconds', async () => {
    const bomb = fragmentBomb(25);
    expect(bomb.length).toBeLessThan(1200);
    const { res, ms } = await refused(bomb);
    expect(res.errors).toEqual([
      expect.objectContaining({ errorType: 'ValidationError', message: expect.stringMatching(/fields once its fragments are expanded/) }),
    ]);
    expect(ms).toBeLessThan(ORDINARY_REQUEST_BOUND_MS);
    // Refusals are cached like any document: the same text again is answered from the cache.
    expect((await refused(bomb)).res.errors?.[0]?.errorType).toBe('ValidationError');
  });

  it('the same bomb in a mutation writes nothing', async () => {
    const mutation = fragmentBomb(25, `mutation { createProduct(input: ${createInput}) { ...F0 } }`);
    const { res } = await expectNothingWritten(local.stack, () => refused(mutation, local.api.admin()));
    expect(res.errors?.[0]?.errorType).toBe('ValidationError');
  });

  it('1,000 aliases of a page of products with their reviews (11,000 invocations): refused while parsing', async () => {
    const { res, ms } = await refused(aliases(1000, productsWithReviews));
    expect(res.errors).toEqual([
      expect.objectContaining({ errorType: 'ValidationError', message: expect.stringMatching(/more th\w+ 15000 tokens/) }),
    ]);
    expect(ms).toBeLessThan(ORDINARY_REQUEST_BOUND_MS);
  });

  it('100 of them (10,100 resolvers): ResolverExecutionLimitReached, before any resolver runs', async () => {
    const { res } = await refused(aliases(100, productsWithReviews));
    expect(res.errors).toEqual([
      expect.objectContaining({
        errorType: 'ResolverExecutionLimitReached',
        path: null,
        message: expect.stringMatching(/10100 resolvers and the API allows 10000/),
      }),
    ]);
  });

  it('selection depth 2,000 and beyond: a ValidationError, not a 500', async () => {
    for (const depth of [2_000, 20_000]) {
      const { res } = await refused(nested(depth));
      expect(res.errors).toEqual([
        expect.objectContaining({ errorType: 'ValidationError', message: expect.stringMatching(/nested more than 128 levels/) }),
      ]);
    }
    const { res } = await expectNothingWritten(local.stack, () =>
      refused(`mutation { createProduct(input: ${createInput}) ${'{ a '.repeat(5_000)}${'}'.repeat(5_000)} }`, local.api.admin()),
    );
    expect(res.errors?.[0]?.errorType).toBe('ValidationError');
  });

  it('any mix of these shapes is refused, with a limit error type, and invokes nothing', async () => {
    const hostile = fc.oneof(
      fc.integer({ min: 14, max: 40 }).map((n) => fragmentBomb(n)),
      fc
        .integer({ min: 14, max: 40 })
        .map((n) => fragmentBomb(n, 'query { products(category: "hostile") { items { ...F0 } } }', 'reviews { items { id } }')),
      fc.integer({ min: 129, max: 50_000 }).map(nested),
      fc.integer({ min: 100, max: 600 }).map((n) => aliases(n, productsWithReviews)),
      fc.integer({ min: 200, max: 1_500 }).map((n) => `{ ${'product(id: "x") { id } '.repeat(n)}}`),
    );
    await fc.assert(
      fc.asyncProperty(hostile, async (query) => {
        const { res } = await refused(query);
        expect(['ValidationError', 'ResolverExecutionLimitReached']).toContain(res.errors?.[0]?.errorType);
      }),
      { numRuns: 12 },
    );
  });
});

describe('legitimate documents stay within the limits', () => {
  it('a full page of products with their reviews, a product with its reviews, and introspection (enabled locally)', async () => {
    const page = await local.api.request(aliases(1, productsWithReviews), {}, local.api.asApiKey);
    expect(page.errors).toBeUndefined();
    const withReviews = await local.api.request(ProductWithReviewsDocument, { id: probeId, limit: 100 }, local.api.asApiKey);
    expect(withReviews.errors).toBeUndefined();
    const introspection = await local.api.request<{ __schema: { queryType: { name: string } } }, unknown>(
      getIntrospectionQuery(),
      {},
      local.api.asApiKey,
    );
    expect(introspection.errors).toBeUndefined();
    expect(introspection.data?.__schema.queryType.name).toBe('Query');
  });
});

describe('the real-time endpoint applies the same limits', () => {
  const clients: RealtimeClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  it('refuses a fragment bomb subscription at start, and keeps serving', async () => {
    const apiKey = { 'x-api-key': local.stack.apiKey };
    const client = await RealtimeClient.connect(local.stack.realtimeUrl, { headers: apiKey });
    clients.push(client);
    expect((await client.init()).type).toBe('connection_ack');
    const answer = await alongsideOrdinaryRequest(local.api, probeId, () =>
      client.start('bomb', fragmentBomb(25, 'subscription { onProductUpdated { ...F0 } }'), {}, apiKey),
    );
    expect(answer).toMatchObject({
      type: 'error',
      id: 'bomb',
      payload: { errors: [expect.objectContaining({ errorType: 'ValidationError', message: expect.stringMatching(/expanded/) })] },
    });
    const deep = await client.start('deep', `subscription { onProductUpdated ${'{ a '.repeat(3_000)}${'}'.repeat(3_000)} }`, {}, apiKey);
    expect(deep).toMatchObject({ type: 'error', payload: { errors: [expect.objectContaining({ errorType: 'ValidationError' })] } });
    expect((await client.start('ok', 'subscription { onProductUpdated { id } }', {}, apiKey)).type).toBe('start_ack');
  });
});

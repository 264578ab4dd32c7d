import { createServer } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AddReviewDocument,
  AdjustStockDocument,
  CancelOrderDocument,
  GetOrderDocument,
  GetProductDocument,
  ListProductsDocument,
  MyOrdersDocument,
  PlaceOrderDocument,
  ProductWithReviewsDocument,
  UpdateOrderStatusDocument,
  UpdateProductDocument,
} from '../../generated/client/graphql.js';
import { GRAPHQL_INT_MAX, GRAPHQL_INT_MIN, MAX_PRICE_CENTS, MAX_QUANTITY, MAX_RATING_COUNT, MAX_STOCK } from '../../declarations/bounds.js';
import { dynamoDbClientConfig } from '../../local/dynamodb/dynamodb-local.js';
import { LocalFunction } from '../../local/lambda/function-runtime.js';
import { functions } from '../../declarations/functions.js';
import { resolverEvent } from '../support/fixtures.js';
import { alongsideOrdinaryRequest, createProduct, expectNothingWritten } from '../support/hostile.js';
import { useLocalStack, type GraphQLResponse } from '../support/local-stack.js';

/**
 * Hostile input to the resolvers (issue 8, sections 1 and 2), against the real
 * local stack: numbers that would leave GraphQL Int or the domain bounds, and
 * ids, categories and tokens that DynamoDB itself would refuse. Each case
 * checks the errorType the client sees, that its message names no internals,
 * that nothing was written, and that an ordinary request sent at the same
 * moment is answered.
 *
 * No review is created before a snapshot: the stream function updates rating
 * summaries asynchronously after one. The one test that adds reviews runs last.
 */

const local = useLocalStack();
let probeId: string;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  probeId = (await createProduct(local.api, { name: 'Probe' })).id;
  db = DynamoDBDocumentClient.from(new DynamoDBClient(dynamoDbClientConfig(local.stack.dynamoDbEndpoint)));
});
afterAll(() => db?.destroy());

/** What a client must never read in an error: endpoints, DynamoDB's wording, the function error type. */
const INTERNALS =
  /ECONNREFUSED|127\.0\.0\.1|localhost|ValidationException|key element|Item size|ExclusiveStartKey|Type mismatch|One or more parameter values|dynamodb|Lambda:Unhandled|Int cannot represent/i;

function expectNoInternals(res: GraphQLResponse<unknown>): void {
  for (const error of res.errors ?? []) {
    expect(error.errorType).not.toBe('Lambda:Unhandled');
    expect(error.message).not.toMatch(INTERNALS);
    // A refused value is never echoed back: some are hundreds of kilobytes.
    expect(error.message.length).toBeLessThan(500);
  }
}

/** The request was refused with `errorType`, and says nothing about internals. */
function expectRefused(res: GraphQLResponse<unknown>, errorType: string): void {
  expect(res.errors, JSON.stringify(res.errors)?.slice(0, 500)).toBeDefined();
  expect(res.errors?.[0]?.errorType, res.errors?.[0]?.message.slice(0, 300)).toBe(errorType);
  expectNoInternals(res);
}

/** Runs a hostile request alongside an ordinary one and asserts it wrote nothing. */
function hostile<T>(request: () => Promise<GraphQLResponse<T>>): Promise<GraphQLResponse<T>> {
  return expectNothingWritten(local.stack, () => alongsideOrdinaryRequest(local.api, probeId, request));
}

/** Property runs make a few dozen requests each: a bound for a loaded 2-core machine, not a speed target. */
const PROPERTY_TIMEOUT_MS = 180_000;

const forgeToken = (key: unknown): string => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

let tokenCounter = 0;
const clientToken = (): string => `hostile-${process.pid}-${++tokenCounter}`;

async function stockOf(id: string): Promise<number> {
  const res = await local.api.request(GetProductDocument, { id }, local.api.asApiKey);
  expect(res.errors).toBeUndefined();
  return res.data!.product!.stock!;
}

describe('data integrity: no derived number leaves GraphQL Int or the domain bounds', () => {
  it('refuses an order whose total exceeds Int, writing nothing; the customer and the clientToken stay usable', async () => {
    const pricey = (await createProduct(local.api, { priceCents: MAX_PRICE_CENTS, stock: 100 })).id;
    const customer = local.api.user('int-overflow');
    const token = clientToken();
    const res = await hostile(() =>
      local.api.request(PlaceOrderDocument, { input: { clientToken: token, items: [{ productId: pricey, quantity: 22 }] } }, customer),
    );
    expectRefused(res, 'ValidationError');
    expect(res.errors?.[0]?.errorInfo).toMatchObject({ totalCents: 2_200_000_000, maxTotalCents: GRAPHQL_INT_MAX });

    // Nothing was stored under the token: it places an in-range order, and the customer's orders read back.
    const placed = await local.api.request(
      PlaceOrderDocument,
      { input: { clientToken: token, items: [{ productId: pricey, quantity: 21 }] } },
      customer,
    );
    expect(placed.errors).toBeUndefined();
    expect(placed.data?.placeOrder.totalCents).toBe(2_100_000_000);
    const mine = await local.api.request(MyOrdersDocument, {}, customer);
    expect(mine.errors).toBeUndefined();
    expect(mine.data?.myOrders.items.map((order) => order.totalCents)).toEqual([2_100_000_000]);
    expect(await stockOf(pricey)).toBe(79);
  });

  it('refuses a total that only overflows across lines', async () => {
    const a = (await createProduct(local.api, { priceCents: MAX_PRICE_CENTS, stock: 100 })).id;
    const b = (await createProduct(local.api, { priceCents: MAX_PRICE_CENTS, stock: 100 })).id;
    const res = await hostile(() =>
      local.api.request(
        PlaceOrderDocument,
        {
          input: {
            clientToken: clientToken(),
            items: [
              { productId: a, quantity: 11 },
              { productId: b, quantity: 11 },
            ],
          },
        },
        local.api.user('int-overflow-lines'),
      ),
    );
    expectRefused(res, 'ValidationError');
  });

  it(
    'commits any quantity/price combination with an exact in-range total, or refuses it writing nothing (property)',
    async () => {
      const customer = local.api.user('order-property');
      const price = fc.oneof(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: MAX_PRICE_CENTS }),
        fc.constant(MAX_PRICE_CENTS),
      );
      const quantity = fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 30 }) },
        { weight: 2, arbitrary: fc.integer({ min: 1, max: MAX_QUANTITY }) },
        { weight: 1, arbitrary: fc.integer({ min: GRAPHQL_INT_MIN, max: GRAPHQL_INT_MAX }) },
      );
      let committed = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.record({ price, quantity }), { minLength: 1, maxLength: 3 }), async (lines) => {
          // Stock covers any valid quantity: only the total (or an invalid quantity) can refuse the order.
          const ids = await Promise.all(
            lines.map(async (line) => (await createProduct(local.api, { priceCents: line.price, stock: MAX_QUANTITY })).id),
          );
          const input = { clientToken: clientToken(), items: lines.map((line, i) => ({ productId: ids[i]!, quantity: line.quantity })) };
          const exact = lines.reduce((sum, line) => sum + BigInt(line.price) * BigInt(line.quantity), 0n);
          const valid = lines.every((line) => line.quantity >= 1 && line.quantity <= MAX_QUANTITY) && exact <= BigInt(GRAPHQL_INT_MAX);
          const request = () => local.api.request(PlaceOrderDocument, { input }, customer);
          if (!valid) {
            expectRefused(await hostile(request), 'ValidationError');
            refused++;
            return;
          }
          const res = await alongsideOrdinaryRequest(local.api, probeId, request);
          expect(res.errors).toBeUndefined();
          expect(BigInt(res.data!.placeOrder.totalCents)).toBe(exact);
          for (const [i, line] of lines.entries()) expect(await stockOf(ids[i]!)).toBe(MAX_QUANTITY - line.quantity);
          committed++;
        }),
        { numRuns: 30 },
      );
      // The customer's orders all read back: none was stored beyond Int.
      const mine = await local.api.request(MyOrdersDocument, { limit: 100 }, customer);
      expect(mine.errors).toBeUndefined();
      expect(mine.data?.myOrders.items).toHaveLength(committed);
      expect(committed + refused).toBe(30);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it('refuses adjustStock past MAX_STOCK, writing nothing, and out-of-range deltas', async () => {
    const id = (await createProduct(local.api, { stock: 10 })).id;
    const up = await local.api.request(AdjustStockDocument, { id, delta: MAX_STOCK / 2 }, local.api.admin());
    expect(up.errors).toBeUndefined();
    for (const delta of [MAX_STOCK / 2, MAX_STOCK, MAX_STOCK + 1, GRAPHQL_INT_MAX, -MAX_STOCK - 1, GRAPHQL_INT_MIN]) {
      const res = await hostile(() => local.api.request(AdjustStockDocument, { id, delta }, local.api.admin()));
      expectRefused(res, 'ValidationError');
    }
    expect(await stockOf(id)).toBe(MAX_STOCK / 2 + 10);
    // Up to the bound exactly is allowed.
    const full = await local.api.request(AdjustStockDocument, { id, delta: MAX_STOCK / 2 - 10 }, local.api.admin());
    expect(full.data?.adjustStock.stock).toBe(MAX_STOCK);
  });

  it('holds the stock bound under concurrent adjustments (the condition, not a read, decides)', async () => {
    const id = (await createProduct(local.api, { stock: 0 })).id;
    const step = 300_000_000;
    const results = await Promise.all(
      Array.from({ length: 5 }, () => local.api.request(AdjustStockDocument, { id, delta: step }, local.api.admin())),
    );
    const applied = results.filter((res) => !res.errors);
    for (const res of results.filter((r) => r.errors)) expectRefused(res, 'ValidationError');
    expect(applied).toHaveLength(3);
    expect(await stockOf(id)).toBe(3 * step);
  });

  it('refuses to cancel an order whose restored stock would pass MAX_STOCK, writing nothing', async () => {
    const id = (await createProduct(local.api, { stock: 10 })).id;
    const customer = local.api.user('cancel-overflow');
    const placed = await local.api.request(
      PlaceOrderDocument,
      { input: { clientToken: clientToken(), items: [{ productId: id, quantity: 4 }] } },
      customer,
    );
    expect(placed.errors).toBeUndefined();
    const orderId = placed.data!.placeOrder.id;
    // Restocked to the bound meanwhile: putting the 4 units back would exceed it.
    const restocked = await local.api.request(AdjustStockDocument, { id, delta: MAX_STOCK - 6 }, local.api.admin());
    expect(restocked.data?.adjustStock.stock).toBe(MAX_STOCK);

    const res = await hostile(() => local.api.request(CancelOrderDocument, { id: orderId }, customer));
    expectRefused(res, 'ConditionFailed');
    expect(res.errors?.[0]?.errorInfo).toMatchObject({ productId: id, stock: MAX_STOCK, maxStock: MAX_STOCK });

    // With room again, the same cancellation goes through.
    await local.api.request(AdjustStockDocument, { id, delta: -4 }, local.api.admin());
    const cancelled = await local.api.request(CancelOrderDocument, { id: orderId }, customer);
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data?.cancelOrder.status).toBe('CANCELLED');
    expect(await stockOf(id)).toBe(MAX_STOCK);
  });
});

describe('hostile ids, categories and tokens are refused before any AWS call', () => {
  /** Each field that takes an id (or category, or client token), as a client would call it. */
  const byId: Record<string, (value: string) => Promise<GraphQLResponse<unknown>>> = {
    'product(id)': (id) => local.api.request(GetProductDocument, { id }, local.api.asApiKey),
    'products(category)': (category) => local.api.request(ListProductsDocument, { category }, local.api.asApiKey),
    'updateProduct(input.id)': (id) =>
      local.api.request(UpdateProductDocument, { input: { id, expectedVersion: 1, name: 'x' } }, local.api.admin()),
    'adjustStock(id)': (id) => local.api.request(AdjustStockDocument, { id, delta: 1 }, local.api.admin()),
    'order(id)': (id) => local.api.request(GetOrderDocument, { id }, local.api.user('hostile-ids')),
    'cancelOrder(id)': (id) => local.api.request(CancelOrderDocument, { id }, local.api.user('hostile-ids')),
    'updateOrderStatus(id)': (id) => local.api.request(UpdateOrderStatusDocument, { id, status: 'PAID' }, local.api.admin()),
    'placeOrder(items.productId)': (productId) =>
      local.api.request(
        PlaceOrderDocument,
        { input: { clientToken: clientToken(), items: [{ productId, quantity: 1 }] } },
        local.api.user('hostile-ids'),
      ),
    'placeOrder(clientToken)': (token) =>
      local.api.request(
        PlaceOrderDocument,
        { input: { clientToken: token, items: [{ productId: probeId, quantity: 1 }] } },
        local.api.user('hostile-ids'),
      ),
    'addReview(productId)': (productId) =>
      local.api.request(AddReviewDocument, { input: { productId, rating: 3 } }, local.api.user('hostile-ids')),
  };

  const hostileIds: Record<string, string> = {
    empty: '',
    'over the 2,048-byte partition key limit': 'x'.repeat(2049),
    'over the limit in multi-byte characters': 'é'.repeat(1100),
    'near 900 KB': 'k'.repeat(900 * 1024),
    'a NUL character': 'a\u0000b',
    'a lone surrogate': 'id-\ud800',
  };

  for (const [field, call] of Object.entries(byId)) {
    for (const [what, value] of Object.entries(hostileIds)) {
      it(`${field}: ${what} → ValidationError`, async () => {
        expectRefused(await hostile(() => call(value)), 'ValidationError');
      });
    }
  }

  it('a well-formed id that does not exist is null for queries and NotFound for mutations', async () => {
    const missing = 'no-such-id-0000';
    expect((await hostile(() => byId['product(id)']!(missing))).data).toEqual({ product: null });
    expect((await hostile(() => byId['order(id)']!(missing))).data).toEqual({ order: null });
    for (const field of [
      'updateProduct(input.id)',
      'adjustStock(id)',
      'cancelOrder(id)',
      'updateOrderStatus(id)',
      'placeOrder(items.productId)',
      'addReview(productId)',
    ]) {
      expectRefused(await hostile(() => byId[field]!(missing)), 'NotFound');
    }
  });

  it(
    'any string as an id is ValidationError, null or NotFound, never Lambda:Unhandled (property)',
    async () => {
      const anyString = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ unit: 'grapheme', maxLength: 100 }),
        fc.integer({ min: 0, max: 4000 }).map((n) => 'z'.repeat(n)),
      );
      const field = fc.constantFrom(
        'product(id)',
        'order(id)',
        'cancelOrder(id)',
        'adjustStock(id)',
        'placeOrder(items.productId)',
        'addReview(productId)',
        'products(category)',
      );
      await fc.assert(
        fc.asyncProperty(field, anyString, async (name, value) => {
          const res = await hostile(() => byId[name]!(value));
          expectNoInternals(res);
          if (res.errors) expect(['ValidationError', 'NotFound']).toContain(res.errors[0]?.errorType);
        }),
        { numRuns: 40 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it('a 900 KB contact email is refused before it reaches the order item', async () => {
    const contactEmail = `${'m'.repeat(900 * 1024)}@example.com`;
    const res = await hostile(() =>
      local.api.request(
        PlaceOrderDocument,
        { input: { clientToken: clientToken(), items: [{ productId: probeId, quantity: 1 }], contactEmail } },
        local.api.user('hostile-email'),
      ),
    );
    expectRefused(res, 'ValidationError');
  });

  describe('forged nextTokens', () => {
    const customer = 'hostile-pages';
    /** Forgeries of a key whose partition attribute is right (so only the forged part can refuse it). */
    const forgeries: Record<string, (key: Record<string, string>) => string> = {
      'a number where a string key is': (key) => forgeToken({ ...key, id: 5 }),
      'an empty key attribute': (key) => forgeToken({ ...key, id: '' }),
      'a key attribute over the sort key limit': (key) => forgeToken({ ...key, id: 'x'.repeat(3000) }),
      'a DynamoDB-typed attribute': (key) => forgeToken({ ...key, id: { S: 'p' } }),
      'a lone surrogate': (key) => forgeToken({ ...key, id: '\ud800' }),
      'a missing attribute': (key) => forgeToken({ ...key, id: undefined }),
      'an array': (key) => forgeToken([key]),
      'near 900 KB': () => 'A'.repeat(900 * 1024),
    };

    /** Each paged field: a well-formed key of its own, and how a client asks for the next page. */
    const pages: Record<string, { key: () => Record<string, string>; call: (nextToken: string) => Promise<GraphQLResponse<unknown>> }> = {
      products: {
        key: () => ({ id: 'p', category: 'hostile', createdAt: '2026-01-01T00:00:00.000Z' }),
        call: (nextToken) => local.api.request(ListProductsDocument, { category: 'hostile', nextToken }, local.api.asApiKey),
      },
      myOrders: {
        key: () => ({ id: 'o', customerId: customer, createdAt: '2026-01-01T00:00:00.000Z' }),
        call: (nextToken) => local.api.request(MyOrdersDocument, { nextToken }, local.api.user(customer)),
      },
      'Product.reviews': {
        key: () => ({ productId: probeId, id: '2026-01-01T00:00:00.000Z#00000000' }),
        call: (nextToken) => local.api.request(ProductWithReviewsDocument, { id: probeId, nextToken }, local.api.asApiKey),
      },
    };

    for (const [field, page] of Object.entries(pages)) {
      for (const [what, forge] of Object.entries(forgeries)) {
        it(`${field}: ${what} → ValidationError`, async () => {
          expectRefused(await hostile(() => page.call(forge(page.key()))), 'ValidationError');
        });
      }
      it(`${field}: a well-formed key of this partition is accepted as a starting point`, async () => {
        const res = await hostile(() => page.call(forgeToken(page.key())));
        expect(res.errors).toBeUndefined();
      });
    }

    it(
      'any JSON as a token is a page or a ValidationError, never Lambda:Unhandled (property)',
      async () => {
        const attribute = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.jsonValue({ maxDepth: 2 }), fc.constant('hostile'));
        await fc.assert(
          fc.asyncProperty(fc.record({ id: attribute, category: attribute, createdAt: attribute }, { requiredKeys: [] }), async (key) => {
            const res = await hostile(() => pages.products!.call(forgeToken(key)));
            expectNoInternals(res);
            if (res.errors) expect(res.errors[0]?.errorType).toBe('ValidationError');
          }),
          { numRuns: 40 },
        );
      },
      PROPERTY_TIMEOUT_MS,
    );
  });
});

describe('unexpected failures reach the client as a generic message', () => {
  /** A loopback port nothing listens on: connecting to it is refused, as when DynamoDB is down. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('DynamoDB down: the function error carries only the request id; the log has the full error', async () => {
    // The catalog bundle the stack runs, in its own execution environment whose DynamoDB is unreachable.
    const bundle = local.stack.bundles.find((b) => b.name === 'catalog')!;
    const port = await closedPort();
    const platformLog: string[] = [];
    const fn = new LocalFunction({
      name: 'catalog-dynamodb-down',
      bundlePath: bundle.file,
      environment: {
        ...local.stack.functionEnvironments.catalog,
        DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`,
        CACHE_BACKEND: 'none',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      },
      memoryMb: functions.catalog.memoryMb,
      timeoutSeconds: functions.catalog.timeoutSeconds,
      maxConcurrency: 1,
      log: (line) => platformLog.push(line),
    });
    // The function's own log (Powertools writes ERROR to stderr, which the environment forwards).
    const functionLog: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      functionLog.push(String(chunk));
      return true;
    });
    try {
      const event = resolverEvent({ parentTypeName: 'Query', fieldName: 'product', arguments: { id: 'any-product' } });
      const result = await fn.invoke(event);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      const requestId = result.report.requestId;
      // What AppSync (and the local executor) shows the client as the Lambda:Unhandled message.
      expect(result.error.errorMessage).toBe(`An internal error occurred (request id ${requestId})`);
      expect(JSON.stringify(result.error)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      await vi.waitFor(() => expect(functionLog.join('')).toContain(requestId), { timeout: 5_000, interval: 50 });
      const entry = functionLog
        .join('')
        .split('\n')
        .find((line) => line.includes(requestId) && line.includes('ECONNREFUSED'));
      expect(entry, 'the original error, logged with the request id').toBeDefined();
      expect(JSON.parse(entry!)).toMatchObject({ level: 'ERROR', requestId, field: 'Query.product' });
    } finally {
      stderr.mockRestore();
      await fn.close();
    }
  });
});

describe('rating summary (runs last: it adds a review, which the stream function applies later)', () => {
  it('does not count past RatingSummary.count’s Int range; the product stays readable', async () => {
    const id = (await createProduct(local.api, { name: 'Much reviewed' })).id;
    // As if MAX_RATING_COUNT reviews had been counted (written around the API, version bumped as every write must).
    await db.send(
      new UpdateCommand({
        TableName: local.stack.tables.products,
        Key: { id },
        UpdateExpression: 'SET ratingCount = :count, ratingTotal = :total, version = version + :one',
        ExpressionAttributeValues: { ':count': MAX_RATING_COUNT, ':total': MAX_RATING_COUNT * 4, ':one': 1 },
      }),
    );
    const bound = { timeout: functions.stream.freshnessBoundSeconds * 1000, interval: 100 };
    const rating = async () => {
      const read = await local.api.request(GetProductDocument, { id }, local.api.asApiKey);
      expect(read.errors).toBeUndefined();
      return read.data?.product?.rating;
    };
    // The write reaches readers through the products stream (the cache is refreshed from its image).
    await vi.waitFor(async () => expect(await rating()).toEqual({ count: MAX_RATING_COUNT, average: 4 }), bound);

    const mapping = () => local.stack.eventSourceMappings().find((m) => m.functionName === 'stream' && m.table === 'reviews')!;
    const before = JSON.stringify(mapping().checkpoints);
    const review = await local.api.request(AddReviewDocument, { input: { productId: id, rating: 5 } }, local.api.user('reviewer'));
    expect(review.errors).toBeUndefined();

    // The stream function has handled the review's record once the reviews mapping's checkpoint moves.
    await vi.waitFor(() => expect(JSON.stringify(mapping().checkpoints)).not.toBe(before), bound);
    const { Item } = await db.send(new GetCommand({ TableName: local.stack.tables.products, Key: { id }, ConsistentRead: true }));
    expect(Item).toMatchObject({ ratingCount: MAX_RATING_COUNT, ratingTotal: MAX_RATING_COUNT * 4 });
    expect(await rating()).toEqual({ count: MAX_RATING_COUNT, average: 4 });
    expect(local.stack.deadLetters()).toHaveLength(0);
  });
});

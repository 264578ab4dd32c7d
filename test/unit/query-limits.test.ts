import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { getIntrospectionQuery, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { api, apiLimitsOf, effectiveResolverCountLimit, type ApiLimits } from '../../declarations/api.js';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import { MAX_ORDER_LINES } from '../../declarations/bounds.js';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import { fieldRoutes } from '../../declarations/check.js';
import { AppSyncExecutor } from '../../local/appsync/execute.js';
import { FieldAuthorization, type Caller } from '../../local/appsync/field-authorization.js';
import {
  admitOperation,
  MAX_NESTING,
  maxNesting,
  prepareQuery,
  resolverBound,
  unboundedLists,
  type PreparedQuery,
} from '../../local/appsync/query-limits.js';
import { SubscriptionDocuments } from '../../local/realtime/projection.js';
import { productValue } from '../support/fixtures.js';

const schema = buildAppSyncSchema();
const routes = fieldRoutes();
const limits = api.limits;

/** A bound the checks must stay under even on a loaded 2-core machine; the exponential case took ~8 s. */

function prepared(query: string, overrides: Partial<ApiLimits> = {}): PreparedQuery {
  const result = prepareQuery(query, { schema, limits: { ...limits, ...overrides } });
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.query;
}

function refusal(query: string, overrides: Partial<ApiLimits> = {}): string[] {
  const result = prepareQuery(query, { schema, limits: { ...limits, ...overrides } });
  if (result.ok) throw new Error('expected a refusal');
  return result.errors.map((e) => e.message);
}

function operationOf(query: PreparedQuery, name?: string): OperationDefinitionNode {
  const operation = query.document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (name === undefined || d.name?.value === name),
  );
  if (!operation) throw new Error(`no operation ${name}`);
  return operation;
}

function bound(query: string, variables: Record<string, unknown> = {}, depthLimit = 0): number {
  const document = parse(query);
  return resolverBound(document, document.definitions[0] as OperationDefinitionNode, variables, { schema, routes, depthLimit });
}

/** `fragment F0 { ...F1 ...F1 }` … `F<n> { <leaf> }`: 2^n leaves once expanded, about 40 bytes a fragment. */
function fragmentBomb(n: number, leaf = 'id', operation = 'query { product(id: "x") { ...F0 } }'): string {
  let fragments = '';
  for (let i = 0; i < n; i++) fragments += `fragment F${i} on Product { ...F${i + 1} ...F${i + 1} }\n`;
  return `${operation}\n${fragments}fragment F${n} on Product { ${leaf} }\n`;
}

const aliases = (n: number, selection: string): string => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${selection}`).join(' ')} }`;
const productsWithReviews = 'products(category: "c", limit: 100) { items { reviews { items { id } } } }';

describe('the API declaration', () => {
  it('declares limits within AppSync ranges, and the checker refuses anything outside them', () => {
    expect(apiLimitsOf(api)).toEqual(api.limits);
    for (const bad of [
      { queryDepthLimit: 76 },
      { queryDepthLimit: -1 },
      { queryDepthLimit: 2.5 },
      { resolverCountLimit: 10_001 },
      { maxRequestBytes: 2 * 1024 * 1024 },
      { maxRequestBytes: 0 },
    ]) {
      expect(() => apiLimitsOf({ limits: { ...limits, ...bad } }), JSON.stringify(bad)).toThrow(Object.keys(bad)[0]);
    }
    // AppSync reads a resolver count limit of 0 as its default, 10,000; a depth limit of 0 as none.
    expect(effectiveResolverCountLimit({ resolverCountLimit: 0 })).toBe(10_000);
    expect(apiLimitsOf({ limits: { ...limits, queryDepthLimit: 0, resolverCountLimit: 0 } }).queryDepthLimit).toBe(0);
  });
});

describe('maxNesting', () => {
  it('counts brackets and skips strings, block strings and comments', () => {
    expect(maxNesting('{ a { b(x: [1, [2]]) } }')).toBe(5);
    expect(maxNesting('{ a(s: "{{{{ \\" {{") }')).toBe(2);
    expect(maxNesting('{ a(s: """ {{{{ \\""" {{ """) }')).toBe(2);
    expect(maxNesting('# {{{{{{\n{ a }')).toBe(1);
    expect(maxNesting('{'.repeat(10_000), 5)).toBe(6);
  });

  it('matches a plain bracket count on texts without strings or comments, and ignores whatever a string holds', () => {
    const plain = fc
      .array(fc.constantFrom('{', '}', '(', ')', '[', ']', 'a', ' ', '\n'), { maxLength: 300 })
      .map((chars) => chars.join(''));
    fc.assert(
      fc.property(plain, (text) => {
        let depth = 0;
        let deepest = 0;
        for (const c of text) {
          if ('{(['.includes(c)) deepest = Math.max(deepest, ++depth);
          else if ('})]'.includes(c) && depth > 0) depth -= 1;
        }
        expect(maxNesting(text)).toBe(deepest);
      }),
    );
    const inString = fc.string({ maxLength: 200 }).filter((s) => !/["\\\n\r]/.test(s));
    fc.assert(
      fc.property(inString, (junk) => {
        expect(maxNesting(`{ a(s: "${junk}") { b } }`)).toBe(2);
      }),
    );
  });
});

describe('prepareQuery', () => {
  it("accepts every client operation and GraphiQL's introspection query", () => {
    for (const file of ['operations/catalog.graphql', 'operations/orders.graphql']) {
      const value = prepareQuery(readFileSync(file, 'utf8'), { schema, limits });
      expect(value.ok, file).toBe(true);
    }
    const introspection = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    expect(prepareQuery(introspection, { schema, limits }).ok).toBe(true);
  });

  it('refuses the 25-fragment document (2^25 fields once expanded) before validation (no time is spent expanding it)', () => {
    const bomb = fragmentBomb(25);
    expect(bomb.length).toBeLessThan(1200);
    const value = prepareQuery(bomb, { schema, limits });
    expect(value.ok).toBe(false);
    expect(!value.ok && value.errors[0]!.message).toMatch(/fields once its fragments are expanded/);
  });

  it('refuses any fragment bomb past the expansion bound, whatever its size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 13, max: 60 }), fc.constantFrom('id', 'reviews { items { id } }', 'rating { count }'), (n, leaf) => {
        const value = prepareQuery(fragmentBomb(n, leaf), { schema, limits });
        expect(value.ok).toBe(false);
      }),
      { numRuns: 25 },
    );
    // Below the bound the same shape is an ordinary document.
    expect(prepareQuery(fragmentBomb(6), { schema, limits }).ok).toBe(true);
  });

  it('refuses nesting past the cap without overflowing the parser (a ValidationError, never a throw)', () => {
    for (const depth of [MAX_NESTING + 1, 2_000, 100_000]) {
      const deep = `{ product(id: "x") ${'{ a '.repeat(depth)}${'}'.repeat(depth + 1)}`;
      expect(refusal(deep)[0]).toMatch(/nested more than 128 levels/);
    }
    const deepInput = `{ product(id: ${'['.repeat(5_000)}"x"${']'.repeat(5_000)}) { id } }`;
    expect(refusal(deepInput)[0]).toMatch(/nested more than/);
    // Depth built from fragments, each nested within the cap: refused by the expansion bound.
    let chain = '';
    for (let i = 0; i < 127; i++) chain += `fragment F${i} on Product { ${'a { '.repeat(10)}...F${i + 1}${' }'.repeat(10)} }\n`;
    expect(refusal(`{ product(id: "x") { ...F0 } }\n${chain}fragment F127 on Product { id }`)[0]).toMatch(
      /fields once its fragments are expanded/,
    );
  });

  it("caps tokens, as graphql-java's parser does: 1,000 aliases are refused while parsing", () => {
    const value = refusal(aliases(1000, productsWithReviews));
    expect(value[0]).toMatch(/contains more th\w+ 15000 tokens/);
  });

  it('refuses fragment cycles and overlong chains of spreads', () => {
    expect(refusal('{ product(id: "x") { ...A } } fragment A on Product { id ...B } fragment B on Product { ...A }')[0]).toMatch(
      /Cannot spread fragment "[AB]" within itself/,
    );
    let chain = '';
    for (let i = 0; i < 200; i++) chain += `fragment C${i} on Product { ...C${i + 1} }\n`;
    expect(refusal(`{ product(id: "x") { ...C0 } }\n${chain}fragment C200 on Product { id }`)[0]).toMatch(/more than 128 levels deep/);
  });

  it('refuses heavily repeated fields, whose merge check is quadratic', () => {
    expect(refusal(`{ ${Array.from({ length: 200 }, () => 'product(id: "x") { id }').join(' ')} }`)[0]).toMatch(/repeats fields too often/);
    // A few repeats (fragments overlapping the query's own fields) are fine.
    expect(
      prepared('{ product(id: "x") { id ...A ...B } } fragment A on Product { id name } fragment B on Product { id name }'),
    ).toBeDefined();
  });

  it('with introspection off, refuses __schema and __type as AppSync does (a validation error) and keeps __typename', () => {
    const off = { introspection: false };
    expect(refusal('{ __schema { types { name } } }', off)).toEqual([
      "Validation error of type FieldUndefined: Field '__schema' in type 'Query' is undefined @ '__schema'",
    ]);
    expect(refusal('{ __type(name: "Product") { name } }', off)[0]).toMatch(/Field '__type' in type 'Query' is undefined/);
    expect(prepared('{ __typename product(id: "x") { __typename id } }', off)).toBeDefined();
    expect(prepared('{ __schema { types { name } } }')).toBeDefined();
  });

  it('still reports ordinary validation errors', () => {
    expect(refusal('{ product(id: "x") { colour } }')[0]).toMatch(/colour/);
  });

  it("records each operation's depth, fragments included and introspection left out", () => {
    const query = prepared(
      'query A { product(id: "x") { ...F } } query B { __schema { types { fields { name } } } } fragment F on Product { reviews { items { id } } }',
    );
    expect(query.depths.get('A')).toBe(4);
    expect(query.depths.get('B')).toBe(1);
  });
});

describe('the resolver count bound', () => {
  it('counts routed fields, multiplied by the lists above them', () => {
    expect(bound('{ product(id: "x") { id name rating { count } } }')).toBe(1);
    expect(bound('{ product(id: "x") { reviews { items { id } } } }')).toBe(2);
    // A connection's items: its limit (default 20 when absent, at most 100).
    expect(bound('{ products(category: "c", limit: 7) { items { reviews { items { id } } } } }')).toBe(1 + 7);
    expect(bound('{ products(category: "c") { items { reviews { items { id } } } } }')).toBe(1 + 20);
    expect(bound('{ products(category: "c", limit: 5000) { items { reviews { items { id } } } } }')).toBe(1 + 100);
    expect(bound('query Q($n: Int) { products(category: "c", limit: $n) { items { reviews { items { id } } } } }', { n: 3 })).toBe(1 + 3);
    expect(bound('query Q($n: Int = 4) { products(category: "c", limit: $n) { items { reviews { items { id } } } } }')).toBe(1 + 4);
    // Order lines: a fixed bound; OrderItem.product (BatchInvoke) counts once per line.
    expect(bound('{ order(id: "o") { items { product { id } } } }')).toBe(1 + MAX_ORDER_LINES);
    expect(bound('query Q($n: Int) { myOrders(limit: $n) { items { items { product { reviews { items { id } } } } } } }', { n: 2 })).toBe(
      1 + 2 * 100 * 2,
    );
    // Aliases each count; fragments are expanded.
    expect(bound('{ a: product(id: "1") { ...R } b: product(id: "2") { ...R } } fragment R on Product { reviews { items { id } } }')).toBe(
      4,
    );
  });

  it('leaves out fields past the depth limit: they never resolve', () => {
    expect(bound('{ product(id: "x") { reviews { items { id } } } }', {}, 1)).toBe(1);
    expect(bound('{ order(id: "o") { items { product { id } } } }', {}, 2)).toBe(1);
  });

  it('saturates instead of overflowing, memoizing each fragment', () => {
    const document = parse(fragmentBomb(60, 'reviews { items { id } }'));
    const value = resolverBound(document, document.definitions[0] as OperationDefinitionNode, {}, { schema, routes });
    expect(value).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('has a bound for every list of the schema', () => {
    expect(unboundedLists(schema)).toEqual([]);
  });

  it('refuses 100 aliases of a page of products with their reviews (10,100 resolvers), admits 99', () => {
    const refused = admitOperation(
      prepared(aliases(100, productsWithReviews)),
      operationOf(prepared(aliases(100, productsWithReviews))),
      {},
      { schema, limits, routes },
    );
    expect(refused).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/10100 resolvers.*allows 10000/),
        extensions: { errorType: 'ResolverExecutionLimitReached' },
      }),
    ]);
    const ninetyNine = prepared(aliases(99, productsWithReviews));
    expect(admitOperation(ninetyNine, operationOf(ninetyNine), {}, { schema, limits, routes })).toEqual({
      depthLimit: undefined,
      resolverLimit: 10_000,
    });
  });

  it('is sound: never below what the executor runs, and exact when every page is full', async () => {
    // Random operations over the schema's lists; a fake backend answers every page full (as many items as
    // the limit lets through) and every order with the most lines; resolver executions are counted per item.
    const catalogSelection = fc.constantFrom('id', 'reviews { items { id } }', 'reviews(limit: 3) { items { id } }', 'rating { count }');
    const operation = fc.oneof(
      fc
        .record({ limit: fc.option(fc.integer({ min: 1, max: 120 })), inner: catalogSelection })
        .map(({ limit, inner }) => `products(category: "c"${limit === null ? '' : `, limit: ${limit}`}) { items { ${inner} } }`),
      catalogSelection.map((inner) => `product(id: "p") { ${inner} }`),
      fc
        .record({ limit: fc.integer({ min: 1, max: 3 }), inner: catalogSelection })
        .map(({ limit, inner }) => `myOrders(limit: ${limit}) { items { items { product { ${inner} } } } }`),
    );
    const queries = fc
      .array(operation, { minLength: 1, maxLength: 3 })
      .map((parts) => `{ ${parts.map((part, i) => `f${i}: ${part}`).join(' ')} }`);
    await fc.assert(
      fc.asyncProperty(queries, async (query) => {
        let executions = 0;
        const executor = new AppSyncExecutor({
          schema,
          routes,
          authorization: new FieldAuthorization(schema, 'API_KEY'),
          invoke: async (_fn, payload) => {
            const events = Array.isArray(payload) ? payload : [payload];
            executions += events.length;
            const answers = events.map((event) => ({ data: fullAnswer(event) }));
            return { ok: true, payload: Array.isArray(payload) ? answers : answers[0] };
          },
        });
        const res = await executor.execute({ query }, userCaller);
        expect(res.errors).toBeUndefined();
        const document = parse(query);
        expect(executions).toBe(resolverBound(document, document.definitions[0] as OperationDefinitionNode, {}, { schema, routes }));
      }),
      { numRuns: 40 },
    );
  });
});

const userCaller = {
  caller: { mode: 'AMAZON_COGNITO_USER_POOLS', groups: [] } as Caller,
  identity: { sub: 'u1', issuer: 'iss', username: 'u1', claims: {}, sourceIp: ['127.0.0.1'], defaultAuthStrategy: 'ALLOW', groups: [] },
  headers: {},
};

const timestamp = '2026-01-01T00:00:00Z';
const product = productValue;

/** The largest answer a resolver may give: full pages, orders with every line. */
function fullAnswer(event: ResolverEvent): unknown {
  const limit = typeof event.arguments['limit'] === 'number' ? Math.min(event.arguments['limit'], 100) : 20;
  switch (`${event.info.parentTypeName}.${event.info.fieldName}`) {
    case 'Query.products':
      return { items: Array.from({ length: limit }, (_, i) => product(`p${i}`)), nextToken: null };
    case 'Product.reviews':
      return {
        items: Array.from({ length: limit }, (_, i) => ({
          id: `r${i}`,
          productId: 'p',
          authorId: 'a',
          rating: 5,
          title: null,
          body: null,
          createdAt: timestamp,
        })),
        nextToken: null,
      };
    case 'Query.myOrders': {
      const lines = Array.from({ length: MAX_ORDER_LINES }, (_, i) => ({ productId: `p${i}`, quantity: 1, unitPriceCents: 1 }));
      const order = (id: string) => ({
        id,
        customerId: 'u1',
        status: 'PLACED',
        items: lines,
        totalCents: 1,
        currency: 'USD',
        clientToken: 't',
        contactEmail: null,
        createdAt: timestamp,
        updatedAt: timestamp,
      });
      return { items: Array.from({ length: limit }, (_, i) => order(`o${i}`)), nextToken: null };
    }
    default:
      return product('p');
  }
}

describe('subscription documents get the same checks', () => {
  const authorization = new FieldAuthorization(schema, 'API_KEY');

  it('refuses a fragment bomb at start, before validation, as a ValidationError', () => {
    const documents = new SubscriptionDocuments(schema, authorization);
    const bomb = fragmentBomb(25, 'id', 'subscription { onProductUpdated { ...F0 } }');
    const value = documents.request(bomb, null, {});
    expect(value).toEqual([expect.objectContaining({ errorType: 'ValidationError', message: expect.stringMatching(/expanded/) })]);
    expect(documents.request(`subscription { onProductUpdated ${'{ a '.repeat(3000)}${'}'.repeat(3000)} }`, null, {})).toEqual([
      expect.objectContaining({ errorType: 'ValidationError', message: expect.stringMatching(/nested more than/) }),
    ]);
  });

  it('answers fields past the depth limit with QueryDepthLimitReached in each event', () => {
    const documents = new SubscriptionDocuments(schema, authorization, 10, { ...limits, queryDepthLimit: 1 });
    const request = documents.request('subscription { onProductUpdated { id } }', null, {});
    if (Array.isArray(request)) throw new Error(JSON.stringify(request));
    const payload = JSON.parse(documents.project(request, { mode: 'API_KEY', groups: [] } as Caller, product('p1'))) as {
      data: unknown;
      errors: Array<{ errorType: string; path: unknown }>;
    };
    expect(payload.data).toEqual({ onProductUpdated: null });
    expect(payload.errors).toEqual([expect.objectContaining({ errorType: 'QueryDepthLimitReached', path: ['onProductUpdated', 'id'] })]);
  });
});

import fc from 'fast-check';
import { print } from 'graphql';
import {
  AdjustStockDocument,
  CancelOrderDocument,
  GetProductDocument,
  ListProductsDocument,
  MyOrdersDocument,
  PlaceOrderDocument,
  ProductWithReviewsDocument,
} from '../generated/client/graphql.js';
import { weightedPick, type Rng } from './rng.js';

/**
 * The hostile requests of `npm run fuzz`, as plain data: pure functions of a
 * seeded Rng and the stack's credentials, no I/O (fuzz/send.ts sends them).
 * Each case says what it is (`kind`, `description`) and what it claims to be
 * in `facts` (its size, depth, alias count…), which test/unit/fuzz.test.ts
 * checks against the case itself.
 */

export interface FuzzContext {
  /** `127.0.0.1:<port>`, for Host headers and the real-time handshake. */
  readonly host: string;
  readonly apiKey: string;
  readonly adminToken: string;
  readonly customerTokens: readonly string[];
  readonly partnerToken: string;
  readonly iamAccessKeyId: string;
  /** Existing products, so a hostile query can name a real one. */
  readonly productIds: readonly string[];
}

export type Facts = Readonly<Record<string, number | string | boolean>>;

/** An ordinary HTTP request (node:http) with hostile content. */
export interface HttpCase {
  readonly transport: 'http';
  readonly kind: HttpKind;
  readonly description: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly facts: Facts;
}

/** Bytes on a raw TCP socket: for what node:http will not send (lying lengths, reuse after an early answer). */
export type RawStep =
  | { readonly write: string }
  /** Wait for one complete HTTP response (or the socket closing) before going on. */
  | { readonly readResponse: true }
  | { readonly waitMs: number }
  | { readonly destroy: true };

export interface RawCase {
  readonly transport: 'raw';
  readonly kind: RawKind;
  readonly description: string;
  readonly steps: readonly RawStep[];
  readonly facts: Facts;
}

export type WsStep =
  | { readonly send: string }
  | { readonly sendBinary: string /* base64 */ }
  /** `template` with `{i}` replaced by 0..count-1, sent back to back. */
  | { readonly sendMany: { readonly template: string; readonly count: number } }
  /** Raw bytes straight onto the TCP socket (e.g. half a frame), base64. */
  | { readonly rawWrite: string }
  | { readonly waitMs: number }
  | { readonly close: number }
  | { readonly terminate: true };

export interface WsCase {
  readonly transport: 'ws';
  readonly kind: WsKind;
  readonly description: string;
  /** Path and query of the upgrade request. */
  readonly path: string;
  readonly protocols: readonly string[];
  /** The same script on this many sockets at once. */
  readonly connections: number;
  readonly steps: readonly WsStep[];
  readonly facts: Facts;
}

export type FuzzCase = HttpCase | RawCase | WsCase;

export const HTTP_KINDS = [
  'invalidJson',
  'wrongShape',
  'wrongContentType',
  'wrongMethod',
  'hugeBody',
  'deepNesting',
  'fragmentBomb',
  'aliasFlood',
  'unknownFields',
  'badVariables',
  'badAuth',
  'oversizedIds',
  'forgedNextTokens',
] as const;
export const RAW_KINDS = ['contentLengthLie', 'keepAliveReuse', 'malformedHttp'] as const;
export const WS_KINDS = [
  'wsBadSubprotocol',
  'wsBadHandshake',
  'wsGarbageFrames',
  'wsStartBeforeInit',
  'wsHugePayload',
  'wsManyStarts',
  'wsAbruptClose',
  'wsConnectionFlood',
] as const;
export type HttpKind = (typeof HTTP_KINDS)[number];
export type RawKind = (typeof RAW_KINDS)[number];
export type WsKind = (typeof WS_KINDS)[number];
export type HostileKind = HttpKind | RawKind | WsKind;

/**
 * Relative frequency of each kind. Expensive cases (1 MB bodies, floods of
 * Lambda invocations, thousands of starts) are rare so that a 10,000-request
 * run stays within minutes on two cores.
 */
export const HOSTILE_WEIGHTS: Readonly<Record<HostileKind, number>> = {
  invalidJson: 70,
  wrongShape: 40,
  wrongContentType: 50,
  wrongMethod: 30,
  hugeBody: 8,
  deepNesting: 25,
  fragmentBomb: 12,
  aliasFlood: 15,
  unknownFields: 70,
  badVariables: 90,
  badAuth: 110,
  oversizedIds: 50,
  forgedNextTokens: 60,
  contentLengthLie: 20,
  keepAliveReuse: 15,
  malformedHttp: 25,
  wsBadSubprotocol: 15,
  wsBadHandshake: 15,
  wsGarbageFrames: 25,
  wsStartBeforeInit: 20,
  wsHugePayload: 10,
  wsManyStarts: 5,
  wsAbruptClose: 20,
  wsConnectionFlood: 3,
};

const ONE_MB = 1024 * 1024;
const Q = {
  product: print(GetProductDocument),
  products: print(ListProductsDocument),
  productWithReviews: print(ProductWithReviewsDocument),
  myOrders: print(MyOrdersDocument),
  adjust: print(AdjustStockDocument),
  place: print(PlaceOrderDocument),
  cancel: print(CancelOrderDocument),
};
const SUBSCRIPTION = 'subscription OnProduct($id: ID) { onProductUpdated(id: $id) { id name stock version } }';

const json = (query: string, variables: unknown = {}, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ query, variables, ...extra });
const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function post(kind: HttpKind, description: string, body: string, headers: Record<string, string>, facts: Facts = {}): HttpCase {
  return {
    transport: 'http',
    kind,
    description,
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    facts: { bytes: Buffer.byteLength(body), ...facts },
  };
}

// --- HTTP -----------------------------------------------------------------

export function invalidJson(rng: Rng, ctx: FuzzContext): HttpCase {
  const valid = json(Q.product, { id: rng.pick(ctx.productIds) });
  const variants: Array<() => [string, string]> = [
    () => ['truncated body', valid.slice(0, rng.between(1, valid.length - 1))],
    () => ['random text', `<${rng.sample(fc.string({ maxLength: 200 }))}`],
    () => ['single-quoted JSON', valid.replaceAll('"', "'")],
    () => ['trailing garbage', `${valid}}}garbage`],
    () => ['NaN and comments', '{"query": NaN /* comment */}'],
    () => ['empty body', ''],
    () => ['byte-order mark', `\uFEFF${valid}`.replace('{', '{,')],
    () => ['unterminated string', '{"query": "{ product(id: \\"x\\") { id }'],
    () => ['lone surrogate escape', `{"query": "\\ud800${'\\'}"}`],
    () => [
      'binary junk',
      Buffer.from(rng.sample(fc.uint8Array({ minLength: 1, maxLength: 300 })))
        .toString('latin1')
        .replace(/^[\s\S]/, '\u0000'),
    ],
  ];
  const [what, body] = rng.pick(variants)();
  return post('invalidJson', `invalid JSON: ${what}`, body, { 'x-api-key': ctx.apiKey }, { parses: false });
}

export function wrongShape(rng: Rng, ctx: FuzzContext): HttpCase {
  const variants: Array<() => [string, string]> = [
    () => ['JSON array body', JSON.stringify([{ query: Q.product, variables: { id: 'x' } }])],
    () => ['JSON scalar body', JSON.stringify(rng.sample(fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null))))],
    () => ['query is a number', JSON.stringify({ query: 42 })],
    () => ['query is an object', JSON.stringify({ query: { kind: 'Document' } })],
    () => ['query is blank', JSON.stringify({ query: '   \n\t ' })],
    () => ['variables is an array', JSON.stringify({ query: Q.product, variables: ['x'] })],
    () => ['variables is a string', JSON.stringify({ query: Q.product, variables: '{"id":"x"}' })],
    () => ['operationName is a number', JSON.stringify({ query: Q.product, variables: { id: 'x' }, operationName: 7 })],
    () => ['random JSON value', JSON.stringify(rng.sample(fc.jsonValue({ maxDepth: 4 })) ?? null)],
    () => [
      'extensions with persisted-query hash only',
      JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } }),
    ],
  ];
  const [what, body] = rng.pick(variants)();
  return post('wrongShape', `wrong body shape: ${what}`, body, { 'x-api-key': ctx.apiKey });
}

export function wrongContentType(rng: Rng, ctx: FuzzContext): HttpCase {
  const body = json(Q.product, { id: rng.pick(ctx.productIds) });
  const [contentType, sent] = rng.pick<[string, string]>([
    ['text/plain', body],
    ['application/x-www-form-urlencoded', `query=${encodeURIComponent(Q.product)}&variables=${encodeURIComponent('{"id":"x"}')}`],
    ['multipart/form-data; boundary=zzz', `--zzz\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${body}\r\n--zzz--\r\n`],
    ['application/graphql', Q.product],
    ['application/json; charset=utf-16', body],
    ['image/png', body],
    ['', body],
  ]);
  return {
    ...post('wrongContentType', `content-type ${contentType || '(empty)'}`, sent, { 'x-api-key': ctx.apiKey }),
    headers: { 'content-type': contentType, 'x-api-key': ctx.apiKey },
    facts: { bytes: Buffer.byteLength(sent), contentType },
  };
}

export function wrongMethod(rng: Rng, ctx: FuzzContext): HttpCase {
  const [method, path] = rng.pick<[string, string]>([
    ['GET', `/graphql?query=${encodeURIComponent(Q.product)}&variables=${encodeURIComponent('{"id":"x"}')}`],
    ['PUT', '/graphql'],
    ['DELETE', '/graphql'],
    ['PATCH', '/graphql'],
    ['OPTIONS', '/graphql'],
    ['POST', '/graphql/../health'],
    ['POST', `/graphql/${'a'.repeat(rng.between(100, 6000))}`],
    ['POST', '/%00%ff/graphql'],
    ['GET', `/?${'x=1&'.repeat(rng.between(10, 1500))}`],
    ['POST', '/dev/token'],
  ]);
  const body = method === 'GET' || method === 'OPTIONS' ? '' : json(Q.product, { id: 'x' });
  return {
    transport: 'http',
    kind: 'wrongMethod',
    description: `${method} ${path.slice(0, 60)}${path.length > 60 ? `… (${path.length} chars)` : ''}`,
    method,
    path,
    headers: { 'content-type': 'application/json', 'x-api-key': ctx.apiKey },
    body,
    facts: { bytes: Buffer.byteLength(body), pathLength: path.length },
  };
}

export function hugeBody(rng: Rng, ctx: FuzzContext): HttpCase {
  const target = rng.between(Math.round(1.05 * ONE_MB), Math.round(1.6 * ONE_MB));
  const variant = rng.int(3);
  let body: string;
  let what: string;
  if (variant === 0) {
    what = 'padded variable';
    body = json(Q.product, { id: rng.pick(ctx.productIds), pad: 'x'.repeat(target) });
  } else if (variant === 1) {
    what = 'query padded with a comment';
    body = json(`# ${'y'.repeat(target)}\n${Q.product}`, { id: 'x' });
  } else {
    what = 'whitespace after the JSON';
    body = `${json(Q.product, { id: 'x' })}${' '.repeat(target)}`;
  }
  return post('hugeBody', `body over 1 MB (${(Buffer.byteLength(body) / ONE_MB).toFixed(2)} MB, ${what})`, body, {
    'x-api-key': ctx.apiKey,
  });
}

export function deepNesting(rng: Rng, ctx: FuzzContext): HttpCase {
  const depth = rng.pick([64, 200, 1000, 5000, 20_000, 60_000]);
  const variant = rng.int(4);
  let body: string;
  let what: string;
  if (variant === 0) {
    what = 'nested selection sets';
    body = json(`{ product(id: "x") { ${'reviews { items { '.repeat(Math.ceil(depth / 2))}id${' } }'.repeat(Math.ceil(depth / 2))} } }`);
  } else if (variant === 1) {
    what = 'nested list literal argument';
    body = json(`{ product(id: ${'['.repeat(depth)}"x"${']'.repeat(depth)}) { id } }`);
  } else if (variant === 2) {
    what = 'nested arrays in a variable';
    body = `{"query":${JSON.stringify(Q.product)},"variables":{"id":${'['.repeat(depth)}1${']'.repeat(depth)}}}`;
  } else {
    what = 'nested objects in an input variable';
    body = `{"query":${JSON.stringify(Q.place)},"variables":{"input":{"items":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)},"clientToken":"deep"}}}`;
  }
  const token = variant === 2 || variant === 3 ? ctx.customerTokens[0]! : undefined;
  return post('deepNesting', `${what}, depth ${depth}`, body, token ? { authorization: token } : { 'x-api-key': ctx.apiKey }, { depth });
}

/** 25 fragments, each spreading the next one twice: 2^25 paths if expanded naively. */
export function fragmentBomb(rng: Rng, ctx: FuzzContext): HttpCase {
  const fragments = 25;
  const onProduct = rng.chance(0.5);
  const type = onProduct ? 'Product' : 'Query';
  const leaf = onProduct ? 'id name' : `product(id: ${JSON.stringify(rng.pick(ctx.productIds))}) { id }`;
  const definitions = Array.from({ length: fragments }, (_, i) =>
    i < fragments - 1 ? `fragment F${i} on ${type} { ...F${i + 1} ...F${i + 1} }` : `fragment F${i} on ${type} { ${leaf} }`,
  );
  const operation = onProduct
    ? `query Bomb { product(id: ${JSON.stringify(rng.pick(ctx.productIds))}) { ...F0 } }`
    : 'query Bomb { ...F0 }';
  const query = [operation, ...definitions].join('\n');
  return post(
    'fragmentBomb',
    `fragment bomb on ${type}: ${fragments} fragments, each spreading the next twice`,
    json(query),
    { 'x-api-key': ctx.apiKey },
    {
      fragments,
      spreadsPerFragment: 2,
    },
  );
}

export function aliasFlood(rng: Rng, ctx: FuzzContext): HttpCase {
  const variant = rng.pick(['typename', 'typename', 'product', 'products'] as const);
  let aliases: number;
  let field: (i: number) => string;
  if (variant === 'typename') {
    aliases = rng.pick([1000, 10_000, 50_000]);
    field = (i) => `a${i}: __typename`;
  } else if (variant === 'product') {
    aliases = rng.pick([100, 500, 1000]);
    const id = JSON.stringify(rng.pick(ctx.productIds));
    field = (i) => `a${i}: product(id: ${id}) { id name }`;
  } else {
    aliases = rng.pick([50, 200]);
    field = (i) => `a${i}: products(category: "books", limit: 100) { items { id } }`;
  }
  const query = `{ ${Array.from({ length: aliases }, (_, i) => field(i)).join(' ')} }`;
  return post(
    'aliasFlood',
    `${aliases} aliases of ${variant === 'typename' ? '__typename' : `${variant}(…)`}`,
    json(query),
    { 'x-api-key': ctx.apiKey },
    { aliases },
  );
}

const NAME = fc.stringMatching(/^[_A-Za-z][_0-9A-Za-z]{0,24}$/);

export function unknownFields(rng: Rng, ctx: FuzzContext): HttpCase {
  const name = rng.sample(NAME);
  const id = JSON.stringify(rng.pick(ctx.productIds));
  const [what, query, operationName] = rng.pick<[string, string, string | undefined]>([
    ['unknown field', `{ product(id: ${id}) { id ${name}Zz } }`, undefined],
    ['unknown root field', `{ ${name}Zz { id } }`, undefined],
    ['unknown argument', `{ product(id: ${id}, ${name}Zz: 1) { id } }`, undefined],
    ['unknown type condition', `{ product(id: ${id}) { ... on ${name}Zz { id } } }`, undefined],
    ['unknown directive', `{ product(id: ${id}) @${name}Zz { id } }`, undefined],
    ['unknown operation name', `query A { product(id: ${id}) { id } } query B { __typename }`, `${name}Zz`],
    ['missing operation name', `query A { product(id: ${id}) { id } } query B { __typename }`, undefined],
    ['random GraphQL-ish text', rng.sample(fc.string({ minLength: 1, maxLength: 300 })), undefined],
    ['full introspection', '{ __schema { types { name fields { name args { name type { name kind ofType { name } } } } } } }', undefined],
    ['subscription over HTTP', SUBSCRIPTION, undefined],
  ]);
  return post('unknownFields', what, json(query, {}, operationName ? { operationName } : {}), { 'x-api-key': ctx.apiKey });
}

export function badVariables(rng: Rng, ctx: FuzzContext): HttpCase {
  const anything = (): unknown => rng.sample(fc.jsonValue({ maxDepth: 3 }));
  const variants: Array<() => [string, string, Record<string, string>]> = [
    () => ['product id of a random JSON type', json(Q.product, { id: anything() }), { 'x-api-key': ctx.apiKey }],
    () => ['missing required variable', json(Q.product, {}), { 'x-api-key': ctx.apiKey }],
    () => ['extra variables', json(Q.product, { id: 'x', [rng.sample(NAME)]: anything() }), { 'x-api-key': ctx.apiKey }],
    () => [
      'Int variable of 1e400',
      `{"query":${JSON.stringify(Q.products)},"variables":{"category":"books","limit":1e400}}`,
      { 'x-api-key': ctx.apiKey },
    ],
    () => [
      'Int variable out of 32-bit range',
      json(Q.products, { category: 'books', limit: rng.pick([2 ** 31, -(2 ** 53), 1e20, -0.5]) }),
      { 'x-api-key': ctx.apiKey },
    ],
    () => ['negative limit', json(Q.products, { category: 'books', limit: rng.pick([-1, 0, -(2 ** 31)]) }), { 'x-api-key': ctx.apiKey }],
    () => [
      'huge limit',
      json(Q.products, { category: 'books', limit: rng.pick([1000, 100_000, 2 ** 31 - 1]) }),
      { 'x-api-key': ctx.apiKey },
    ],
    () => [
      'delta as a string',
      json(Q.adjust, { id: rng.pick(ctx.productIds), delta: String(rng.between(-5, 5)) }),
      { authorization: ctx.adminToken },
    ],
    () => ['delta as a float', json(Q.adjust, { id: rng.pick(ctx.productIds), delta: 1.5 }), { authorization: ctx.adminToken }],
    () => ['placeOrder input of random JSON', json(Q.place, { input: anything() }), { authorization: rng.pick(ctx.customerTokens) }],
    () => [
      'invalid AWSEmail',
      json(Q.place, {
        input: {
          clientToken: 'bad-email',
          items: [{ productId: rng.pick(ctx.productIds), quantity: 1 }],
          contactEmail: rng.sample(fc.string({ maxLength: 40 })),
        },
      }),
      { authorization: rng.pick(ctx.customerTokens) },
    ],
    () => [
      'invalid enum',
      `{"query":"mutation { updateOrderStatus(id: \\"x\\", status: TELEPORTED) { id } }"}`,
      { authorization: ctx.adminToken },
    ],
    () => ['variables for an operation that declares none', json('{ __typename }', { a: anything() }), { 'x-api-key': ctx.apiKey }],
    () => ['variable declared with an unknown type', json('query ($x: Nope!) { __typename }', { x: 1 }), { 'x-api-key': ctx.apiKey }],
  ];
  const [what, body, headers] = rng.pick(variants)();
  return post('badVariables', what, body, headers);
}

function forgedJwt(rng: Rng, ctx: FuzzContext): [string, string] {
  const real = rng.pick(ctx.customerTokens);
  const [header, payload, signature] = real.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  return rng.pick<[string, string]>([
    [
      'JWT with claims edited (admin group), signature kept',
      `${header}.${b64url({ ...claims, 'cognito:groups': ['admin'] })}.${signature}`,
    ],
    ['JWT with alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...claims, sub: 'root' })}.`],
    [
      'JWT signed with HS256 over the public key id',
      `${b64url({ alg: 'HS256', kid: 'local-dev-key' })}.${payload}.${b64url('not a signature')}`,
    ],
    ['JWT of random segments', `${b64url(rng.sample(fc.string()))}.${b64url(rng.sample(fc.string()))}.${b64url(rng.sample(fc.string()))}`],
    ['JWT with an 8 KB payload', `${header}.${b64url({ ...claims, pad: 'p'.repeat(6000) })}.${signature}`],
    ['expired-looking JWT', `${header}.${b64url({ ...claims, exp: 1 })}.${signature}`],
  ]);
}

export function badAuth(rng: Rng, ctx: FuzzContext): HttpCase {
  const body = json(Q.product, { id: rng.pick(ctx.productIds) });
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const variants: Array<() => [string, Record<string, string>]> = [
    () => ['no credentials', {}],
    () => {
      const [what, token] = forgedJwt(rng, ctx);
      return [what, { authorization: token }];
    },
    () => [
      'SigV4 with a random signature',
      {
        authorization: `AWS4-HMAC-SHA256 Credential=${ctx.iamAccessKeyId}/${date.slice(0, 8)}/us-east-1/appsync/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0123456789abcdef'.repeat(4)}`,
        'x-amz-date': date,
      },
    ],
    () => [
      'SigV4 with a malformed credential scope',
      { authorization: `AWS4-HMAC-SHA256 Credential=${'/'.repeat(50)}, SignedHeaders=, Signature=zz`, 'x-amz-date': 'yesterday' },
    ],
    () => [
      'SigV4 header of 8 KB',
      {
        authorization: `AWS4-HMAC-SHA256 Credential=AKIA${'X'.repeat(8000)}/20250101/us-east-1/appsync/aws4_request, SignedHeaders=host, Signature=${'a'.repeat(64)}`,
      },
    ],
    () => [
      'API key of the wrong shape',
      { 'x-api-key': rng.pick(['', 'da2-', `da2-${'z'.repeat(26)}`, 'x'.repeat(4000), ctx.apiKey.toUpperCase()]) },
    ],
    () => [
      'partner-shaped token with a wrong secret',
      { authorization: `partner-local-partner.${rng.sample(fc.stringMatching(/^[A-Za-z0-9_-]{32,64}$/))}` },
    ],
    () => [
      'partner token of an unknown partner',
      { authorization: `Bearer partner-${rng.sample(fc.stringMatching(/^[a-z0-9]{1,20}$/))}.${'s'.repeat(40)}` },
    ],
    () => ['Authorization of random text', { authorization: rng.sample(fc.stringMatching(/^[\x21-\x7e]{1,200}$/)) }],
    () => ['valid API key plus a forged JWT', { 'x-api-key': ctx.apiKey, authorization: forgedJwt(rng, ctx)[1] }],
  ];
  const [what, headers] = rng.pick(variants)();
  return post('badAuth', what, body, headers);
}

export function oversizedIds(rng: Rng, ctx: FuzzContext): HttpCase {
  const length = rng.pick([1025, 2049, 4096, 100_000, 900_000]);
  const unit = rng.pick(['x', 'é', '😀', '\u0000', ' ']);
  const id = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
  const variants: Array<() => [string, string, Record<string, string>]> = [
    () => ['product(id)', json(Q.product, { id }), { 'x-api-key': ctx.apiKey }],
    () => ['product reviews(productId)', json(Q.productWithReviews, { id, limit: 5 }), { 'x-api-key': ctx.apiKey }],
    () => ['order(id)', json('query ($id: ID!) { order(id: $id) { id status } }', { id }), { authorization: rng.pick(ctx.customerTokens) }],
    () => ['adjustStock(id)', json(Q.adjust, { id, delta: 1 }), { authorization: ctx.adminToken }],
    () => ['cancelOrder(id)', json(Q.cancel, { id }), { authorization: rng.pick(ctx.customerTokens) }],
    () => [
      'placeOrder productId',
      json(Q.place, { input: { clientToken: `big-${rng.int(1e9)}`, items: [{ productId: id, quantity: 1 }] } }),
      { authorization: rng.pick(ctx.customerTokens) },
    ],
    () => [
      'placeOrder clientToken',
      json(Q.place, { input: { clientToken: id, items: [{ productId: rng.pick(ctx.productIds), quantity: 1 }] } }),
      { authorization: rng.pick(ctx.customerTokens) },
    ],
    () => ['products(category)', json(Q.products, { category: id, limit: 5 }), { 'x-api-key': ctx.apiKey }],
    () => ['empty id', json(Q.product, { id: '' }), { 'x-api-key': ctx.apiKey }],
  ];
  const [what, body, headers] = rng.pick(variants)();
  const codeUnits = what === 'empty id' ? 0 : id.length;
  return post('oversizedIds', `${what} of ${codeUnits} × ${JSON.stringify(unit)}`, body, headers, { idLength: codeUnits });
}

export function forgedNextTokens(rng: Rng, ctx: FuzzContext): HttpCase {
  const tokens: Array<() => [string, string]> = [
    () => ['another partition', b64url({ id: rng.pick(ctx.productIds), category: 'games', createdAt: '2026-01-01T00:00:00.000Z' })],
    () => ['random base64', Buffer.from(rng.sample(fc.uint8Array({ maxLength: 120 }))).toString('base64')],
    () => ['not base64 at all', rng.sample(fc.string({ minLength: 1, maxLength: 200 }))],
    () => ['a JSON array', b64url([1, 2, 3])],
    () => ['a JSON number', b64url(42)],
    () => ['wrong attribute types', b64url({ id: { S: 1 }, category: 'books', createdAt: 7 })],
    () => ['extra attributes', b64url({ id: 'x', category: 'books', createdAt: 'y', admin: true })],
    () => ['a 1,000-character key', b64url({ id: 'k'.repeat(1000), category: 'books', createdAt: 'c'.repeat(1000) })],
    () => ['half a megabyte', 'A'.repeat(500_000)],
    () => ['empty string', ''],
    () => ['key with a lone surrogate', b64url(`{"id":"\\ud800","category":"books","createdAt":"x"}`)],
  ];
  const [what, token] = rng.pick(tokens)();
  const target = rng.int(3);
  if (target === 0) {
    return post(
      'forgedNextTokens',
      `products nextToken: ${what}`,
      json(Q.products, { category: 'books', limit: 5, nextToken: token }),
      { 'x-api-key': ctx.apiKey },
      { tokenBytes: token.length },
    );
  }
  if (target === 1) {
    return post(
      'forgedNextTokens',
      `reviews nextToken: ${what}`,
      json(Q.productWithReviews, { id: rng.pick(ctx.productIds), limit: 5, nextToken: token }),
      { 'x-api-key': ctx.apiKey },
      { tokenBytes: token.length },
    );
  }
  // Someone else's orders: a token naming another customer's partition must be refused.
  const foreign = rng.chance(0.5)
    ? b64url({ id: 'o'.repeat(32), customerId: 'fuzz-customer-0', createdAt: '2026-01-01T00:00:00.000Z' })
    : token;
  return post(
    'forgedNextTokens',
    `myOrders nextToken: ${foreign === token ? what : "another customer's partition"}`,
    json(Q.myOrders, { limit: 5, nextToken: foreign }),
    { authorization: ctx.customerTokens[ctx.customerTokens.length - 1]! },
    {
      tokenBytes: foreign.length,
    },
  );
}

// --- Raw TCP --------------------------------------------------------------

function requestHead(ctx: FuzzContext, headers: Record<string, string | number>): string {
  const lines = ['POST /graphql HTTP/1.1', `Host: ${ctx.host}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export function contentLengthLie(rng: Rng, ctx: FuzzContext): RawCase {
  const body = json(Q.product, { id: rng.pick(ctx.productIds) });
  const base = { 'Content-Type': 'application/json', 'x-api-key': ctx.apiKey, Connection: 'keep-alive' };
  const variant = rng.int(4);
  if (variant === 0) {
    const declared = rng.between(5, body.length - 1);
    return {
      transport: 'raw',
      kind: 'contentLengthLie',
      description: `Content-Length ${declared} for a ${body.length}-byte body`,
      steps: [
        { write: requestHead(ctx, { ...base, 'Content-Length': declared }) + body },
        { readResponse: true },
        { readResponse: true },
        { destroy: true },
      ],
      facts: { declared, sent: body.length },
    };
  }
  if (variant === 1) {
    const declared = rng.pick([body.length + 100, 500_000, 5 * ONE_MB]);
    return {
      transport: 'raw',
      kind: 'contentLengthLie',
      description: `Content-Length ${declared} but only ${body.length} bytes, then silence and a close`,
      steps: [{ write: requestHead(ctx, { ...base, 'Content-Length': declared }) + body }, { waitMs: 1500 }, { destroy: true }],
      facts: { declared, sent: body.length },
    };
  }
  if (variant === 2) {
    const declared = rng.pick([2 ** 40, Number.MAX_SAFE_INTEGER]);
    return {
      transport: 'raw',
      kind: 'contentLengthLie',
      description: `Content-Length ${declared} (absurd), a few bytes sent`,
      steps: [{ write: requestHead(ctx, { ...base, 'Content-Length': declared }) + body }, { waitMs: 1000 }, { destroy: true }],
      facts: { declared, sent: body.length },
    };
  }
  return {
    transport: 'raw',
    kind: 'contentLengthLie',
    description: 'two different Content-Length headers',
    steps: [
      {
        write:
          requestHead(ctx, { ...base, 'Content-Length': body.length }).replace(
            '\r\n\r\n',
            `\r\nContent-Length: ${body.length + 7}\r\n\r\n`,
          ) + body,
      },
      { readResponse: true },
      { destroy: true },
    ],
    facts: { declared: body.length + 7, sent: body.length },
  };
}

/**
 * An early answer, then a second, ordinary request on the same connection:
 * the server must answer it or close, never read the rest of the first body
 * as a new request nor leave the client hanging. Early answers: 413 for a
 * whole 1.2-2 MB body (which a server may drain to keep the connection), 413
 * for a 5 MB declared body of which only 1.1 MB is sent (answered at once,
 * then closed), 400 for invalid JSON pipelined with the ordinary request.
 */
export function keepAliveReuse(rng: Rng, ctx: FuzzContext): RawCase {
  const ordinary = json(Q.product, { id: rng.pick(ctx.productIds) });
  const second =
    requestHead(ctx, {
      'Content-Type': 'application/json',
      'x-api-key': ctx.apiKey,
      'Content-Length': Buffer.byteLength(ordinary),
      Connection: 'keep-alive',
    }) + ordinary;
  const head = (declared: number): string =>
    requestHead(ctx, { 'Content-Type': 'application/json', 'x-api-key': ctx.apiKey, 'Content-Length': declared, Connection: 'keep-alive' });
  const variant = rng.int(3);
  if (variant === 0) {
    const declared = rng.pick([Math.round(1.2 * ONE_MB), 2 * ONE_MB]);
    const body = `{"query":"${'z'.repeat(declared - 12)}"}`;
    return {
      transport: 'raw',
      kind: 'keepAliveReuse',
      description: `whole ${(declared / ONE_MB).toFixed(1)} MB body (413), then an ordinary request on the same socket`,
      steps: [{ write: head(declared) + body }, { readResponse: true }, { write: second }, { readResponse: true }, { destroy: true }],
      facts: { declared, sent: Buffer.byteLength(body), secondRequest: true },
    };
  }
  if (variant === 1) {
    const declared = 5 * ONE_MB;
    const sent = Math.round(1.1 * ONE_MB);
    return {
      transport: 'raw',
      kind: 'keepAliveReuse',
      description: '5 MB body declared, 1.1 MB sent, early 413, then an ordinary request on the same socket',
      steps: [
        { write: `${head(declared)}{"query":"${'z'.repeat(sent)}` },
        { readResponse: true },
        { write: second },
        { readResponse: true },
        { destroy: true },
      ],
      facts: { declared, sent: sent + 10, secondRequest: true },
    };
  }
  const broken = '{"query": nope';
  return {
    transport: 'raw',
    kind: 'keepAliveReuse',
    description: 'pipelined: an invalid-JSON request and an ordinary one in one write',
    steps: [{ write: head(broken.length) + broken + second }, { readResponse: true }, { readResponse: true }, { destroy: true }],
    facts: { secondRequest: true },
  };
}

export function malformedHttp(rng: Rng, ctx: FuzzContext): RawCase {
  const body = json(Q.product, { id: 'x' });
  const [what, head] = rng.pick<[string, string]>([
    [
      'chunked body with a bad chunk size',
      `POST /graphql HTTP/1.1\r\nHost: ${ctx.host}\r\nx-api-key: ${ctx.apiKey}\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n${body}\r\n0\r\n\r\n`,
    ],
    [
      'Content-Length and Transfer-Encoding together',
      `POST /graphql HTTP/1.1\r\nHost: ${ctx.host}\r\nx-api-key: ${ctx.apiKey}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ],
    [
      '32 KB of headers',
      `POST /graphql HTTP/1.1\r\nHost: ${ctx.host}\r\n${Array.from({ length: 400 }, (_, i) => `x-h${i}: ${'v'.repeat(80)}`).join('\r\n')}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    ],
    ['garbage request line', `${rng.sample(fc.stringMatching(/^[\x21-\x7e]{1,100}$/))}\r\n\r\n`],
    ['HTTP/0.9 request', 'GET /graphql\r\n'],
    [
      'header without a colon',
      `POST /graphql HTTP/1.1\r\nHost: ${ctx.host}\r\nthis is not a header\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    ],
    [
      'chunk size overflow',
      `POST /graphql HTTP/1.1\r\nHost: ${ctx.host}\r\nx-api-key: ${ctx.apiKey}\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n`,
    ],
  ]);
  return {
    transport: 'raw',
    kind: 'malformedHttp',
    description: what,
    steps: [{ write: head }, { readResponse: true }, { destroy: true }],
    facts: { bytes: head.length },
  };
}

// --- WebSocket --------------------------------------------------------------

/** AppSync's handshake: auth headers as base64 JSON in `header`, and `payload=e30=`. */
export function realtimePath(headers: Record<string, string>): string {
  return `/graphql/realtime?header=${encodeURIComponent(Buffer.from(JSON.stringify(headers)).toString('base64'))}&payload=e30=`;
}

function startMessage(ctx: FuzzContext, id: string, query = SUBSCRIPTION, variables: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id,
    type: 'start',
    payload: { data: JSON.stringify({ query, variables }), extensions: { authorization: { host: ctx.host, 'x-api-key': ctx.apiKey } } },
  });
}

function ws(
  kind: WsKind,
  description: string,
  ctx: FuzzContext,
  steps: WsStep[],
  extra: Partial<Pick<WsCase, 'path' | 'protocols' | 'connections'>> & { facts?: Facts } = {},
): WsCase {
  return {
    transport: 'ws',
    kind,
    description,
    path: extra.path ?? realtimePath({ host: ctx.host, 'x-api-key': ctx.apiKey }),
    protocols: extra.protocols ?? ['graphql-ws'],
    connections: extra.connections ?? 1,
    steps,
    facts: extra.facts ?? {},
  };
}

const INIT = JSON.stringify({ type: 'connection_init' });

export function wsBadSubprotocol(rng: Rng, ctx: FuzzContext): WsCase {
  const protocols = rng.pick<string[]>([
    [],
    ['graphql-transport-ws'],
    ['x'.repeat(rng.between(10, 2000))],
    ['GRAPHQL-WS'],
    ['graphql-ws2', 'mqtt'],
  ]);
  return ws(
    'wsBadSubprotocol',
    `subprotocols ${JSON.stringify(protocols).slice(0, 60)}`,
    ctx,
    [{ send: INIT }, { waitMs: 50 }, { close: 1000 }],
    { protocols },
  );
}

export function wsBadHandshake(rng: Rng, ctx: FuzzContext): WsCase {
  const [what, path, protocols] = rng.pick<[string, string, string[]]>([
    ['header parameter not base64 JSON', '/graphql/realtime?header=%%%not-base64&payload=e30=', ['graphql-ws']],
    ['header parameter a JSON array', `/graphql/realtime?header=${Buffer.from('[1,2]').toString('base64')}&payload=e30=`, ['graphql-ws']],
    ['forged JWT in the header parameter', realtimePath({ host: ctx.host, Authorization: forgedJwt(rng, ctx)[1] }), ['graphql-ws']],
    ['header- subprotocol of garbage', '/graphql/realtime', ['graphql-ws', `header-${'!'.repeat(50)}`]],
    ['no credentials', '/graphql/realtime?payload=e30=', ['graphql-ws']],
    ['100 KB header parameter', `/graphql/realtime?header=${'A'.repeat(100_000)}`, ['graphql-ws']],
    ['unknown path', '/nope/realtimeX', ['graphql-ws']],
  ]);
  return ws(
    'wsBadHandshake',
    what,
    ctx,
    [{ send: INIT }, { waitMs: 100 }, { send: startMessage(ctx, 's1') }, { waitMs: 100 }, { close: 1000 }],
    { path, protocols },
  );
}

export function wsGarbageFrames(rng: Rng, ctx: FuzzContext): WsCase {
  const frames: WsStep[] = [{ send: INIT }];
  const count = rng.between(3, 30);
  for (let i = 0; i < count; i++) {
    frames.push(
      rng.pick<WsStep>([
        { send: rng.sample(fc.string({ maxLength: 200 })) },
        { send: JSON.stringify(rng.sample(fc.jsonValue({ maxDepth: 3 })) ?? null) },
        { send: JSON.stringify({ type: rng.sample(NAME), id: 'x' }) },
        { send: JSON.stringify({ type: 'start' }) },
        { send: JSON.stringify({ type: 'start', id: `g${i}`, payload: { data: { query: 'not a string' } } }) },
        { send: JSON.stringify({ type: 'start', id: `g${i}`, payload: { data: '{"query": 1' } }) },
        { send: JSON.stringify({ type: 'stop', id: 'never-started' }) },
        { sendBinary: Buffer.from(rng.sample(fc.uint8Array({ minLength: 1, maxLength: 500 }))).toString('base64') },
        { send: startMessage(ctx, `g${i}`, `subscription { onProductUpdated { id ${rng.sample(NAME)}Zz } }`) },
        { send: startMessage(ctx, `g${i}`, 'query { __typename }') },
      ]),
    );
  }
  frames.push({ waitMs: 100 }, { close: 1000 });
  return ws('wsGarbageFrames', `${count} garbage frames after connection_init`, ctx, frames, { facts: { frames: count } });
}

export function wsStartBeforeInit(rng: Rng, ctx: FuzzContext): WsCase {
  const id = rng.pick(ctx.productIds);
  return ws('wsStartBeforeInit', 'start (and stop) before connection_init', ctx, [
    { send: startMessage(ctx, 'early', SUBSCRIPTION, { id }) },
    { send: JSON.stringify({ type: 'stop', id: 'early' }) },
    { send: INIT },
    { send: startMessage(ctx, 'early', SUBSCRIPTION, { id }) },
    { waitMs: 100 },
    { close: 1000 },
  ]);
}

export function wsHugePayload(rng: Rng, ctx: FuzzContext): WsCase {
  const variant = rng.int(3);
  if (variant === 0) {
    const bytes = rng.pick([300_000, ONE_MB, 4 * ONE_MB]);
    return ws(
      'wsHugePayload',
      `one ${(bytes / 1024).toFixed(0)} KB text frame`,
      ctx,
      [{ send: INIT }, { send: 'x'.repeat(bytes) }, { waitMs: 200 }, { close: 1000 }],
      { facts: { bytes } },
    );
  }
  // Just under the 256 KB message limit, a different document each time: what the subscription document cache keeps.
  const padding = 240_000;
  const query = `# ${rng.int(1e9)} ${'p'.repeat(padding)}\n${SUBSCRIPTION}`;
  const message = startMessage(ctx, 'big', query, { id: rng.pick(ctx.productIds) });
  return ws(
    'wsHugePayload',
    `start with a ${(Buffer.byteLength(message) / 1024).toFixed(0)} KB unique document`,
    ctx,
    [{ send: INIT }, { send: message }, { waitMs: 200 }, { close: 1000 }],
    {
      facts: { bytes: Buffer.byteLength(message) },
    },
  );
}

export function wsManyStarts(rng: Rng, ctx: FuzzContext): WsCase {
  const count = rng.pick([500, 2000, 5000]);
  const customer = rng.int(ctx.customerTokens.length);
  const useResolver = rng.chance(0.3);
  // onOrderStatusChanged has a subscription resolver (a Lambda invocation per start); onProductUpdated does not.
  const template = useResolver
    ? JSON.stringify({
        id: 'm{i}',
        type: 'start',
        payload: {
          data: JSON.stringify({
            query: 'subscription ($c: ID!) { onOrderStatusChanged(customerId: $c) { id status } }',
            variables: { c: `fuzz-customer-${customer}` },
          }),
          extensions: { authorization: { host: ctx.host, Authorization: ctx.customerTokens[customer]! } },
        },
      })
    : startMessage(ctx, 'm{i}');
  return ws(
    'wsManyStarts',
    `${count} starts on one connection (${useResolver ? 'onOrderStatusChanged, resolver' : 'onProductUpdated'})`,
    ctx,
    [{ send: INIT }, { sendMany: { template, count } }, { waitMs: 300 }, { terminate: true }],
    {
      facts: { starts: count },
    },
  );
}

export function wsAbruptClose(rng: Rng, ctx: FuzzContext): WsCase {
  const [what, steps] = rng.pick<[string, WsStep[]]>([
    ['terminate right after connection_init', [{ send: INIT }, { terminate: true }]],
    ['terminate with a subscription open', [{ send: INIT }, { send: startMessage(ctx, 'a') }, { waitMs: 20 }, { terminate: true }]],
    [
      'half a frame, then a reset',
      [{ send: INIT }, { rawWrite: Buffer.from([0x81, 0xfe, 0x40, 0x00, 1, 2, 3, 4, 65, 66]).toString('base64') }, { terminate: true }],
    ],
    [
      'invalid close code',
      [
        { send: INIT },
        { rawWrite: Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe7]).toString('base64') },
        { waitMs: 50 },
        { terminate: true },
      ],
    ],
    [
      'unmasked client frame',
      [{ rawWrite: Buffer.from([0x81, 0x05, 104, 101, 108, 108, 111]).toString('base64') }, { waitMs: 50 }, { terminate: true }],
    ],
    ['close without init', [{ close: 4000 }]],
  ]);
  return ws('wsAbruptClose', what, ctx, steps);
}

export function wsConnectionFlood(rng: Rng, ctx: FuzzContext): WsCase {
  const connections = rng.pick([100, 300]);
  return ws(
    'wsConnectionFlood',
    `${connections} connections at once, half-open then dropped`,
    ctx,
    [{ send: INIT }, { waitMs: 200 }, { terminate: true }],
    { connections, facts: { connections } },
  );
}

export const GENERATORS: { readonly [K in HostileKind]: (rng: Rng, ctx: FuzzContext) => FuzzCase } = {
  invalidJson,
  wrongShape,
  wrongContentType,
  wrongMethod,
  hugeBody,
  deepNesting,
  fragmentBomb,
  aliasFlood,
  unknownFields,
  badVariables,
  badAuth,
  oversizedIds,
  forgedNextTokens,
  contentLengthLie,
  keepAliveReuse,
  malformedHttp,
  wsBadSubprotocol,
  wsBadHandshake,
  wsGarbageFrames,
  wsStartBeforeInit,
  wsHugePayload,
  wsManyStarts,
  wsAbruptClose,
  wsConnectionFlood,
};

/** The next hostile case: a kind by weight (among `only`, when given), then that kind's generator. */
export function hostileCase(rng: Rng, ctx: FuzzContext, only?: readonly HostileKind[]): FuzzCase {
  const weights =
    only && only.length > 0
      ? (Object.fromEntries(only.map((kind) => [kind, HOSTILE_WEIGHTS[kind]])) as Record<HostileKind, number>)
      : HOSTILE_WEIGHTS;
  const kind = weightedPick(rng, weights);
  return GENERATORS[kind](rng.fork(), ctx);
}

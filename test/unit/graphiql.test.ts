import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildSchema, graphql, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AuthError, AuthHeaders, editorHeaders, parseGroups, type AuthState } from '../../local/appsync/graphiql-page/auth.js';
import { CONFIG_ELEMENT_ID, type PageConfig } from '../../local/appsync/graphiql-page/config.js';
import { createFetcher, isSubscription } from '../../local/appsync/graphiql-page/fetcher.js';
import {
  appSyncSubscription,
  type ExecutionResultLike,
  type Timers,
  type WebSocketLike,
} from '../../local/appsync/graphiql-page/realtime.js';
import {
  createGraphiQLRoutes,
  DEFAULT_QUERY,
  PAGE_SCRIPT,
  type GraphiQLRequest,
  type GraphiQLResponse,
} from '../../local/appsync/graphiql.js';
import { foreignRequestReason, pageTrust } from '../../local/dev-request-guard.js';
import { verifySigV4, type IamPrincipal } from '../../local/identity/sigv4.js';

const CHROMIUM = '/usr/bin/chromium';

function page(options: Parameters<typeof createGraphiQLRoutes>[0], request?: GraphiQLRequest): string {
  const response = createGraphiQLRoutes(options)('/', request);
  expect(response?.status).toBe(200);
  expect(response?.contentType).toBe('text/html; charset=utf-8');
  return String(response?.body);
}

function attributeValues(html: string, tag: string, attribute: string): string[] {
  const values: string[] = [];
  for (const element of html.matchAll(new RegExp(`<${tag}\\b[^>]*>`, 'gi'))) {
    const match = new RegExp(`\\b${attribute}\\s*=\\s*"([^"]*)"`, 'i').exec(element[0]);
    if (match?.[1] !== undefined) values.push(match[1]);
  }
  return values;
}

function referencedAssets(html: string): { scripts: string[]; stylesheets: string[] } {
  const stylesheets = [...html.matchAll(/<link\b[^>]*>/gi)]
    .filter((link) => /\brel="stylesheet"/i.test(link[0]))
    .map((link) => attributeValues(link[0], 'link', 'href')[0] ?? '');
  return { scripts: attributeValues(html, 'script', 'src'), stylesheets };
}

/** The config the page's script reads from its JSON block, as the browser would see it. */
function inlineConfig(html: string): PageConfig {
  const match = new RegExp(`<script id="${CONFIG_ELEMENT_ID}" type="application/json">(.*?)</script>`, 's').exec(html);
  expect(match?.[1]).toBeDefined();
  // The escapes used (\u003c etc.) are valid JSON, so JSON.parse reads it like the page's script does.
  return JSON.parse(match?.[1] ?? 'null') as PageConfig;
}

function expectAsset(response: GraphiQLResponse | undefined, kind: 'js' | 'css'): Buffer {
  expect(response?.status).toBe(200);
  expect(response?.contentType).toMatch(kind === 'js' ? /^text\/javascript\b/ : /^text\/css\b/);
  expect(Buffer.isBuffer(response?.body)).toBe(true);
  const body = response?.body as Buffer;
  expect(body.byteLength).toBeGreaterThan(1000);
  return body;
}

describe('createGraphiQLRoutes', () => {
  it('references only same-origin assets, each served with a JS/CSS body', () => {
    const routes = createGraphiQLRoutes({ endpoint: '/graphql' });
    const html = page({ endpoint: '/graphql' });
    const { scripts, stylesheets } = referencedAssets(html);

    expect(scripts.length).toBeGreaterThanOrEqual(3);
    expect(stylesheets.length).toBeGreaterThanOrEqual(1);
    for (const url of [...scripts, ...stylesheets]) {
      expect(url).toMatch(/^\/[^/]/);
      expect(url).not.toMatch(/^(https?:)?\/\//i);
    }
    // Nothing else in the page (inline code, meta tags) may point off-origin either,
    // and the other links (the icon) are inline data, so the browser fetches nothing for them.
    expect(html).not.toMatch(/https?:\/\//i);
    for (const href of attributeValues(html, 'link', 'href').filter((href) => !stylesheets.includes(href))) expect(href).toMatch(/^data:/);

    for (const src of scripts) expectAsset(routes(src), 'js');
    for (const href of stylesheets) {
      const css = expectAsset(routes(href), 'css').toString('utf8');
      // Fonts and icons must be inlined; a remote url() or @import would need the internet.
      expect(css).not.toMatch(/@import/i);
      for (const url of css.matchAll(/url\(\s*['"]?([^'")]*)/gi)) expect(url[1]).toMatch(/^(data:|#)/);
    }
  });

  it('loads every global the GraphiQL UMD bundle needs before the bundle', () => {
    const routes = createGraphiQLRoutes({ endpoint: '/graphql' });
    const { scripts } = referencedAssets(page({ endpoint: '/graphql' }));
    const graphiqlIndex = scripts.findIndex((src) => /graphiql[^/]*\.js$/.test(src));
    expect(graphiqlIndex).toBeGreaterThanOrEqual(0);
    const bundle = expectAsset(routes(scripts[graphiqlIndex] ?? ''), 'js').toString('utf8');

    // The UMD wrapper's AMD branch lists exactly the externals it reads from globals.
    const amd = /define\.amd\?define\(\[([^\]]*)\]/.exec(bundle.slice(0, 2000));
    expect(amd?.[1]).toBeDefined();
    const externals = [...(amd?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    const loadedBefore = scripts.slice(0, graphiqlIndex).join(' ');
    for (const external of externals) {
      expect(loadedBefore).toContain(`/${external}.production.min.js`);
    }
    expect(bundle).toContain('createFetcher');
  });

  it('serves the source map the bundle names, so devtools do not 404', () => {
    const routes = createGraphiQLRoutes({ endpoint: '/graphql' });
    const bundle = String(routes('/graphiql/graphiql.min.js')?.body);
    const mapName = /sourceMappingURL=(\S+)\s*$/.exec(bundle)?.[1];
    expect(mapName).toBeDefined();
    const map = routes(`/graphiql/${mapName}`);
    expect(map?.status).toBe(200);
    expect(() => JSON.parse(String(map?.body))).not.toThrow();
  });

  it('caches asset bodies after the first read', () => {
    const routes = createGraphiQLRoutes({ endpoint: '/graphql' });
    const first = routes('/graphiql/graphiql.min.css')?.body;
    expect(routes('/graphiql/graphiql.min.css')?.body).toBe(first);
    // Another instance shares the cache: the files cannot change under a running process.
    expect(createGraphiQLRoutes({ endpoint: '/x' })('/graphiql/graphiql.min.css')?.body).toBe(first);
  });

  it('pre-fills the API key, and uses the endpoint, its real-time path and the default query', () => {
    const html = page({ endpoint: '/graphql', defaultApiKey: 'da2-localkey', defaultQuery: 'query { me { id } }' });
    const config = inlineConfig(html);
    expect(config).toMatchObject({
      endpoint: '/graphql',
      realtimePath: '/graphql/realtime',
      tokenPath: '/dev/token',
      apiKey: 'da2-localkey',
    });
    expect(config.defaultQuery).toBe('query { me { id } }');
    expect(html).toContain('da2-localkey');
    // The config is data (a JSON block), not code: no inline script needs 'unsafe-inline'.
    expect(html).not.toMatch(/<script>/);
    const { scripts } = referencedAssets(html);
    expect(scripts.at(-1)).toBe(PAGE_SCRIPT);
  });

  it('defaults to a query that runs against the seeded catalog, with no API key unless given', () => {
    const config = inlineConfig(page({ endpoint: '/graphql' }));
    expect(config.apiKey).toBeUndefined();
    expect(config.credentials).toBeUndefined();
    expect(config.defaultQuery).toBe(DEFAULT_QUERY);
    expect(DEFAULT_QUERY).toContain('products(category: "books", limit: 5)');
    const schema = buildSchema(`
      type Query { products(category: String!, limit: Int, nextToken: String): ProductConnection! }
      type ProductConnection { items: [Product!]! nextToken: String }
      type Product { id: ID! name: String! priceCents: Int! currency: String! stock: Int }
    `);
    // One operation (the rest is comments), valid against the catalog's shape.
    const document = parse(DEFAULT_QUERY);
    expect(document.definitions).toHaveLength(1);
    return graphql({ schema, source: DEFAULT_QUERY, rootValue: { products: { items: [], nextToken: null } } }).then((result) =>
      expect(result.errors).toBeUndefined(),
    );
  });

  it('escapes interpolated values so they cannot close the script element', () => {
    const key = 'k</script><script>alert(1)</script><!--';
    const query = '# </SCRIPT> & \u2028 "quoted"\nquery { a }';
    const html = page(
      { endpoint: '/graphql"></script>', defaultApiKey: key, defaultQuery: query, devSecret: '</script><script>alert(2)</script>' },
      trusted(),
    );

    expect(html).not.toContain('<script>alert(');
    expect(html).not.toContain('<!--');
    const scriptTags = html.match(/<script\b/gi)?.length ?? 0;
    expect(html.match(/<\/script>/gi)?.length).toBe(scriptTags);

    const config = inlineConfig(html);
    expect(config.endpoint).toBe('/graphql"></script>');
    expect(config.defaultQuery).toBe(query);
    expect(config.apiKey).toBe(key);
    expect(config.credentials?.devSecret).toBe('</script><script>alert(2)</script>');
  });

  it('returns undefined for paths it does not own', () => {
    const routes = createGraphiQLRoutes({ endpoint: '/graphql' });
    for (const path of [
      '/graphql',
      '/index.html',
      '/graphiql',
      '/graphiql/',
      '/graphiql/graphiql.js',
      '/graphiql/../package.json',
      '/graphiql/constructor',
      '/graphiql/page.ts',
      '/graphiql/main.ts',
      '/__proto__',
      '/toString',
      '',
    ]) {
      expect(routes(path), path).toBeUndefined();
    }
  });

  // Debian's chromium is not part of the default toolchain; when present, this
  // proves the page boots offline and sends the key to the endpoint.
  it.skipIf(!existsSync(CHROMIUM))(
    'renders in headless Chromium and introspects with the API key',
    async () => {
      const routes = createGraphiQLRoutes({ endpoint: '/graphql', defaultApiKey: 'da2-browser' });
      const schema = buildSchema('type Query { hello: String }');
      const graphqlHeaders: IncomingHttpHeaders[] = [];
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        if (req.method === 'POST' && url.pathname === '/graphql') {
          graphqlHeaders.push(req.headers);
          let text = '';
          req.setEncoding('utf8');
          req.on('data', (chunk: string) => (text += chunk));
          req.on('end', () => {
            const { query, variables } = JSON.parse(text) as { query: string; variables?: Record<string, unknown> };
            void graphql({ schema, source: query, variableValues: variables ?? null }).then((result) => {
              res.writeHead(200, { 'content-type': 'application/json' });
              res.end(JSON.stringify(result));
            });
          });
          return;
        }
        const response = routes(url.pathname);
        res.writeHead(response?.status ?? 404, { 'content-type': response?.contentType ?? 'text/plain' });
        res.end(response?.body ?? 'not found');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const profile = mkdtempSync(join(tmpdir(), 'graphiql-chromium-'));
      try {
        const { port } = server.address() as AddressInfo;
        const { stdout } = await promisify(execFile)(
          CHROMIUM,
          [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            `--user-data-dir=${profile}`,
            '--virtual-time-budget=10000',
            '--dump-dom',
            `http://127.0.0.1:${port}/`,
          ],
          { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
        );
        expect(stdout).toContain('graphiql-container');
        expect(graphqlHeaders.some((headers) => headers['x-api-key'] === 'da2-browser')).toBe(true);
      } finally {
        rmSync(profile, { recursive: true, force: true });
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
    90_000,
  );
});

// ---------------------------------------------------------------------------
// Who gets which credentials (local/dev-request-guard.ts + pageConfig)
// ---------------------------------------------------------------------------

const PORT = 4000;

function request(headers: Record<string, string>, localPort = PORT): GraphiQLRequest {
  return { headers, socket: { localPort } };
}

/** A top-level visit the developer made (typed URL): what Chromium sends. */
function trusted(extra: Record<string, string> = {}): GraphiQLRequest {
  return request({
    host: `127.0.0.1:${PORT}`,
    'sec-fetch-site': 'none',
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
    ...extra,
  });
}

const SECRETS = {
  devSecret: 'dev-secret-value-0123456789',
  iamPrincipal: { accessKeyId: 'AKIALOCALTEST', secretAccessKey: 'iam-secret-value-0123456789' },
  partnerToken: 'partner-local-partner.partner-secret-value-0123456789',
} as const;
const FULL = { endpoint: '/graphql', defaultApiKey: 'da2-thekey', ...SECRETS };

function expectNoSecrets(html: string): void {
  for (const secret of [SECRETS.devSecret, SECRETS.iamPrincipal.secretAccessKey, SECRETS.partnerToken]) expect(html).not.toContain(secret);
}

describe("GraphiQL credentials: only for the developer's own visit", () => {
  it('gives a top-level or same-origin visit on a loopback host every credential', () => {
    for (const req of [
      trusted(),
      trusted({ 'sec-fetch-site': 'same-origin' }),
      trusted({ host: `localhost:${PORT}` }),
      trusted({ host: `[::1]:${PORT}` }),
      trusted({ 'sec-fetch-site': 'same-origin', origin: `http://127.0.0.1:${PORT}` }),
    ]) {
      const config = inlineConfig(page(FULL, req));
      expect(config.apiKey).toBe('da2-thekey');
      expect(config.credentials).toEqual({
        devSecret: SECRETS.devSecret,
        iam: { ...SECRETS.iamPrincipal, region: 'us-east-1' },
        partnerToken: SECRETS.partnerToken,
      });
      expect(config.credentialsWithheld).toBeUndefined();
    }
    expect(inlineConfig(page({ ...FULL, region: 'eu-west-1' }, trusted())).credentials?.iam?.region).toBe('eu-west-1');
  });

  it('keeps them from a visit another site started, and from clients without Fetch Metadata (API key only)', () => {
    for (const [req, why] of [
      [trusted({ 'sec-fetch-site': 'cross-site' }), /Sec-Fetch-Site: cross-site/],
      [trusted({ 'sec-fetch-site': 'same-site' }), /Sec-Fetch-Site: same-site/],
      [request({ host: `127.0.0.1:${PORT}` }), /no Sec-Fetch-Site/],
      [undefined, /without looking at the request/],
    ] as const) {
      const html = page(FULL, req);
      expectNoSecrets(html);
      const config = inlineConfig(html);
      expect(config.apiKey).toBe('da2-thekey');
      expect(config.credentials).toBeUndefined();
      expect(config.credentialsWithheld).toMatch(why);
    }
  });

  it('gives nothing, not even the API key, to DNS rebinding or another origin', () => {
    for (const [req, why] of [
      [trusted({ host: `evil.example:${PORT}` }), /Host: evil\.example/],
      [trusted({ host: `127.0.0.1.nip.io:${PORT}` }), /Host/],
      [trusted({ host: `127.0.0.1:${PORT + 1}` }), /Host/],
      [trusted({ host: `127.0.0.1:${PORT}@evil.example` }), /Host/],
      [request({ 'sec-fetch-site': 'none' }), /Host: \(none\)/],
      [trusted({ 'sec-fetch-site': 'same-origin', origin: 'http://evil.example' }), /Origin: http:\/\/evil\.example/],
      [trusted({ 'sec-fetch-site': 'same-origin', origin: 'null' }), /Origin: null/],
    ] as const) {
      const html = page(FULL, req);
      expectNoSecrets(html);
      expect(html).not.toContain('da2-thekey');
      const config = inlineConfig(html);
      expect(config.apiKey).toBeUndefined();
      expect(config.credentialsWithheld).toMatch(why);
    }
  });

  it('says nothing is withheld when the stack has no credentials to give', () => {
    const config = inlineConfig(
      page({ endpoint: '/graphql', defaultApiKey: 'da2-k' }, request({ host: `127.0.0.1:${PORT}`, 'sec-fetch-site': 'cross-site' })),
    );
    expect(config).not.toHaveProperty('credentials');
    expect(config).not.toHaveProperty('credentialsWithheld');
  });

  it('serves the page never cached, never framed, scripts and connections only from its own origin, and no CORS anywhere', () => {
    const routes = createGraphiQLRoutes(FULL);
    const answer = routes('/', trusted())!;
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['x-frame-options']).toBe('DENY');
    expect(answer.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(answer.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(answer.headers['referrer-policy']).toBe('no-referrer');
    const csp = Object.fromEntries(
      answer.headers['content-security-policy']!.split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(csp['frame-ancestors']).toEqual(["'none'"]);
    expect(csp['script-src']).toEqual(["'self'"]);
    expect(csp['connect-src']).toEqual(["'self'"]);
    expect(csp['default-src']).toEqual(["'none'"]);
    const { scripts, stylesheets } = referencedAssets(String(answer.body));
    const paths = ['/', ...scripts, ...stylesheets, '/graphiql/page.js.map', '/graphiql/index.umd.js.map'];
    for (const path of paths) {
      const response = routes(path, trusted())!;
      expect(response.status, path).toBe(200);
      expect(
        Object.keys(response.headers).filter((name) => name.startsWith('access-control-')),
        path,
      ).toEqual([]);
      expect(response.headers['x-content-type-options'], path).toBe('nosniff');
      expect(response.headers['cross-origin-resource-policy'], path).toBe('same-origin');
    }
  });

  it('classifies requests as dev-routes did for /dev/token (foreignRequestReason)', () => {
    expect(foreignRequestReason(request({}))).toBeUndefined(); // curl without Host (HTTP/1.0)
    expect(foreignRequestReason(request({ host: `127.0.0.1:${PORT}` }))).toBeUndefined();
    expect(
      foreignRequestReason(request({ host: `localhost:${PORT}`, origin: `http://localhost:${PORT}`, 'sec-fetch-site': 'same-origin' })),
    ).toBeUndefined();
    expect(foreignRequestReason(request({ host: `127.0.0.1:${PORT}`, origin: 'https://evil.example' }))).toBe(
      'Origin: https://evil.example',
    );
    expect(foreignRequestReason(request({ host: `127.0.0.1:${PORT}`, origin: `http://127.0.0.1:${PORT + 1}` }))).toMatch(/^Origin/);
    expect(foreignRequestReason(request({ host: `127.0.0.1:${PORT}`, 'sec-fetch-site': 'cross-site' }))).toBe('Sec-Fetch-Site: cross-site');
    expect(foreignRequestReason(request({ host: `127.0.0.1:${PORT}`, 'sec-fetch-site': 'same-site' }))).toBe('Sec-Fetch-Site: same-site');
    expect(foreignRequestReason(request({ host: `rebound.example:${PORT}` }))).toBe(`Host: rebound.example:${PORT}`);
    expect(pageTrust(request({ host: `127.0.0.1:${PORT}`, 'sec-fetch-site': ['none'] as unknown as string }))).toEqual({
      level: 'trusted',
    });
  });
});

// ---------------------------------------------------------------------------
// The page's code, run in Node: auth headers, SigV4, the real-time client
// ---------------------------------------------------------------------------

const ORIGIN = `http://127.0.0.1:${PORT}`;
const PRINCIPAL: IamPrincipal = {
  accessKeyId: 'AKIALOCALTEST',
  secretAccessKey: 'iam-secret-value-0123456789',
  accountId: '000000000000',
  userArn: 'arn:aws:iam::000000000000:user/local-backend',
};
const PRINCIPALS = new Map([[PRINCIPAL.accessKeyId, PRINCIPAL]]);

function authState(patch: Partial<AuthState> = {}): AuthState {
  return {
    mode: 'apiKey',
    apiKey: 'da2-thekey',
    username: 'alice',
    groups: 'admin, ops',
    userPoolToken: '',
    iam: { accessKeyId: PRINCIPAL.accessKeyId, secretAccessKey: PRINCIPAL.secretAccessKey, region: 'us-east-1' },
    partnerToken: 'partner-p1.secret',
    ...patch,
  };
}

function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.sig`;
}

interface TokenCall {
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

function tokenEndpoint(now: () => number, answer?: (call: TokenCall) => { status: number; body: unknown }) {
  const calls: TokenCall[] = [];
  const fetchToken = (async (url: string | URL | Request, init?: RequestInit) => {
    const call = { url: String(url), headers: init?.headers as Record<string, string>, body: JSON.parse(String(init?.body)) as unknown };
    calls.push(call);
    const { username, groups } = call.body as { username: string; groups: string[] };
    const reply = answer?.(call) ?? {
      status: 200,
      body: { token: fakeJwt({ 'cognito:username': username, 'cognito:groups': groups, exp: Math.floor(now() / 1000) + 3600 }) },
    };
    return new Response(JSON.stringify(reply.body), { status: reply.status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { calls, fetch: fetchToken };
}

function authHeaders(options: { devSecret?: string; fetch?: typeof fetch; now?: () => number } = {}): AuthHeaders {
  return new AuthHeaders({
    origin: ORIGIN,
    endpoint: '/graphql',
    tokenPath: '/dev/token',
    devSecret: options.devSecret,
    fetch: options.fetch ?? ((() => Promise.reject(new Error('no fetch expected'))) as typeof fetch),
    ...(options.now ? { now: options.now } : {}),
  });
}

describe('GraphiQL page: auth headers per mode', () => {
  it('API key, partner token and the headers-editor-only mode', async () => {
    const auth = authHeaders();
    const extra = { 'x-api-key': 'from-editor', Authorization: 'from-editor', 'x-trace': 'abc', count: 3 };
    expect(await auth.forHttp(authState(), '{}', extra)).toEqual({
      'content-type': 'application/json',
      'x-trace': 'abc',
      count: '3',
      'x-api-key': 'da2-thekey',
    });
    expect(await auth.forHttp(authState({ mode: 'lambda' }), '{}', extra)).toEqual({
      'content-type': 'application/json',
      'x-trace': 'abc',
      count: '3',
      authorization: 'partner-p1.secret',
    });
    // Only here do the editor's own auth headers go out.
    expect(await auth.forHttp(authState({ mode: 'headers' }), '{}', extra)).toEqual({
      'content-type': 'application/json',
      ...extra,
      count: '3',
    });

    const connect = await auth.forRealtime(authState(), 'connect', '{}', undefined);
    expect(connect).toEqual({
      host: `127.0.0.1:${PORT}`,
      'x-amz-date': expect.stringMatching(/^\d{8}T\d{6}Z$/),
      'x-api-key': 'da2-thekey',
    });
    expect(await auth.forRealtime(authState({ mode: 'lambda' }), 'start', '{}', undefined)).toEqual({
      Authorization: 'partner-p1.secret',
      host: `127.0.0.1:${PORT}`,
    });
    expect(await auth.forRealtime(authState({ mode: 'headers' }), 'start', '{}', { Authorization: 'x' })).toEqual({
      host: `127.0.0.1:${PORT}`,
      Authorization: 'x',
    });

    await expect(auth.forHttp(authState({ apiKey: ' ' }), '{}', undefined)).rejects.toBeInstanceOf(AuthError);
    await expect(auth.forHttp(authState({ mode: 'lambda', partnerToken: '' }), '{}', undefined)).rejects.toThrow(/partner token/);
    expect(editorHeaders({ HOST: 'x', 'X-Amz-Date': 'y', keep: 'z' }, 'iam')).toEqual({ keep: 'z' });
    expect(parseGroups(' admin, ops admin ,,')).toEqual(['admin', 'ops']);
  });

  it('mints user-pool tokens through the dev token endpoint with the dev secret, once per user and groups until near expiry', async () => {
    let now = Date.UTC(2026, 0, 1);
    const endpoint = tokenEndpoint(() => now);
    const auth = authHeaders({ devSecret: 's3cret', fetch: endpoint.fetch, now: () => now });
    expect(auth.canMint).toBe(true);

    const first = await auth.forHttp(authState({ mode: 'userPool' }), '{}', undefined);
    expect(endpoint.calls).toHaveLength(1);
    expect(endpoint.calls[0]).toMatchObject({
      url: `${ORIGIN}/dev/token`,
      headers: { 'x-dev-secret': 's3cret' },
      body: { username: 'alice', groups: ['admin', 'ops'] },
    });
    const claims = JSON.parse(Buffer.from(first['authorization']!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ 'cognito:username': 'alice', 'cognito:groups': ['admin', 'ops'] });

    // Cached: the same user again (HTTP and real-time alike) mints nothing.
    const realtime = await auth.forRealtime(authState({ mode: 'userPool', groups: 'ops admin' }), 'start', '{}', undefined);
    expect(realtime).toEqual({ Authorization: first['authorization'], host: `127.0.0.1:${PORT}` });
    expect(endpoint.calls).toHaveLength(1);
    // Other groups are another token; a token about to expire is replaced.
    await auth.forHttp(authState({ mode: 'userPool', groups: '' }), '{}', undefined);
    expect(endpoint.calls).toHaveLength(2);
    now += 3600_000 - 30_000;
    await auth.forHttp(authState({ mode: 'userPool' }), '{}', undefined);
    expect(endpoint.calls).toHaveLength(3);
    // A pasted token wins over minting.
    expect(await auth.forHttp(authState({ mode: 'userPool', userPoolToken: ' pasted.jwt.x ' }), '{}', undefined)).toMatchObject({
      authorization: 'pasted.jwt.x',
    });
    expect(endpoint.calls).toHaveLength(3);
  });

  it('reports why a token could not be minted, and mints again after a failure', async () => {
    let refuse = true;
    const endpoint = tokenEndpoint(Date.now, (call) =>
      refuse
        ? { status: 403, body: { errors: [{ errorType: 'ForbiddenException', message: 'The dev secret does not match' }] } }
        : { status: 200, body: { token: fakeJwt({ sub: (call.body as { username: string }).username }) } },
    );
    const auth = authHeaders({ devSecret: 'wrong', fetch: endpoint.fetch });
    await expect(auth.forHttp(authState({ mode: 'userPool' }), '{}', undefined)).rejects.toThrow(
      'User pool: POST /dev/token answered 403: The dev secret does not match',
    );
    refuse = false;
    await expect(auth.forHttp(authState({ mode: 'userPool' }), '{}', undefined)).resolves.toHaveProperty('authorization');
    expect(endpoint.calls).toHaveLength(2);

    const noSecret = authHeaders();
    expect(noSecret.canMint).toBe(false);
    await expect(noSecret.forHttp(authState({ mode: 'userPool' }), '{}', undefined)).rejects.toThrow(/no dev secret.*paste a token/);
    await expect(authHeaders({ devSecret: 's' }).forHttp(authState({ mode: 'userPool', username: ' ' }), '{}', undefined)).rejects.toThrow(
      /enter a username/,
    );
  });

  it('signs with SigV4 what the local runtime verifies: POST /graphql with the exact body', async () => {
    const body = JSON.stringify({ query: '{ products(category: "books") { items { id } } }', variables: null, operationName: null });
    const headers = await authHeaders().forHttp(authState({ mode: 'iam' }), body, { 'x-extra': 'unsigned' });
    expect(headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIALOCALTEST\/\d{8}\/us-east-1\/appsync\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
    );
    expect(headers).not.toHaveProperty('host');
    expect(headers['x-extra']).toBe('unsigned');
    // The browser adds Host itself (the page's own host).
    const sent = { ...headers, host: `127.0.0.1:${PORT}` };
    const scope = { region: 'us-east-1', service: 'appsync' };
    expect(await verifySigV4({ method: 'POST', path: '/graphql', headers: sent, body }, PRINCIPALS, scope)).toMatchObject({ ok: true });
    expect(
      await verifySigV4({ method: 'POST', path: '/graphql', headers: sent, body: body.replace('books', 'games') }, PRINCIPALS, scope),
    ).toMatchObject({ ok: false });
    expect(
      await verifySigV4({ method: 'POST', path: '/graphql', headers: { ...sent, host: 'evil.example' }, body }, PRINCIPALS, scope),
    ).toMatchObject({ ok: false });
    await expect(
      authHeaders().forHttp(authState({ mode: 'iam', iam: { accessKeyId: '', secretAccessKey: '', region: '' } }), body, undefined),
    ).rejects.toBeInstanceOf(AuthError);
  });

  it('signs the real-time handshake (POST /graphql/connect, {}) and each start (POST /graphql, its data) as aws-amplify does', async () => {
    const auth = authHeaders();
    const scope = { region: 'us-east-1', service: 'appsync' };
    const connect = await auth.forRealtime(authState({ mode: 'iam' }), 'connect', '{}', undefined);
    expect(connect).toMatchObject({
      host: `127.0.0.1:${PORT}`,
      accept: 'application/json, text/javascript',
      'content-encoding': 'amz-1.0',
      'content-type': 'application/json; charset=UTF-8',
    });
    // Exactly what the runtime checks for the handshake (local/runtime.ts → attachRealtime's authenticate).
    expect(await verifySigV4({ method: 'POST', path: '/graphql/connect', headers: connect, body: '{}' }, PRINCIPALS, scope)).toMatchObject({
      ok: true,
    });

    const data = JSON.stringify({ query: 'subscription { onProductUpdated { id } }', variables: {} });
    const start = await auth.forRealtime(authState({ mode: 'iam' }), 'start', data, undefined);
    expect(await verifySigV4({ method: 'POST', path: '/graphql', headers: start, body: data }, PRINCIPALS, scope)).toMatchObject({
      ok: true,
    });
    expect(await verifySigV4({ method: 'POST', path: '/graphql/connect', headers: start, body: '{}' }, PRINCIPALS, scope)).toMatchObject({
      ok: false,
    });
  });
});

describe('GraphiQL page: which operations are subscriptions', () => {
  it('reads the parsed document GraphiQL passes, choosing by operation name', () => {
    const query = 'query A { a } subscription S { s } mutation M { m }';
    const documentAST = parse(query);
    expect(isSubscription({ query, operationName: 'S' }, documentAST)).toBe(true);
    expect(isSubscription({ query, operationName: 'A' }, documentAST)).toBe(false);
    expect(isSubscription({ query: 'subscription { s }' }, parse('subscription { s }'))).toBe(true);
  });

  it('falls back to the text, ignoring comments and strings', () => {
    expect(isSubscription({ query: 'subscription OnX { onX { id } }' })).toBe(true);
    expect(isSubscription({ query: '# subscription S { s }\nquery Q { q(arg: "subscription x") }' })).toBe(false);
    expect(isSubscription({ query: 'query Q { q }\nsubscription S { s }', operationName: 'S' })).toBe(true);
    expect(isSubscription({ query: '{ products { id } }' })).toBe(false);
    expect(isSubscription({ query: 'query IntrospectionQuery { __schema { types { name } } }', operationName: 'IntrospectionQuery' })).toBe(
      false,
    );
  });
});

describe('GraphiQL page: fetcher', () => {
  it("posts queries with the mode's headers and shows credential failures as errors", async () => {
    const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
    let state = authState();
    const fetcher = createFetcher({
      auth: authHeaders(),
      state: () => state,
      origin: ORIGIN,
      endpoint: '/graphql',
      realtimePath: '/graphql/realtime',
      fetch: (async (url: string | URL | Request, init?: RequestInit) => {
        calls.push({ url: String(url), init });
        return new Response('{"data":{"a":1}}', { status: 200 });
      }) as typeof fetch,
      webSocket: () => {
        throw new Error('no socket expected');
      },
    });
    const result = await (fetcher(
      { query: 'query Q { a }', operationName: 'Q' },
      { headers: { 'x-trace': '1' } },
    ) as Promise<ExecutionResultLike>);
    expect(result).toEqual({ data: { a: 1 } });
    expect(calls[0]?.url).toBe(`${ORIGIN}/graphql`);
    expect(calls[0]?.init).toMatchObject({ method: 'POST', body: '{"query":"query Q { a }","variables":null,"operationName":"Q"}' });
    expect(calls[0]?.init?.headers).toEqual({ 'content-type': 'application/json', 'x-trace': '1', 'x-api-key': 'da2-thekey' });

    state = authState({ apiKey: '' });
    const failed = await (fetcher({ query: '{ a }' }) as Promise<ExecutionResultLike>);
    expect(failed.errors?.[0]).toMatchObject({ errorType: 'GraphiQLAuthError' });
    expect(calls).toHaveLength(1);

    const subscription = fetcher({ query: 'subscription { s }' });
    expect(typeof (subscription as { subscribe?: unknown }).subscribe).toBe('function');
  });
});

// A WebSocket the test drives by hand.
class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: string[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onerror: WebSocketLike['onerror'] = null;
  onclose: WebSocketLike['onclose'] = null;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}
  send(data: string): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.readyState = 3;
    this.closedWith = { code, reason };
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  messages(): Array<Record<string, unknown>> {
    return this.sent.map((text) => JSON.parse(text) as Record<string, unknown>);
  }
}

function manualTimers(): Timers & { advance(ms: number): void; count(): number } {
  let now = 0;
  let next = 1;
  const pending = new Map<number, { at: number; callback: () => void }>();
  return {
    setTimeout: (callback, ms) => {
      pending.set(next, { at: now + ms, callback });
      return next++;
    },
    clearTimeout: (handle) => void pending.delete(handle as number),
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > now) continue;
        pending.delete(id);
        timer.callback();
      }
    },
    count: () => pending.size,
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function subscriptionHarness(overrides: { connectHeaders?: () => Promise<Record<string, string>> } = {}) {
  const timers = manualTimers();
  const sockets: FakeSocket[] = [];
  const results: ExecutionResultLike[] = [];
  const startData: string[] = [];
  let completed = 0;
  const observable = appSyncSubscription({
    url: 'ws://127.0.0.1:4000/graphql/realtime',
    request: {
      query: 'subscription Watch($id: ID) { onProductUpdated(id: $id) { id stock } }',
      variables: { id: 'p1' },
      operationName: 'Watch',
    },
    connectHeaders: overrides.connectHeaders ?? (async () => ({ host: '127.0.0.1:4000', 'x-api-key': 'da2-k+/=' })),
    startHeaders: async (data) => {
      startData.push(data);
      return { host: '127.0.0.1:4000', 'x-api-key': 'da2-k' };
    },
    webSocket: (url, protocols) => {
      const socket = new FakeSocket(url, protocols);
      sockets.push(socket);
      return socket;
    },
    newId: () => 'sub-1',
    timers,
  });
  const handle = observable.subscribe({ next: (result) => results.push(result), complete: () => void (completed += 1) });
  return {
    timers,
    results,
    startData,
    handle,
    completed: () => completed,
    socket: () => {
      const socket = sockets[0];
      if (!socket) throw new Error('no socket opened');
      return socket;
    },
    sockets,
    /** Opens, acknowledges and subscribes. */
    async ready(connectionTimeoutMs = 300_000): Promise<FakeSocket> {
      await settle();
      const socket = this.socket();
      socket.open();
      socket.receive({ type: 'connection_ack', payload: { connectionTimeoutMs } });
      await settle();
      socket.receive({ type: 'start_ack', id: 'sub-1' });
      return socket;
    },
  };
}

describe('GraphiQL page: AppSync real-time subscriptions', () => {
  it('connects with the auth headers as a header- subprotocol, inits, starts with data and authorization, yields data, and stops', async () => {
    const harness = subscriptionHarness();
    await settle();
    const socket = harness.socket();
    expect(socket.url).toBe('ws://127.0.0.1:4000/graphql/realtime');
    expect(socket.protocols[0]).toBe('graphql-ws');
    const header = socket.protocols[1]!;
    expect(header).toMatch(/^header-[A-Za-z0-9_-]+$/); // base64url, unpadded: a valid subprotocol token
    expect(JSON.parse(Buffer.from(header.slice('header-'.length), 'base64url').toString('utf8'))).toEqual({
      host: '127.0.0.1:4000',
      'x-api-key': 'da2-k+/=',
    });

    expect(socket.sent).toEqual([]);
    socket.open();
    expect(socket.messages()).toEqual([{ type: 'connection_init' }]);
    socket.receive({ type: 'connection_ack', payload: { connectionTimeoutMs: 300_000 } });
    await settle();
    const start = socket.messages()[1]!;
    expect(start).toEqual({
      id: 'sub-1',
      type: 'start',
      payload: { data: harness.startData[0], extensions: { authorization: { host: '127.0.0.1:4000', 'x-api-key': 'da2-k' } } },
    });
    expect(JSON.parse(harness.startData[0]!)).toEqual({
      query: 'subscription Watch($id: ID) { onProductUpdated(id: $id) { id stock } }',
      variables: { id: 'p1' },
      operationName: 'Watch',
    });
    socket.receive({ type: 'start_ack', id: 'sub-1' });
    socket.receive({ type: 'ka' });
    socket.receive({ type: 'data', id: 'someone-else', payload: { data: { onProductUpdated: { id: 'x' } } } });
    socket.receive({ type: 'data', id: 'sub-1', payload: { data: { onProductUpdated: { id: 'p1', stock: 3 } } } });
    socket.receive({ type: 'data', id: 'sub-1', payload: { data: { onProductUpdated: { id: 'p1', stock: 4 } } } });
    expect(harness.results).toEqual([
      { data: { onProductUpdated: { id: 'p1', stock: 3 } } },
      { data: { onProductUpdated: { id: 'p1', stock: 4 } } },
    ]);

    harness.handle.unsubscribe();
    expect(socket.messages().at(-1)).toEqual({ type: 'stop', id: 'sub-1' });
    expect(socket.closedWith).toBeUndefined();
    socket.receive({ type: 'data', id: 'sub-1', payload: { data: { late: true } } });
    socket.receive({ type: 'complete', id: 'sub-1' });
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'graphiql' });
    expect(harness.results).toHaveLength(2);
    expect(harness.timers.count()).toBe(0);
  });

  it('closes anyway when the server never completes a stop', async () => {
    const harness = subscriptionHarness();
    const socket = await harness.ready();
    harness.handle.unsubscribe();
    harness.timers.advance(1_999);
    expect(socket.closedWith).toBeUndefined();
    harness.timers.advance(1);
    expect(socket.closedWith?.code).toBe(1000);
  });

  it('ends with KeepAliveTimeout when no ka arrives within connectionTimeoutMs', async () => {
    const harness = subscriptionHarness();
    const socket = await harness.ready(1_000);
    harness.timers.advance(900);
    socket.receive({ type: 'ka' });
    harness.timers.advance(900);
    expect(harness.completed()).toBe(0);
    harness.timers.advance(100);
    expect(harness.results.at(-1)?.errors?.[0]).toMatchObject({ errorType: 'KeepAliveTimeout' });
    expect(harness.completed()).toBe(1);
    expect(socket.closedWith?.code).toBe(1000);
  });

  it('shows a refused start, a connection_error and a dropped socket as errors, and completes', async () => {
    const refused = subscriptionHarness();
    await settle();
    refused.socket().open();
    refused.socket().receive({ type: 'connection_ack', payload: {} });
    await settle();
    refused.socket().receive({
      type: 'error',
      id: 'sub-1',
      payload: { errors: [{ errorType: 'Unauthorized', message: 'Not Authorized to access onProductUpdated on type Subscription' }] },
    });
    expect(refused.results).toEqual([
      { errors: [{ errorType: 'Unauthorized', message: 'Not Authorized to access onProductUpdated on type Subscription' }] },
    ]);
    expect(refused.completed()).toBe(1);
    expect(refused.socket().closedWith).toBeDefined();

    const rejected = subscriptionHarness();
    await settle();
    rejected.socket().open();
    rejected.socket().receive({
      type: 'connection_error',
      payload: { errors: [{ errorType: 'UnauthorizedException', message: 'You are not authorized to make this call.', errorCode: 401 }] },
    });
    expect(rejected.results[0]?.errors?.[0]).toMatchObject({ errorType: 'UnauthorizedException', errorCode: 401 });
    expect(rejected.completed()).toBe(1);

    const dropped = subscriptionHarness();
    const socket = await dropped.ready();
    socket.onclose?.({ code: 1001, reason: 'Server shutting down' });
    expect(dropped.results[0]?.errors?.[0]).toEqual({
      errorType: 'ConnectionClosed',
      message: 'The real-time connection closed (code 1001: Server shutting down)',
    });
    expect(dropped.completed()).toBe(1);
    expect(dropped.timers.count()).toBe(0);
  });

  it('times out without connection_ack, and fails without opening a socket when credentials fail', async () => {
    const silent = subscriptionHarness();
    await settle();
    silent.socket().open();
    silent.timers.advance(15_000);
    expect(silent.results[0]?.errors?.[0]).toMatchObject({ errorType: 'Timeout', message: 'No connection_ack within 15000 ms' });

    const noCredentials = subscriptionHarness({
      connectHeaders: () => Promise.reject(new AuthError('User pool: enter a username to sign in as')),
    });
    await settle();
    expect(noCredentials.sockets).toEqual([]);
    expect(noCredentials.results).toEqual([{ errors: [{ errorType: 'AuthError', message: 'User pool: enter a username to sign in as' }] }]);
    expect(noCredentials.completed()).toBe(1);
  });

  it('closes without a stop when unsubscribed before the subscription started', async () => {
    const harness = subscriptionHarness();
    await settle();
    harness.socket().open();
    harness.handle.unsubscribe();
    expect(harness.socket().messages()).toEqual([{ type: 'connection_init' }]);
    expect(harness.socket().closedWith?.code).toBe(1000);
    harness.socket().receive({ type: 'connection_ack', payload: {} });
    await settle();
    expect(harness.socket().messages()).toEqual([{ type: 'connection_init' }]);
  });
});

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildSchema, graphql } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createGraphiQLRoutes, type GraphiQLResponse } from '../../local/appsync/graphiql.js';

const CHROMIUM = '/usr/bin/chromium';

function page(options: Parameters<typeof createGraphiQLRoutes>[0]): string {
  const response = createGraphiQLRoutes(options)('/');
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
  return { scripts: attributeValues(html, 'script', 'src'), stylesheets: attributeValues(html, 'link', 'href') };
}

/** The config object the inline script hands to GraphiQL, as the browser would see it. */
function inlineConfig(html: string): Record<string, unknown> {
  const match = /var config = (.*);\n/.exec(html);
  expect(match?.[1]).toBeDefined();
  // The escapes used (\u003c etc.) are valid JSON, so JSON.parse reads it like a JS engine.
  return JSON.parse(match?.[1] ?? 'null') as Record<string, unknown>;
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
    // Nothing else in the page (inline code, meta tags) may point off-origin either.
    expect(html).not.toMatch(/https?:\/\//i);

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

  it('pre-fills the headers editor with the API key and uses the endpoint and default query', () => {
    const html = page({ endpoint: '/graphql', defaultApiKey: 'da2-localkey', defaultQuery: 'query { me { id } }' });
    const config = inlineConfig(html);
    expect(config.endpoint).toBe('/graphql');
    expect(config.defaultQuery).toBe('query { me { id } }');
    expect(JSON.parse(String(config.defaultHeaders))).toEqual({ 'x-api-key': 'da2-localkey' });
    expect(html).toContain('da2-localkey');
    expect(html).toContain('GraphiQL.createFetcher(');
    expect(html).toContain('isHeadersEditorEnabled: true');
  });

  it('leaves the headers editor empty without an API key', () => {
    const config = inlineConfig(page({ endpoint: '/graphql' }));
    expect(config.defaultHeaders).toBeUndefined();
    expect(config.defaultQuery).toBeUndefined();
  });

  it('escapes interpolated values so they cannot close the script element', () => {
    const key = 'k</script><script>alert(1)</script><!--';
    const query = '# </SCRIPT> & \u2028 "quoted"\nquery { a }';
    const html = page({ endpoint: '/graphql"></script>', defaultApiKey: key, defaultQuery: query });

    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<!--');
    const scriptTags = html.match(/<script\b/gi)?.length ?? 0;
    expect(html.match(/<\/script>/gi)?.length).toBe(scriptTags);

    const config = inlineConfig(html);
    expect(config.endpoint).toBe('/graphql"></script>');
    expect(config.defaultQuery).toBe(query);
    expect(JSON.parse(String(config.defaultHeaders))).toEqual({ 'x-api-key': key });
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
      '/__proto__',
      '/toString',
      '',
    ]) {
      expect(routes(path), path).toBeUndefined();
    }
  });

  // Debian's chromium is not part of the default toolchain; when present, this
  // proves the page boots offline and sends the key to the endpoint.
  it.skipIf(!existsSync(CHROMIUM))('renders in headless Chromium and introspects with the API key', async () => {
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
  }, 90_000);
});

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * GraphiQL for the local AppSync runtime, served entirely from installed npm
 * packages so the page works with no internet access (no CDN).
 *
 * graphiql@3 is the last major that ships a browser-ready UMD bundle; it
 * expects the `React` and `ReactDOM` globals (graphql is bundled inside), and
 * React 18 is the last major that ships UMD builds of those.
 */

export interface GraphiQLRoutesOptions {
  /** Same-origin GraphQL endpoint the page posts to, e.g. '/graphql'. */
  readonly endpoint: string;
  /** Pre-filled into the headers editor as `x-api-key`. */
  readonly defaultApiKey?: string;
  /** Query shown when the browser has no saved GraphiQL tabs. */
  readonly defaultQuery?: string;
}

export interface GraphiQLResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer | string;
}

export type GraphiQLRoutes = (pathname: string) => GraphiQLResponse | undefined;

interface Asset {
  readonly pkg: string;
  readonly file: string;
  readonly contentType: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Every URL the page loads; all under one prefix so they cannot clash with API routes. */
export const GRAPHIQL_ASSETS: Readonly<Record<string, Asset>> = {
  '/graphiql/react.production.min.js': { pkg: 'react', file: 'umd/react.production.min.js', contentType: JS },
  '/graphiql/react-dom.production.min.js': {
    pkg: 'react-dom',
    file: 'umd/react-dom.production.min.js',
    contentType: JS,
  },
  '/graphiql/graphiql.min.js': { pkg: 'graphiql', file: 'graphiql.min.js', contentType: JS },
  '/graphiql/graphiql.min.css': { pkg: 'graphiql', file: 'graphiql.min.css', contentType: CSS },
  // graphiql.min.js ends with `sourceMappingURL=index.umd.js.map` (its name at
  // build time); serving it under that name keeps devtools from logging a 404.
  '/graphiql/index.umd.js.map': {
    pkg: 'graphiql',
    file: 'graphiql.min.js.map',
    contentType: 'application/json; charset=utf-8',
  },
};

// Load order matters: the GraphiQL UMD bundle reads window.React/ReactDOM when it runs.
const SCRIPTS = [
  '/graphiql/react.production.min.js',
  '/graphiql/react-dom.production.min.js',
  '/graphiql/graphiql.min.js',
] as const;
const STYLESHEETS = ['/graphiql/graphiql.min.css'] as const;

const requireFromHere = createRequire(import.meta.url);
// Shared across route instances: the files are immutable for the process lifetime.
const assetCache = new Map<string, Buffer>();

function readAsset(asset: Asset): Buffer {
  const key = `${asset.pkg}/${asset.file}`;
  let body = assetCache.get(key);
  if (body === undefined) {
    // Resolving `<pkg>/package.json` rather than the package's main entry works
    // regardless of what `main`/`exports` point at.
    const root = dirname(requireFromHere.resolve(`${asset.pkg}/package.json`));
    body = readFileSync(join(root, asset.file));
    assetCache.set(key, body);
  }
  return body;
}

/**
 * Serialises a value as a JS expression that is safe inside an inline
 * <script>: escaping `<` rules out `</script>` and `<!--`, and U+2028/U+2029
 * are escaped for engines that predate them being legal in string literals.
 */
export function toInlineScriptLiteral(value: unknown): string {
  return (JSON.stringify(value) ?? 'undefined')
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function renderPage(options: GraphiQLRoutesOptions): string {
  const config = {
    endpoint: options.endpoint,
    defaultHeaders:
      options.defaultApiKey === undefined ? undefined : JSON.stringify({ 'x-api-key': options.defaultApiKey }, null, 2),
    defaultQuery: options.defaultQuery,
  };
  const links = STYLESHEETS.map((href) => `    <link rel="stylesheet" href="${href}" />`).join('\n');
  const scripts = SCRIPTS.map((src) => `    <script src="${src}"></script>`).join('\n');
  // The auth header lives only in the headers editor, not in createFetcher's
  // static `headers`: static headers are sent on every request even after the
  // user deletes them from the editor, so switching to a user-pool
  // `Authorization` JWT would still carry the API key.
  // `defaultHeaders` (not `headers`) lets a user who opts into persisting
  // headers keep their own; otherwise GraphiQL re-applies it on every load.
  // Incremental delivery is off because AppSync answers with plain JSON.
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>GraphiQL – local AppSync</title>
    <style>
      html, body { height: 100%; margin: 0; }
      #graphiql { height: 100vh; }
    </style>
${links}
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
${scripts}
    <script>
      (function () {
        var config = ${toInlineScriptLiteral(config)};
        var fetcher = GraphiQL.createFetcher({
          url: config.endpoint,
          enableIncrementalDelivery: false,
        });
        var props = {
          fetcher: fetcher,
          isHeadersEditorEnabled: true,
          defaultEditorToolsVisibility: config.defaultHeaders ? 'headers' : true,
        };
        if (config.defaultHeaders) props.defaultHeaders = config.defaultHeaders;
        if (config.defaultQuery) props.defaultQuery = config.defaultQuery;
        ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, props));
      })();
    </script>
  </body>
</html>
`;
}

export function createGraphiQLRoutes(options: GraphiQLRoutesOptions): GraphiQLRoutes {
  let page: string | undefined;
  return (pathname) => {
    if (pathname === '/') {
      page ??= renderPage(options);
      return { status: 200, contentType: 'text/html; charset=utf-8', body: page };
    }
    const asset = Object.hasOwn(GRAPHIQL_ASSETS, pathname) ? GRAPHIQL_ASSETS[pathname] : undefined;
    if (asset === undefined) return undefined;
    try {
      return { status: 200, contentType: asset.contentType, body: readAsset(asset) };
    } catch (error) {
      // A missing package is a broken install, not a crash-worthy request;
      // failures are not cached so a reinstall fixes it without a restart.
      const reason = error instanceof Error ? error.message : String(error);
      return {
        status: 500,
        contentType: 'text/plain; charset=utf-8',
        body: `GraphiQL asset ${asset.pkg}/${asset.file} is unavailable: ${reason}`,
      };
    }
  };
}

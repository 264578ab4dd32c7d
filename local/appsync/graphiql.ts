import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions, Metafile, OutputFile } from 'esbuild';
import { sha256, type Stamp, validStamp, writeFileAtomically, writeStamp } from '../../build/file-states.mjs';
import { cacheRoot, repositoryRoot } from '../../declarations/paths.js';
import { pageTrust, type GuardedRequest } from '../dev-request-guard.js';
import { CONFIG_ELEMENT_ID, type PageConfig, type PageCredentials } from './graphiql-page/config.js';

/**
 * GraphiQL for the local AppSync runtime, served entirely from installed npm
 * packages so the page works with no internet access (no CDN).
 *
 * graphiql@3 is the last major that ships a browser-ready UMD bundle; it
 * expects the `React` and `ReactDOM` globals (graphql is bundled inside), and
 * React 18 is the last major that ships UMD builds of those. The page's own
 * code (./graphiql-page/: an auth switcher like the AppSync console's, SigV4
 * in the browser, and a fetcher that runs subscriptions over AppSync's
 * real-time protocol) is bundled from TypeScript with esbuild when its code
 * changed, and otherwise read from node_modules/.cache/storefront/graphiql-page
 * (a stamp says what it was built from: build/file-states.mjs), so that a
 * start of the stack spawns no esbuild for it.
 *
 * Credentials reach the page only in its HTML, and only for the developer's
 * own visit (local/dev-request-guard.ts `pageTrust`): `Sec-Fetch-Site: none`
 * (typed or pasted URL, bookmark) or `same-origin`, a loopback `Host` on the
 * stack's port (no DNS rebinding) and no foreign `Origin`. A cross-origin page
 * can neither cause such a request nor read any answer (no CORS headers here,
 * `Cross-Origin-Resource-Policy: same-origin`), nor frame the page
 * (`frame-ancestors 'none'`), and the HTML is never cached (`no-store`).
 */

export interface GraphiQLRoutesOptions {
  /** Same-origin GraphQL endpoint the page posts to, e.g. '/graphql'. */
  readonly endpoint: string;
  /** The real-time endpoint's path; `<endpoint>/realtime` by default. */
  readonly realtimePath?: string;
  /** The dev token endpoint's path; '/dev/token' by default. */
  readonly tokenPath?: string;
  /** Pre-filled in the switcher's API key mode (withheld only from requests that look like another web page's). */
  readonly defaultApiKey?: string;
  /** Query shown when the browser has no saved GraphiQL tabs; DEFAULT_QUERY when unset. */
  readonly defaultQuery?: string;
  /** The secret POST /dev/token requires: lets a trusted page mint user-pool tokens for any username and groups. */
  readonly devSecret?: string;
  /** The local IAM principal: a trusted page signs requests with it (SigV4, service appsync). */
  readonly iamPrincipal?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The SigV4 region the stack verifies; 'us-east-1' by default. */
  readonly region?: string;
  /** The local partner's token (`partner-<id>.<secret>`) for the Lambda authorizer mode. */
  readonly partnerToken?: string;
}

export interface GraphiQLResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer | string;
  /** Response headers besides content-type (security headers, caching): send them all. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What a route reads of the request (an `IncomingMessage` fits); see local/dev-request-guard.ts. */
export type GraphiQLRequest = GuardedRequest;

/**
 * Answers GET requests for the page and its assets; undefined for other paths.
 * Without `request`, the page carries no credentials beyond the API key.
 */
export type GraphiQLRoutes = (pathname: string, request?: GraphiQLRequest) => GraphiQLResponse | undefined;

/** Runs as is against the catalog `npm run dev --seed` loads (local/seed.ts: books, games, garden, kitchen, music). */
export const DEFAULT_QUERY = `# Local AppSync. Pick an authorization mode above,
# then run (Ctrl-Enter). The partner (Lambda
# authorizer) gets stock: null and Unauthorized.
query Books {
  products(category: "books", limit: 5) {
    items {
      id
      name
      priceCents
      currency
      stock
    }
    nextToken
  }
}

# Subscribe (API key or user pool) in a new tab:
#   subscription OnProductUpdated {
#     onProductUpdated(id: "sample-00001") {
#       id name stock version
#     }
#   }
# then, as IAM or a user in group admin, in
# another tab:
#   mutation AdjustStock {
#     adjustStock(id: "sample-00001", delta: 1) {
#       id stock
#     }
#   }
`;

interface Asset {
  readonly pkg: string;
  readonly file: string;
  readonly contentType: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

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
    contentType: JSON_TYPE,
  },
};

/** The page's own script, bundled from ./graphiql-page/main.ts. */
export const PAGE_SCRIPT = '/graphiql/page.js';
const PAGE_SCRIPT_MAP = '/graphiql/page.js.map';

// Load order matters: the GraphiQL UMD bundle reads window.React/ReactDOM when it
// runs, and the page's script reads all three.
const SCRIPTS = [
  '/graphiql/react.production.min.js',
  '/graphiql/react-dom.production.min.js',
  '/graphiql/graphiql.min.js',
  PAGE_SCRIPT,
] as const;
const STYLESHEETS = ['/graphiql/graphiql.min.css'] as const;

/**
 * For every answer: no CORS (so no other origin can read one), no embedding in
 * another origin's pages (CORP), no MIME sniffing.
 */
const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * The page's CSP: scripts only from this origin (the config is a JSON data
 * block, not code), connections only to this origin (its WebSocket included),
 * never framed. Styles may be inline: GraphiQL and CodeMirror set them.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...COMMON_HEADERS,
  // The HTML may hold credentials: never stored, and the answer depends on these request headers.
  'cache-control': 'no-store',
  vary: 'Host, Origin, Sec-Fetch-Site',
  'content-security-policy': PAGE_CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // A cross-origin opener gets no handle on this window.
  'cross-origin-opener-policy': 'same-origin',
};

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

const PAGE_ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'graphiql-page', 'main.ts');

const PAGE_BUILD: BuildOptions = {
  absWorkingDir: repositoryRoot,
  entryPoints: [PAGE_ENTRY],
  outfile: 'page.js',
  bundle: true,
  write: false,
  platform: 'browser',
  format: 'iife',
  target: ['chrome109', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'silent',
  metafile: true,
};

/** Where the page's bundle is kept between starts, with the stamp of what it was built from. */
const PAGE_CACHE_DIR = join(cacheRoot, 'graphiql-page');
const PAGE_STAMP = join(PAGE_CACHE_DIR, 'stamp.json');
const PAGE_STAMP_FORMAT = 1;
/** Inputs esbuild does not list but that decide the bundle: the build options above, and esbuild itself. */
const PAGE_BUILD_INPUTS = ['local/appsync/graphiql.ts', 'node_modules/esbuild/package.json'];
const PAGE_FILES = { js: 'page.js', map: 'page.js.map' } as const;

interface PageBundle {
  readonly js: Buffer;
  readonly map: Buffer;
}

let pageBundle: PageBundle | undefined;
let pageBundleWarming = false;

/** esbuild, loaded on a first build: a start with the page cached never builds. */
function loadEsbuild(): typeof import('esbuild') {
  return requireFromHere('esbuild') as typeof import('esbuild');
}

function bundleOf(outputFiles: readonly OutputFile[] | undefined): PageBundle {
  const js = outputFiles?.find((file) => file.path.endsWith(PAGE_FILES.js));
  const map = outputFiles?.find((file) => file.path.endsWith(PAGE_FILES.map));
  if (!js || !map) throw new Error('esbuild produced no page.js');
  return { js: Buffer.from(js.contents), map: Buffer.from(map.contents) };
}

/** The bundle of an earlier build when its stamp says the page's code is unchanged, else undefined. */
async function cachedPageBundle(): Promise<PageBundle | undefined> {
  const stamp = await validStamp<Stamp & { format: number }>(PAGE_STAMP, {
    accept: (candidate) => candidate.format === PAGE_STAMP_FORMAT,
    inputsRoot: repositoryRoot,
    outputsRoot: () => PAGE_CACHE_DIR,
  });
  if (!stamp) return undefined;
  const [js, map] = await Promise.all([readFile(join(PAGE_CACHE_DIR, PAGE_FILES.js)), readFile(join(PAGE_CACHE_DIR, PAGE_FILES.map))]);
  // Another start may have replaced the files since the check: only what the stamp describes is served.
  if (sha256(js) !== stamp.outputs[PAGE_FILES.js]?.sha256 || sha256(map) !== stamp.outputs[PAGE_FILES.map]?.sha256) return undefined;
  return { js, map };
}

async function storePageBundle(bundle: PageBundle, metafile: Metafile): Promise<void> {
  await mkdir(PAGE_CACHE_DIR, { recursive: true });
  await writeFileAtomically(join(PAGE_CACHE_DIR, PAGE_FILES.js), bundle.js);
  await writeFileAtomically(join(PAGE_CACHE_DIR, PAGE_FILES.map), bundle.map);
  await writeStamp(PAGE_STAMP, {
    fields: { format: PAGE_STAMP_FORMAT },
    inputsRoot: repositoryRoot,
    inputs: [...Object.keys(metafile.inputs), ...PAGE_BUILD_INPUTS],
    outputsRoot: PAGE_CACHE_DIR,
    outputs: [PAGE_FILES.js, PAGE_FILES.map],
  });
}

/** Gets the page's script ready in the background (cached or bundled), so the first page load does not wait for it. */
function warmPageBundle(): void {
  if (pageBundleWarming) return;
  pageBundleWarming = true;
  void (async () => {
    const cached = await cachedPageBundle().catch(() => undefined);
    if (cached) {
      pageBundle ??= cached;
      return;
    }
    const result = await loadEsbuild().build(PAGE_BUILD);
    const bundle = bundleOf(result.outputFiles);
    pageBundle ??= bundle;
    // A cache that cannot be written only costs the next start a build.
    if (result.metafile) await storePageBundle(bundle, result.metafile).catch(() => undefined);
  })().catch(() => undefined); // a failed build is reported by the synchronous one on request
}

/** The bundle, built synchronously if the background build has not finished (or failed: then this throws). */
function readPageBundle(): PageBundle {
  pageBundle ??= bundleOf(loadEsbuild().buildSync(PAGE_BUILD).outputFiles);
  return pageBundle;
}

/**
 * Serialises a value as a JS expression that is safe inside an inline
 * <script>: escaping `<` rules out `</script>` and `<!--`, and U+2028/U+2029
 * are escaped for engines that predate them being legal in string literals.
 * The result is also valid JSON (for `<script type="application/json">`).
 */
export function toInlineScriptLiteral(value: unknown): string {
  return (JSON.stringify(value) ?? 'undefined')
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** What the page may know, given who asked. */
export function pageConfig(options: GraphiQLRoutesOptions, request: GraphiQLRequest | undefined): PageConfig {
  const base = {
    endpoint: options.endpoint,
    realtimePath: options.realtimePath ?? `${options.endpoint.replace(/\/+$/, '')}/realtime`,
    tokenPath: options.tokenPath ?? '/dev/token',
    defaultQuery: options.defaultQuery ?? DEFAULT_QUERY,
  };
  const trust = request === undefined ? undefined : pageTrust(request);
  if (trust?.level === 'foreign') {
    return {
      ...base,
      credentialsWithheld: `Credentials withheld: this request did not come from the stack's own origin (${trust.reason}).`,
    };
  }
  const withApiKey = options.defaultApiKey === undefined ? base : { ...base, apiKey: options.defaultApiKey };
  const credentials: PageCredentials = {
    ...(options.devSecret ? { devSecret: options.devSecret } : {}),
    ...(options.iamPrincipal
      ? {
          iam: {
            accessKeyId: options.iamPrincipal.accessKeyId,
            secretAccessKey: options.iamPrincipal.secretAccessKey,
            region: options.region ?? 'us-east-1',
          },
        }
      : {}),
    ...(options.partnerToken ? { partnerToken: options.partnerToken } : {}),
  };
  if (Object.keys(credentials).length === 0) return withApiKey;
  if (trust?.level === 'trusted') return { ...withApiKey, credentials };
  const why = trust === undefined ? 'the stack served this page without looking at the request' : trust.reason;
  return {
    ...withApiKey,
    credentialsWithheld: `Credentials withheld (${why}): the page only gets them when you open it yourself. Type or paste its address into the address bar (a reload still counts as the link you followed).`,
  };
}

function renderPage(config: PageConfig): string {
  const links = STYLESHEETS.map((href) => `    <link rel="stylesheet" href="${href}" />`).join('\n');
  const scripts = SCRIPTS.map((src) => `    <script src="${src}"></script>`).join('\n');
  // The config is data, not code: a JSON block the page's script parses, so the
  // CSP needs no inline scripts. Incremental delivery is irrelevant: AppSync
  // answers plain JSON, and subscriptions go over its WebSocket protocol.
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <link rel="icon" href="data:," />
    <title>GraphiQL – local AppSync</title>
${links}
    <style>
      html, body { height: 100%; margin: 0; }
      #graphiql, .page { height: 100vh; display: flex; flex-direction: column; }
      .graphiql-host { flex: 1 1 auto; min-height: 0; }
      .graphiql-host > .graphiql-container { height: 100%; }
      .auth-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 14px; padding: 6px 12px;
        font-family: var(--font-family, system-ui, sans-serif); font-size: 13px;
        color: hsl(var(--color-neutral, 219, 28%, 32%)); background: hsl(var(--color-base, 219, 28%, 100%));
        border-bottom: 1px solid hsla(var(--color-neutral, 219, 28%, 32%), 0.15); }
      .auth-field { display: inline-flex; align-items: center; gap: 6px; }
      .auth-field span { font-weight: 600; }
      .auth-field input, .auth-field select { font: inherit; padding: 2px 6px; }
      .auth-status { opacity: 0.85; }
      .auth-error { color: hsl(var(--color-error, 13, 93%, 58%)); opacity: 1; font-weight: 600; }
      .auth-notice { color: hsl(var(--color-warning, 40, 100%, 40%)); }
      .realtime-status { margin-left: auto; opacity: 0.85; }
    </style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script id="${CONFIG_ELEMENT_ID}" type="application/json">${toInlineScriptLiteral(config)}</script>
${scripts}
  </body>
</html>
`;
}

function serverError(what: string, error: unknown): GraphiQLResponse {
  const reason = error instanceof Error ? error.message : String(error);
  return {
    status: 500,
    contentType: 'text/plain; charset=utf-8',
    headers: { ...COMMON_HEADERS, 'cache-control': 'no-store' },
    body: `${what} is unavailable: ${reason}`,
  };
}

export function createGraphiQLRoutes(options: GraphiQLRoutesOptions): GraphiQLRoutes {
  warmPageBundle();
  return (pathname, request) => {
    if (pathname === '/') {
      return {
        status: 200,
        contentType: 'text/html; charset=utf-8',
        headers: PAGE_HEADERS,
        body: renderPage(pageConfig(options, request)),
      };
    }
    if (pathname === PAGE_SCRIPT || pathname === PAGE_SCRIPT_MAP) {
      try {
        const bundle = readPageBundle();
        return pathname === PAGE_SCRIPT
          ? { status: 200, contentType: JS, headers: { ...COMMON_HEADERS, 'cache-control': 'no-cache' }, body: bundle.js }
          : { status: 200, contentType: JSON_TYPE, headers: { ...COMMON_HEADERS, 'cache-control': 'no-cache' }, body: bundle.map };
      } catch (error) {
        // A failed build is not cached: fixing the source (or installing esbuild) fixes the next request.
        return serverError(`The GraphiQL page script (${PAGE_ENTRY}, bundled with esbuild)`, error);
      }
    }
    const asset = Object.hasOwn(GRAPHIQL_ASSETS, pathname) ? GRAPHIQL_ASSETS[pathname] : undefined;
    if (asset === undefined) return undefined;
    try {
      return { status: 200, contentType: asset.contentType, headers: COMMON_HEADERS, body: readAsset(asset) };
    } catch (error) {
      // A missing package is a broken install, not a crash-worthy request;
      // failures are not cached so a reinstall fixes it without a restart.
      return serverError(`GraphiQL asset ${asset.pkg}/${asset.file}`, error);
    }
  };
}

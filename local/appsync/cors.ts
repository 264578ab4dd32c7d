/**
 * CORS for the local AppSync endpoint, as AppSync answers it, so a web app
 * served from another origin (Vite on :5173, a CDN) can call the local API
 * exactly as it calls a deployed one.
 *
 * What AppSync does on `https://<id>.appsync-api.<region>.amazonaws.com/graphql`:
 *
 * - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
 *   is answered for any origin, without authentication: `200`, an empty body,
 *   `access-control-allow-origin: *`, `access-control-expose-headers:
 *   x-amzn-RequestId,x-amzn-ErrorType,x-amz-user-agent,x-amzn-ErrorMessage,Date,x-amz-schema-version`
 *   and `access-control-max-age: 172800` (two days).
 * - The headers a browser may send are a fixed list, not whatever is asked for:
 *   the ones AppSync's auth modes use (`content-type`, `x-api-key`,
 *   `authorization`, and SigV4's `x-amz-date`, `x-amz-security-token`,
 *   `x-amz-user-agent`, `x-amz-content-sha256`). A page adding another header
 *   (e.g. Sentry's `baggage`) is refused by the browser, as it is by AppSync.
 * - Every actual response, errors included (400, 401, 413), carries
 *   `access-control-allow-origin: *` and the same expose-headers, so the page
 *   can read the error body. No credentials (cookies) are involved:
 *   `*` forbids them, and AppSync's auth travels in headers.
 *
 * Only the GraphQL endpoint gets CORS. The real-time endpoint
 * (`/graphql/realtime`) is a WebSocket: browsers open WebSockets to any origin
 * without CORS (they send `Origin`, which a server may check; AppSync does not).
 * The local stack's own endpoints (`/dev/*`, `/health`, `/.well-known/jwks.json`,
 * GraphiQL) get none, so no web page can read them: a real Cognito JWKS is
 * public, but nothing in a browser needs the dev pool's keys, and keeping every
 * dev endpoint closed keeps the rule simple. The local Cognito endpoint
 * (local/identity/cognito-endpoint.ts) has its own, Cognito-shaped CORS.
 */

/** The paths AppSync answers with CORS: the GraphQL endpoint only. */
export const CORS_PATHS: ReadonlySet<string> = new Set(['/graphql']);

/** Request headers browsers may send to /graphql (lower case; the header names are case-insensitive). */
export const ALLOWED_REQUEST_HEADERS: readonly string[] = [
  'content-type',
  'x-api-key',
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-user-agent',
  'x-amz-content-sha256',
];

/** Response headers a page may read, exactly as AppSync lists them. */
export const EXPOSED_RESPONSE_HEADERS = 'x-amzn-RequestId,x-amzn-ErrorType,x-amz-user-agent,x-amzn-ErrorMessage,Date,x-amz-schema-version';

/** AppSync lets browsers cache a preflight for two days. */
export const PREFLIGHT_MAX_AGE_SECONDS = 172_800;

export interface PreflightResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** The parts of a request (an `IncomingMessage` fits) the CORS decisions read. */
export interface CorsRequest {
  readonly method?: string | undefined;
  /** The request target, e.g. `/graphql?x=1`; only its path counts. */
  readonly url?: string | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://127.0.0.1').pathname;
  } catch {
    return '';
  }
}

/** The headers every actual response on `pathname` carries: AppSync's for /graphql, none elsewhere. */
export function corsResponseHeaders(pathname: string): Record<string, string> {
  if (!CORS_PATHS.has(pathname)) return {};
  return {
    'access-control-allow-origin': '*',
    'access-control-expose-headers': EXPOSED_RESPONSE_HEADERS,
  };
}

/**
 * The answer to a CORS preflight on the GraphQL endpoint, or undefined when the
 * request is not one this module answers (another method, or a path without
 * CORS: the caller handles it as usual, e.g. 405 or 404 without CORS headers).
 *
 * Any `OPTIONS /graphql` is answered, whether or not it carries `Origin` and
 * `Access-Control-Request-Method` (AppSync answers a bare `curl -X OPTIONS` the
 * same way): 200, no body, and the allowed methods and headers. Nothing is
 * authenticated: browsers never send credentials with a preflight.
 */
export function corsPreflight(req: CorsRequest): PreflightResponse | undefined {
  if ((req.method ?? '').toUpperCase() !== 'OPTIONS') return undefined;
  const pathname = pathOf(req.url);
  if (!CORS_PATHS.has(pathname)) return undefined;
  return {
    status: 200,
    headers: {
      ...corsResponseHeaders(pathname),
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': ALLOWED_REQUEST_HEADERS.join(', '),
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
      'content-length': '0',
    },
  };
}

/**
 * Whether a browser would let a request with these headers through the
 * preflight answer above: every requested header (from
 * `Access-Control-Request-Headers`) must be in the allowed list. For tests and
 * diagnostics; the browser makes this decision itself.
 */
export function preflightAllows(requestedHeaders: string | undefined): boolean {
  if (!requestedHeaders) return true;
  const allowed = new Set(ALLOWED_REQUEST_HEADERS);
  return requestedHeaders
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '')
    .every((name) => allowed.has(name));
}

/** Whether a header name is a valid HTTP token (RFC 9110), so it can be echoed in a response header. */
export function isHeaderToken(name: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name);
}

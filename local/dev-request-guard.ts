/**
 * Who is asking: the checks the local stack's own endpoints use to tell a
 * local tool, or the stack's own page, from some other web page open in the
 * developer's browser. Every web page can send requests to 127.0.0.1; these
 * checks decide what such a request may get.
 *
 * - `foreignRequestReason` (POST /dev/token): refuses anything that looks like
 *   it was sent by another web page: an `Origin` other than the stack's own, a
 *   cross-site `Sec-Fetch-Site`, or a `Host` that is not a loopback name with
 *   the stack's port (DNS rebinding: a hostile name resolving to 127.0.0.1
 *   makes the page same-origin with us, but its Host header still carries the
 *   name). curl and Node's fetch send neither Origin nor Sec-Fetch-Site, so
 *   scripts pass.
 * - `pageTrust` (GET / for GraphiQL): whether a page request is a visit the
 *   developer made themselves (typed or pasted URL, bookmark, a link on the
 *   stack's own origin: `Sec-Fetch-Site: none` or `same-origin`), which may
 *   receive the stack's credentials embedded in the HTML. Reloading a page
 *   another site opened keeps that site as the initiator (`cross-site`).
 *
 * What this guards against is web pages, not other local processes: anything
 * running on the machine can set these headers, and it already reaches
 * DynamoDB Local and redis-server on loopback without any credential.
 */

/** What the checks read; an `IncomingMessage` fits. */
export interface GuardedRequest {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The port the request arrived on (an Origin or Host naming another port is another origin). */
  readonly socket?: { readonly localPort?: number | undefined } | undefined;
}

/** Host names that can only mean this machine (a DNS name other than localhost could be rebound). */
export const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

function header(req: GuardedRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : value?.[0];
}

/** `origin` (`scheme://host[:port]`) is this stack's own: http(s), a loopback name, and the port the request came in on. */
export function isOwnOrigin(origin: string, port: number | undefined): boolean {
  try {
    const parsed = new URL(origin);
    const defaultPort = parsed.protocol === 'https:' ? 443 : 80;
    const originPort = parsed.port === '' ? defaultPort : Number(parsed.port);
    return (
      (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
      LOOPBACK_NAMES.has(parsed.hostname) &&
      originPort === port &&
      parsed.username === '' &&
      parsed.password === '' &&
      (parsed.pathname === '/' || parsed.pathname === '') &&
      parsed.search === '' &&
      parsed.hash === ''
    );
  } catch {
    return false;
  }
}

/**
 * Why the request looks like it was sent by a web page other than the
 * stack's own, or undefined. Browsers send Origin on every cross-origin POST
 * and Sec-Fetch-Site on every request to a loopback address; curl and Node's
 * fetch send neither.
 */
export function foreignRequestReason(req: GuardedRequest): string | undefined {
  const port = req.socket?.localPort;
  const origin = header(req, 'origin');
  if (origin !== undefined && !isOwnOrigin(origin, port)) return `Origin: ${origin}`;
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site: ${site}`;
  const host = header(req, 'host');
  if (host !== undefined && !isOwnOrigin(`http://${host}`, port)) return `Host: ${host}`;
  return undefined;
}

/**
 * - `trusted`: a browser's own navigation or a same-origin request (Sec-Fetch-Site
 *   `none` or `same-origin`, present), with a loopback Host on our port and no
 *   foreign Origin. A cross-origin page can neither cause one nor read its answer.
 * - `untrusted`: not foreign, but not provably the developer's own visit either
 *   (a link followed from another site, or a client that sends no Fetch
 *   Metadata, such as curl).
 * - `foreign`: another web page's request, or DNS rebinding (see `foreignRequestReason`).
 */
export type PageTrust =
  | { readonly level: 'trusted' }
  | { readonly level: 'untrusted'; readonly reason: string }
  | { readonly level: 'foreign'; readonly reason: string };

export function pageTrust(req: GuardedRequest): PageTrust {
  const port = req.socket?.localPort;
  const host = header(req, 'host');
  if (host === undefined || !isOwnOrigin(`http://${host}`, port)) return { level: 'foreign', reason: `Host: ${host ?? '(none)'}` };
  const origin = header(req, 'origin');
  if (origin !== undefined && !isOwnOrigin(origin, port)) return { level: 'foreign', reason: `Origin: ${origin}` };
  const site = header(req, 'sec-fetch-site');
  if (site === 'none' || site === 'same-origin') return { level: 'trusted' };
  if (site === undefined) return { level: 'untrusted', reason: 'the request carries no Sec-Fetch-Site header' };
  return { level: 'untrusted', reason: `Sec-Fetch-Site: ${site}` };
}

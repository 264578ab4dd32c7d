/**
 * The local stack's own endpoints, beside AppSync's `/graphql`:
 *
 *   GET  /health                 each dependency's state; 503 while one is down
 *   GET  /dev/dlq                stream dead letters
 *   GET  /.well-known/jwks.json  the dev user pool's public keys
 *   POST /dev/token              mints a user-pool token: gated by the dev secret
 *   GET  /, /graphiql assets     GraphiQL
 *
 * `/dev/token` signs tokens with any groups, `admin` included, so reaching the
 * port must not be enough: every web page in the developer's browser can send
 * requests to 127.0.0.1. It therefore requires the secret `npm run dev` prints
 * (`x-dev-secret: <secret>` or `Authorization: Bearer <secret>`, compared in
 * constant time), refuses anything that looks like it comes from a web page
 * (an Origin other than the stack's own, a cross-site Sec-Fetch-Site, a Host
 * that is not a loopback name: DNS rebinding) before reading the body, and
 * never answers with CORS headers, so a page cannot read a response either.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphiQLRoutes } from './appsync/graphiql.js';
import { BodyTooLarge, readBody, sendJson } from './appsync/http-server.js';
import type { DevUserPool } from './identity/dev-user-pool.js';
import type { DeadLetter } from './streams/dead-letters.js';
import { foreignRequestReason } from './dev-request-guard.js';

export interface HealthReport {
  /** 200 when every dependency is up, else 503. */
  readonly httpStatus: 200 | 503;
  readonly body: unknown;
}

export interface DevRoutesOptions {
  readonly health: () => HealthReport;
  readonly deadLetters: () => readonly DeadLetter[];
  readonly userPool: DevUserPool;
  readonly graphiql: GraphiQLRoutes;
  /** Required by POST /dev/token. */
  readonly devSecret: string;
}

export type DevRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export const DEV_SECRET_HEADER = 'x-dev-secret';
/** A token request is a username and a few groups. */
const TOKEN_BODY_LIMIT_BYTES = 16 * 1024;
/** A refused request's unread body up to this size is drained by Node after the answer; a bigger one closes the connection. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

export function createDevRoutes(options: DevRoutesOptions): DevRoutes {
  const expected = digest(options.devSecret);
  return async (req, res, url) => {
    if (req.method === 'GET' && url.pathname === '/health') {
      const { httpStatus, body } = options.health();
      sendJson(res, httpStatus, body);
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/dev/dlq') {
      sendJson(res, 200, { deadLetters: options.deadLetters() });
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/.well-known/jwks.json') {
      sendJson(res, 200, options.userPool.jwks);
      return true;
    }
    if (url.pathname === '/dev/token') {
      await mintToken(req, res, options.userPool, expected);
      return true;
    }
    const asset = req.method === 'GET' ? options.graphiql(url.pathname, req) : undefined;
    if (asset) {
      res.writeHead(asset.status, { ...asset.headers, 'content-type': asset.contentType });
      res.end(asset.body);
      return true;
    }
    return false;
  };
}

async function mintToken(req: IncomingMessage, res: ServerResponse, userPool: DevUserPool, expected: Buffer): Promise<void> {
  const refuse = (status: number, errorType: string, message: string): void => {
    // The body is not parsed for whoever is refused. Node drains a small unread body after the
    // answer (keeping the connection usable); a big or unbounded one is not worth reading.
    const declared = Number(req.headers['content-length'] ?? 0);
    if (!req.complete && !(Number.isSafeInteger(declared) && declared <= DRAIN_LIMIT_BYTES)) res.setHeader('connection', 'close');
    sendJson(res, status, { errors: [{ errorType, message }] });
  };
  if (req.method !== 'POST') {
    // OPTIONS (a CORS preflight) included: answered without any Access-Control-* header, so a browser stops there.
    res.setHeader('allow', 'POST');
    return refuse(405, 'MethodNotAllowedException', 'Use POST for /dev/token');
  }
  const foreign = foreignRequestReason(req);
  if (foreign)
    return refuse(
      403,
      'ForbiddenException',
      `/dev/token refuses requests from web pages (${foreign}); use curl, a script or npm run token`,
    );
  const presented = presentedSecret(req);
  if (presented === undefined) {
    return refuse(
      401,
      'UnauthorizedException',
      `/dev/token needs the dev secret that npm run dev prints: send it as "${DEV_SECRET_HEADER}: <secret>" or "Authorization: Bearer <secret>"`,
    );
  }
  if (!timingSafeEqual(digest(presented), expected))
    return refuse(403, 'ForbiddenException', 'The dev secret does not match the one npm run dev printed at this start');

  if (Number(req.headers['content-length'] ?? 0) > TOKEN_BODY_LIMIT_BYTES) {
    return refuse(413, 'PayloadTooLargeException', `A token request is at most ${TOKEN_BODY_LIMIT_BYTES} bytes`);
  }
  let text: string;
  try {
    text = await readBody(req, TOKEN_BODY_LIMIT_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLarge)) throw error;
    return refuse(413, 'PayloadTooLargeException', `A token request is at most ${TOKEN_BODY_LIMIT_BYTES} bytes`);
  }
  let body: { username?: unknown; groups?: unknown; tokenUse?: unknown };
  try {
    body = JSON.parse(text || '{}') as typeof body;
  } catch {
    return sendJson(res, 400, { errors: [{ errorType: 'MalformedHttpRequestException', message: 'Body must be JSON' }] });
  }
  if (typeof body !== 'object' || body === null || typeof body.username !== 'string' || body.username.length === 0) {
    return sendJson(res, 400, { errors: [{ errorType: 'BadRequestException', message: '"username" is required' }] });
  }
  const groups = Array.isArray(body.groups) ? body.groups.filter((g): g is string => typeof g === 'string') : [];
  const tokenUse = body.tokenUse === 'access' ? 'access' : 'id';
  sendJson(res, 200, { token: userPool.mint({ username: body.username, sub: body.username, groups, tokenUse }) });
}

/** SHA-256 first: timingSafeEqual needs equal lengths, and the comparison must not leak the secret's length either. */
function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function presentedSecret(req: IncomingMessage): string | undefined {
  const header = req.headers[DEV_SECRET_HEADER];
  if (typeof header === 'string' && header !== '') return header;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  return bearer;
}

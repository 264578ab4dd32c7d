import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestAuthenticator } from './authentication.js';
import { api, apiLimitsOf } from '../../declarations/api.js';
import { corsPreflight, corsResponseHeaders } from './cors.js';
import type { AppSyncExecutor, GraphQLRequest } from './execute.js';

export interface HttpServerOptions {
  readonly executor: AppSyncExecutor;
  readonly authenticator: RequestAuthenticator;
  /** Extra routes (GraphiQL, health, dev identity provider): return true when handled. */
  readonly routes?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;
  /** Largest body accepted; declarations/api.ts's `limits.maxRequestBytes` (AppSync: 1 MB) by default. */
  readonly maxBodyBytes?: number;
  /**
   * Serve HTTPS with this PEM key and certificate instead of plain HTTP. The
   * handler is the same; an `https.Server` is also an `http.Server` for
   * 'upgrade', listen and close, so WebSockets attach to it unchanged (WSS).
   */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Overrides of SERVER_LIMITS (tests use short timeouts). */
  readonly serverLimits?: Partial<Record<keyof typeof SERVER_LIMITS, number>>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** AppSync's shape for errors it raises before any GraphQL execution. */
function requestError(res: ServerResponse, status: number, errorType: string, message: string): void {
  sendJson(res, status, { errors: [{ errorType, message }] });
}

/** The request body went past the limit readBody was given. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`Request body exceeds ${limit} bytes`);
  }
}

/**
 * The request body as UTF-8, at most `limit` bytes; past it, rejects with
 * BodyTooLarge and stops buffering. The rest of the body keeps flowing and is
 * dropped, so the connection is never left half-read: the caller answers, then
 * lets it drain or closes the connection (see `refuseTooLarge`).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size <= limit) return void chunks.push(chunk);
      settle();
      chunks.length = 0;
      reject(new BodyTooLarge(limit));
    };
    const onEnd = (): void => {
      settle();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error): void => {
      settle();
      reject(error);
    };
    // 'close' before 'end': the client went away mid-body.
    const onClose = (): void => {
      settle();
      reject(new Error('The request closed before its body was read'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Body bytes read and dropped after a 413 so the answer arrives on a
 * connection still in step with the client (which may then reuse it). A body
 * declared or found bigger than this is not worth reading: the answer goes at
 * once with `connection: close` and the connection is closed once it is flushed.
 */
const DRAIN_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * Time and size limits of the server itself. Slow clients cannot hold a socket
 * for ever: headers must arrive within 10 s and the whole request within 30 s
 * (checked every second); idle keep-alive connections close after 5 s.
 * Headers are capped at Node's default 16 KB (a 431 past it).
 */
export const SERVER_LIMITS = {
  maxHeaderSize: 16 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 1_000,
} as const satisfies ServerOptions;

/** The body length the client declared; undefined without a content-length (chunked). */
function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

function hasUnreadBody(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const declared = declaredLength(req);
  return declared === undefined ? req.headers['transfer-encoding'] !== undefined : declared > 0;
}

/**
 * Before answering without reading the body: Node reads an unread body off the
 * wire once the answer is sent, which is right for a small one; a large or
 * unbounded one closes the connection after the answer instead.
 */
function beforeEarlyAnswer(req: IncomingMessage, res: ServerResponse): void {
  if (!hasUnreadBody(req) || res.headersSent) return;
  const declared = declaredLength(req);
  if (declared === undefined || declared > DRAIN_LIMIT_BYTES) res.setHeader('connection', 'close');
}

/**
 * 413 PayloadTooLargeException. A body within DRAIN_LIMIT_BYTES is read to its
 * end (and dropped) first, so the connection stays usable; a bigger one is
 * answered at once, `connection: close`, and the socket destroyed once the
 * answer is flushed, without reading the rest.
 */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  const answer = (close: boolean): void => {
    if (res.headersSent) return;
    if (close) {
      res.setHeader('connection', 'close');
      res.once('finish', () => req.socket.destroy());
    }
    requestError(res, 413, 'PayloadTooLargeException', `Request body exceeds ${limit} bytes`);
  };
  const declared = declaredLength(req);
  if (req.complete) return answer(false);
  if (declared !== undefined && declared > DRAIN_LIMIT_BYTES) return answer(true);
  let drained = 0;
  const onData = (chunk: Buffer): void => {
    drained += chunk.byteLength;
    if (drained <= DRAIN_LIMIT_BYTES) return;
    req.off('data', onData);
    answer(true);
  };
  req.on('data', onData);
  req.once('end', () => {
    req.off('data', onData);
    answer(false);
  });
  req.resume();
}

function parseGraphQLRequest(text: string): GraphQLRequest | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'Unable to parse the JSON document: the request body is not valid JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'The request body must be a JSON object';
  const { query, variables, operationName } = body as Record<string, unknown>;
  if (typeof query !== 'string' || query.trim() === '') return 'The request body must have a non-empty "query" string';
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
    return '"variables" must be a JSON object';
  }
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return '"operationName" must be a string';
  return { query, variables: (variables as Record<string, unknown> | null | undefined) ?? null, operationName: operationName ?? null };
}

function lowerCaseHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/**
 * The HTTP (or, with `tls`, HTTPS) face of the local AppSync API: `POST /graphql` with AppSync's
 * status codes and error bodies (400 for an unreadable request, 401 for
 * failed authentication, 200 with `errors[]` for GraphQL errors).
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const limit = options.maxBodyBytes ?? apiLimitsOf(api).maxRequestBytes;
  const listener: RequestListener = (req, res) => {
    void handle(req, res).catch((error: unknown) => {
      // A client gone mid-request (or cut off by requestTimeout) has no one to answer.
      if (req.socket.destroyed) return;
      console.error('[appsync] request failed', error);
      // Never leave the socket hanging: answer (closing it if the body is unread), or drop it.
      if (res.headersSent) return void res.destroy();
      beforeEarlyAnswer(req, res);
      requestError(res, 500, 'InternalFailure', 'An internal failure occurred');
    });
  };
  const serverOptions: ServerOptions = { ...SERVER_LIMITS, ...options.serverLimits };
  const server = options.tls
    ? createHttpsServer({ ...serverOptions, key: options.tls.key, cert: options.tls.cert }, listener)
    : createServer(serverOptions, listener);
  // `Expect: 100-continue` (curl sends it for bodies over 1 KB): refuse a declared oversized body before the client sends it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = declaredLength(req);
    if (declared !== undefined && declared > limit && new URL(req.url ?? '/', 'http://127.0.0.1').pathname === '/graphql') {
      res.setHeader('connection', 'close');
      setHeaders(res, corsResponseHeaders('/graphql'));
      return requestError(res, 413, 'PayloadTooLargeException', `Request body exceeds ${limit} bytes`);
    }
    res.writeContinue();
    listener(req, res);
  });
  return server;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // Browsers on other origins (a web app's dev server, a CDN) call /graphql as they call AppSync: ./cors.ts.
    const preflight = corsPreflight(req);
    if (preflight) {
      beforeEarlyAnswer(req, res);
      res.writeHead(preflight.status, preflight.headers);
      return void res.end();
    }
    setHeaders(res, corsResponseHeaders(url.pathname));
    if (url.pathname === '/graphql') {
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        beforeEarlyAnswer(req, res);
        return requestError(res, 405, 'MethodNotAllowedException', 'Use POST for GraphQL requests');
      }
      // A declared length past the limit is refused before a byte of the body is read.
      if ((declaredLength(req) ?? 0) > limit) return refuseTooLarge(req, res, limit);
      let text: string;
      try {
        text = await readBody(req, limit);
      } catch (error) {
        if (error instanceof BodyTooLarge) return refuseTooLarge(req, res, limit);
        throw error;
      }
      const headers = lowerCaseHeaders(req);
      const authentication = await options.authenticator.authenticate(headers, req.socket.remoteAddress ?? '127.0.0.1', {
        method: req.method ?? 'POST',
        path: req.url ?? '/graphql',
        body: text,
      });
      if (!authentication.ok) return requestError(res, 401, 'UnauthorizedException', authentication.message);
      const request = parseGraphQLRequest(text);
      if (typeof request === 'string') return requestError(res, 400, 'MalformedHttpRequestException', request);
      const response = await options.executor.execute(request, {
        caller: authentication.caller,
        identity: authentication.identity,
        headers,
      });
      return sendJson(res, 200, response);
    }
    if (options.routes && (await options.routes(req, res, url))) return;
    beforeEarlyAnswer(req, res);
    requestError(res, 404, 'NotFoundException', `No route for ${req.method} ${url.pathname}`);
  }
}

function setHeaders(res: ServerResponse, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}

export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestAuthenticator } from './authentication.js';
import type { AppSyncExecutor, GraphQLRequest } from './execute.js';

export interface HttpServerOptions {
  readonly executor: AppSyncExecutor;
  readonly authenticator: RequestAuthenticator;
  /** Extra routes (GraphiQL, health, dev identity provider): return true when handled. */
  readonly routes?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;
  /** AppSync caps a request body at 1 MB. */
  readonly maxBodyBytes?: number;
  /**
   * Serve HTTPS with this PEM key and certificate instead of plain HTTP. The
   * handler is the same; an `https.Server` is also an `http.Server` for
   * 'upgrade', listen and close, so WebSockets attach to it unchanged (WSS).
   */
  readonly tls?: { readonly key: string; readonly cert: string };
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

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
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
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const listener: RequestListener = (req, res) => {
    void handle(req, res).catch((error: unknown) => {
      console.error('[appsync] request failed', error);
      if (!res.headersSent) requestError(res, 500, 'InternalFailure', 'An internal failure occurred');
      else res.destroy();
    });
  };
  return options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener) : createServer(listener);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/graphql') {
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        return requestError(res, 405, 'MethodNotAllowedException', 'Use POST for GraphQL requests');
      }
      let text: string;
      try {
        text = await readBody(req, limit);
      } catch (error) {
        if (error instanceof BodyTooLarge) return requestError(res, 413, 'PayloadTooLargeException', `Request body exceeds ${limit} bytes`);
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
    requestError(res, 404, 'NotFoundException', `No route for ${req.method} ${url.pathname}`);
  }
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

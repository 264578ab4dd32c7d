import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateProductDocument, GetProductDocument } from '../../generated/client/graphql.js';
import { print } from 'graphql';
import type { AppSyncExecutor } from '../../local/appsync/execute.js';
import type { RequestAuthenticator } from '../../local/appsync/authentication.js';
import { createHttpServer, listen } from '../../local/appsync/http-server.js';
import { apiKeyCaller } from '../support/fixtures.js';
import { alongsideOrdinaryRequest, createProduct, expectNothingWritten } from '../support/hostile.js';
import { useLocalStack } from '../support/local-stack.js';

/**
 * Keep-alive after an early response (issue 8, section 4): whatever the server
 * answers before reading a body (413, 405, 404, 401, 400, a thrown handler), it
 * either drains the body, so the next request on the connection is answered,
 * or closes the connection, so the client reconnects at once; it never leaves
 * a connection open and unread (the next request used to hang ~6 s, then reset).
 * Waits are on events (a response, 'close'), never fixed sleeps.
 */

const local = useLocalStack();
let probeId: string;

beforeAll(async () => {
  probeId = (await createProduct(local.api)).id;
});

/** The connection reset after the old 6 s hang; anything under it (on a loaded machine) is prompt. */
const PROMPT_MS = 5_000;
const OVER_LIMIT = 1024 * 1024 + 100 * 1024;

interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** An HTTP/1.1 connection on a raw socket: write requests byte for byte, read responses (or the close) as they come. */
class RawConnection {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  #closed = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    // A reset while we still write is how a server may refuse a huge body; 'close' follows.
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    if (!this.#socket.destroyed) this.#socket.write(data);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The next complete response, or 'closed' once the server closes the connection without one. */
  async next(): Promise<RawResponse | 'closed'> {
    for (;;) {
      const response = this.#take();
      if (response) return response;
      if (this.#closed) return 'closed';
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** Resolves once the server has closed the connection. */
  async whenClosed(): Promise<void> {
    while (!this.#closed) await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #take(): RawResponse | undefined {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine, ...lines] = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
    const headers = Object.fromEntries(
      lines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    const length = Number(headers['content-length'] ?? 0);
    if (this.#buffer.length < end + 4 + length) return undefined;
    const body = this.#buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    const status = Number(statusLine!.split(' ')[1]);
    // 1xx answers are interim: the final one follows.
    if (status >= 100 && status < 200) return this.#take() ?? { status, headers, body };
    return { status, headers, body };
  }
}

function port(url: string): number {
  return Number(new URL(url).port);
}

/** A request as bytes: `body` with its content-length unless `headers` say otherwise. */
function rawRequest(method: string, path: string, headers: Record<string, string>, body = ''): string {
  const all = {
    host: '127.0.0.1',
    ...(body === '' && method === 'GET' ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
    ...headers,
  };
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n${body}`;
}

const probeQuery = () => JSON.stringify({ query: print(GetProductDocument), variables: { id: probeId } });
const apiKeyHeaders = () => ({ 'x-api-key': local.stack.apiKey, 'content-type': 'application/json' });
const oversizedBody = () => JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(OVER_LIMIT) } });

/** The probe's answer on a connection: its product, or the connection closed (the client then reconnects). */
function expectAnsweredOrClosed(response: RawResponse | 'closed'): void {
  if (response === 'closed') return;
  expect(response.status).toBe(200);
  expect((JSON.parse(response.body) as { data: { product: { id: string } } }).data.product.id).toBe(probeId);
}

describe('after an early response the connection is drained or closed', () => {
  it('pipelined: an oversized request, then a valid one sent right behind it', async () => {
    const connection = await RawConnection.open(port(local.stack.url));
    try {
      await alongsideOrdinaryRequest(local.api, probeId, async () => {
        const started = performance.now();
        connection.write(
          rawRequest('POST', '/graphql', apiKeyHeaders(), oversizedBody()) + rawRequest('POST', '/graphql', apiKeyHeaders(), probeQuery()),
        );
        const first = await connection.next();
        expect(first).not.toBe('closed');
        expect(first).toMatchObject({ status: 413 });
        expect(JSON.parse((first as RawResponse).body)).toEqual({
          errors: [{ errorType: 'PayloadTooLargeException', message: expect.any(String) }],
        });
        expectAnsweredOrClosed(await connection.next());
        expect(performance.now() - started).toBeLessThan(PROMPT_MS);
      });
    } finally {
      connection.destroy();
    }
  });

  it('a chunked body (no content-length) that grows past the limit', async () => {
    const connection = await RawConnection.open(port(local.stack.url));
    try {
      const chunk = 'x'.repeat(256 * 1024);
      let request = `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${local.stack.apiKey}\r\ntransfer-encoding: chunked\r\n\r\n`;
      for (let sent = 0; sent <= OVER_LIMIT; sent += chunk.length) request += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
      connection.write(`${request}0\r\n\r\n`);
      expect(await connection.next()).toMatchObject({ status: 413 });
      connection.write(rawRequest('POST', '/graphql', apiKeyHeaders(), probeQuery()));
      expectAnsweredOrClosed(await connection.next());
    } finally {
      connection.destroy();
    }
  });

  it('a declared 1 GB body is refused at once and the connection closed, without reading it', async () => {
    const connection = await RawConnection.open(port(local.stack.url));
    try {
      const started = performance.now();
      connection.write(
        rawRequest('POST', '/graphql', { ...apiKeyHeaders(), 'content-length': String(1024 ** 3) }).concat('x'.repeat(64 * 1024)),
      );
      const answer = await connection.next();
      expect(answer).toMatchObject({ status: 413, headers: { connection: 'close' } });
      await connection.whenClosed();
      expect(performance.now() - started).toBeLessThan(PROMPT_MS);
    } finally {
      connection.destroy();
    }
  });

  it('Expect: 100-continue with an oversized length: 413 instead of 100 Continue', async () => {
    const connection = await RawConnection.open(port(local.stack.url));
    try {
      connection.write(
        rawRequest('POST', '/graphql', { ...apiKeyHeaders(), 'content-length': String(2 * 1024 * 1024), expect: '100-continue' }),
      );
      expect(await connection.next()).toMatchObject({ status: 413, headers: { connection: 'close' } });
      await connection.whenClosed();
    } finally {
      connection.destroy();
    }
  });

  it('405, 404, 401 and 400 with bodies on one keep-alive connection: each next request is answered', async () => {
    const connection = await RawConnection.open(port(local.stack.url));
    try {
      const early: Array<[string, number, string]> = [
        [rawRequest('PUT', '/graphql', apiKeyHeaders(), 'y'.repeat(10_000)), 405, 'MethodNotAllowedException'],
        [rawRequest('POST', '/nowhere', apiKeyHeaders(), 'y'.repeat(100_000)), 404, 'NotFoundException'],
        [rawRequest('POST', '/graphql', { 'x-api-key': 'da2-wrongwrongwrongwrongwrongwr' }, probeQuery()), 401, 'UnauthorizedException'],
        [rawRequest('POST', '/graphql', apiKeyHeaders(), '{"query": '), 400, 'MalformedHttpRequestException'],
      ];
      for (const [request, status, errorType] of early) {
        connection.write(request);
        const answer = await connection.next();
        expect(answer, errorType).toMatchObject({ status });
        expect(JSON.parse((answer as RawResponse).body).errors[0].errorType).toBe(errorType);
        connection.write(rawRequest('POST', '/graphql', apiKeyHeaders(), probeQuery()));
        const next = await connection.next();
        expect(next, `after ${status}`).not.toBe('closed');
        expectAnsweredOrClosed(next);
      }
    } finally {
      connection.destroy();
    }
  });

  it('a keep-alive client (undici, one connection) sends an oversized then a valid request', async () => {
    const agent = new Agent({ connections: 1, pipelining: 1, keepAliveTimeout: 10_000 });
    try {
      const post = (body: string) =>
        undiciFetch(local.stack.graphqlUrl, { method: 'POST', headers: apiKeyHeaders(), body, dispatcher: agent });
      await alongsideOrdinaryRequest(local.api, probeId, async () => {
        const refused = await post(oversizedBody());
        expect(refused.status).toBe(413);
        expect(((await refused.json()) as { errors: Array<{ errorType: string }> }).errors[0]?.errorType).toBe('PayloadTooLargeException');
        const answered = await post(probeQuery());
        expect(answered.status).toBe(200);
        expect(((await answered.json()) as { data: { product: { id: string } } }).data.product.id).toBe(probeId);
      });
      // Past what the server drains (4 MB) it closes instead: the first request may see the 413 or a reset, the next one is answered.
      await post(JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(6 * 1024 * 1024) } }))
        .then(async (res) => {
          expect(res.status).toBe(413);
          await res.arrayBuffer();
        })
        .catch((error: unknown) => expect(String((error as Error).cause ?? error)).toMatch(/ECONNRESET|EPIPE|other side closed|socket/i));
      const after = await post(probeQuery());
      expect(after.status).toBe(200);
      await after.arrayBuffer();
    } finally {
      await agent.close();
    }
  });

  it('an oversized mutation writes nothing', async () => {
    const body = JSON.stringify({
      query: print(CreateProductDocument),
      variables: { input: { sku: 'HUGE-1', name: 'x'.repeat(OVER_LIMIT), priceCents: 1, currency: 'USD', category: 'hostile', stock: 1 } },
    });
    const res = await expectNothingWritten(local.stack, () =>
      alongsideOrdinaryRequest(local.api, probeId, () =>
        fetch(local.stack.graphqlUrl, { method: 'POST', headers: { authorization: (local.api.admin() as { token: string }).token }, body }),
      ),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { errors: Array<{ errorType: string }> }).errors[0]?.errorType).toBe('PayloadTooLargeException');
  });
});

describe('the server itself: slow clients, header caps, handler failures', () => {
  let server: Server;
  let serverPort: number;
  let failNext = false;

  beforeAll(async () => {
    const executor = {
      execute: async () => {
        if (failNext) {
          failNext = false;
          throw new Error('boom');
        }
        return { data: { __typename: 'Query' } };
      },
    } as unknown as AppSyncExecutor;
    const authenticator = { authenticate: async () => ({ ok: true, ...apiKeyCaller() }) } as unknown as RequestAuthenticator;
    // Short timeouts so a slow client is cut off within the test; the defaults are SERVER_LIMITS.
    server = createHttpServer({
      executor,
      authenticator,
      serverLimits: { headersTimeout: 300, requestTimeout: 600, connectionsCheckingInterval: 50 },
    });
    serverPort = await listen(server, 0);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const valid = () => rawRequest('POST', '/graphql', {}, JSON.stringify({ query: '{ __typename }' }));

  it('closes a connection whose headers never finish (slow loris)', async () => {
    const connection = await RawConnection.open(serverPort);
    try {
      const started = performance.now();
      connection.write('POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ');
      const answer = await connection.next();
      if (answer !== 'closed') expect(answer.status).toBe(408);
      await connection.whenClosed();
      expect(performance.now() - started).toBeLessThan(PROMPT_MS);
    } finally {
      connection.destroy();
    }
  });

  it('closes a connection whose body never finishes', async () => {
    const connection = await RawConnection.open(serverPort);
    try {
      connection.write(rawRequest('POST', '/graphql', { 'content-length': '1000' }).concat('{"query": '));
      const answer = await connection.next();
      if (answer !== 'closed') expect(answer.status).toBe(408);
      await connection.whenClosed();
    } finally {
      connection.destroy();
    }
  });

  it('answers headers past 16 KB with 431 and closes', async () => {
    const connection = await RawConnection.open(serverPort);
    try {
      connection.write(rawRequest('POST', '/graphql', { 'x-big': 'h'.repeat(20 * 1024) }, '{}'));
      expect(await connection.next()).toMatchObject({ status: 431 });
      await connection.whenClosed();
    } finally {
      connection.destroy();
    }
  });

  it('answers a handler failure with 500 InternalFailure and keeps the connection usable', async () => {
    const connection = await RawConnection.open(serverPort);
    try {
      failNext = true;
      connection.write(valid());
      const failed = await connection.next();
      expect(failed).toMatchObject({ status: 500 });
      expect(JSON.parse((failed as RawResponse).body)).toEqual({
        errors: [{ errorType: 'InternalFailure', message: 'An internal failure occurred' }],
      });
      connection.write(valid());
      expect(await connection.next()).toMatchObject({ status: 200 });
    } finally {
      connection.destroy();
    }
  });
});

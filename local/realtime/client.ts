import { WebSocket } from 'ws';
import { GRAPHQL_WS } from './protocol.js';

/**
 * A minimal AppSync real-time client (the protocol as aws-amplify v6 speaks
 * it) for tests, the benchmark and scripts. Not a production client: no
 * reconnection, no keep-alive watchdog.
 */

export interface ServerMessage {
  readonly type: string;
  readonly id?: string;
  readonly payload?: Readonly<Record<string, unknown>>;
}

export interface ConnectOptions {
  /** Auth headers, e.g. `{ 'x-api-key': key }` or `{ Authorization: jwt }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** `subprotocol` (aws-amplify v6: `header-<base64url>`) or `query` (older clients: `?header=…&payload=e30=`). */
  readonly via?: 'subprotocol' | 'query';
  /** Replaces the offered subprotocols entirely (to test refusals). */
  readonly protocols?: readonly string[];
  /** Trusted CA (PEM) for `wss://` to a server with a self-signed certificate. */
  readonly ca?: string | Buffer;
  /** Called for every message, before it is queued; return true to keep it out of the queue (load tests). */
  readonly onMessage?: (message: ServerMessage, raw: string) => boolean | void;
}

export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`WebSocket upgrade refused with HTTP ${status}`);
  }
}

export class RealtimeClient {
  readonly ws: WebSocket;
  /** Resolves with the close code and reason once the socket closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #queue: ServerMessage[] = [];
  readonly #waiters = new Set<() => void>();

  private constructor(ws: WebSocket, onMessage: ConnectOptions['onMessage']) {
    this.ws = ws;
    // Late socket errors (e.g. the server dropping us) surface through `closed`, never as an uncaught 'error'.
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
    ws.on('message', (data) => {
      const raw = data.toString();
      const message = JSON.parse(raw) as ServerMessage;
      if (onMessage?.(message, raw) === true) return;
      this.#queue.push(message);
      for (const wake of this.#waiters) wake();
      this.#waiters.clear();
    });
  }

  static connect(url: string, options: ConnectOptions = {}): Promise<RealtimeClient> {
    const encoded = Buffer.from(JSON.stringify(options.headers ?? {})).toString('base64url');
    const target = new URL(url);
    let protocols = [GRAPHQL_WS, `header-${encoded}`];
    if (options.via === 'query') {
      target.searchParams.set('header', Buffer.from(JSON.stringify(options.headers ?? {})).toString('base64'));
      target.searchParams.set('payload', 'e30=');
      protocols = [GRAPHQL_WS];
    }
    const ws = new WebSocket(target, [...(options.protocols ?? protocols)], options.ca ? { ca: options.ca } : {});
    return new Promise((resolve, reject) => {
      const client = new RealtimeClient(ws, options.onMessage);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        reject(new UpgradeRefused(res.statusCode ?? 0));
        res.resume();
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next queued message (optionally the next one satisfying `match`, dropping none of the others). */
  async next(match: (message: ServerMessage) => boolean = () => true, timeoutMs = 2000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#queue.findIndex(match);
      if (index >= 0) return this.#queue.splice(index, 1)[0]!;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`No matching message within ${timeoutMs} ms; queued: ${JSON.stringify(this.#queue)}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.#waiters.add(wake);
      });
    }
  }

  /** Messages queued so far, without consuming them. */
  get pending(): readonly ServerMessage[] {
    return this.#queue;
  }

  async init(timeoutMs = 2000): Promise<ServerMessage> {
    this.send({ type: 'connection_init' });
    return this.next((m) => m.type === 'connection_ack' || m.type === 'connection_error', timeoutMs);
  }

  /** Sends `start` and resolves with its `start_ack` or `error`. */
  async start(
    id: string,
    query: string,
    variables: Record<string, unknown>,
    authorization: Readonly<Record<string, string>>,
    timeoutMs = 2000,
  ): Promise<ServerMessage> {
    this.send({ id, type: 'start', payload: { data: JSON.stringify({ query, variables }), extensions: { authorization } } });
    return this.next((m) => m.id === id && (m.type === 'start_ack' || m.type === 'error'), timeoutMs);
  }

  async stop(id: string, timeoutMs = 2000): Promise<ServerMessage> {
    this.send({ id, type: 'stop' });
    return this.next((m) => m.id === id && (m.type === 'complete' || m.type === 'error'), timeoutMs);
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(1000);
    return this.closed;
  }
}

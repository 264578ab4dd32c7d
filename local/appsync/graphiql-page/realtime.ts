/**
 * One GraphQL subscription over AppSync's real-time protocol, as aws-amplify
 * v6 speaks it, as an Observable GraphiQL can run and stop:
 *
 *   open   ws(s)://<host>/graphql/realtime, subprotocols
 *          ['graphql-ws', 'header-' + base64url(JSON(auth headers))]
 *   send   {type: 'connection_init'}
 *   recv   {type: 'connection_ack', payload: {connectionTimeoutMs}}   (then `ka`s)
 *   send   {type: 'start', id, payload: {data: JSON({query, variables}),
 *                                        extensions: {authorization: headers}}}
 *   recv   start_ack, then data* (each payload goes to GraphiQL)
 *   send   {type: 'stop', id}  when GraphiQL unsubscribes; recv complete
 *
 * An `error`, `connection_error`, a missing `ka` past connectionTimeoutMs or
 * the socket closing ends the subscription, with the errors shown as the
 * response. One socket per subscription keeps stop and failure simple.
 */

export type Headers = Record<string, string>;

/** The part of the browser's WebSocket used here (the `ws` package's fits too). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null;
}

export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;

export interface ExecutionResultLike {
  readonly data?: unknown;
  readonly errors?: readonly unknown[];
  readonly extensions?: unknown;
}

export interface Observer<T> {
  next?(value: T): void;
  error?(error: unknown): void;
  complete?(): void;
}

export interface Observable<T> {
  subscribe(observer: Observer<T>): { unsubscribe(): void };
}

export type RealtimeEvent =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'acknowledged' }
  | { readonly kind: 'subscribed'; readonly id: string }
  | { readonly kind: 'data'; readonly id: string }
  | { readonly kind: 'stopped'; readonly id: string }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'closed' };

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SubscriptionRequest {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>> | null;
  readonly operationName?: string | null;
}

export interface AppSyncSubscriptionOptions {
  /** `ws://127.0.0.1:4000/graphql/realtime` */
  readonly url: string;
  readonly request: SubscriptionRequest;
  /** The handshake's auth headers (sent base64url-encoded in the `header-` subprotocol). */
  readonly connectHeaders: () => Promise<Headers>;
  /** A start message's `payload.extensions.authorization`, given the exact `payload.data` string. */
  readonly startHeaders: (data: string) => Promise<Headers>;
  readonly webSocket: WebSocketFactory;
  readonly newId?: () => string;
  readonly timers?: Timers;
  /** How long to wait for connection_ack, and for start_ack (AppSync clients: 15 s). */
  readonly ackTimeoutMs?: number;
  /** After `stop`, how long to wait for `complete` before closing the socket anyway. */
  readonly stopTimeoutMs?: number;
  readonly onEvent?: (event: RealtimeEvent) => void;
}

const GRAPHQL_WS = 'graphql-ws';
/** Used when connection_ack names no connectionTimeoutMs (AppSync's default). */
const DEFAULT_CONNECTION_TIMEOUT_MS = 300_000;
const OPEN = 1;
const NORMAL_CLOSURE = 1000;

/** base64url without padding of the UTF-8 bytes, as aws-amplify encodes the header subprotocol. */
export function base64UrlJson(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function errorResult(errorType: string, message: string): ExecutionResultLike {
  return { errors: [{ errorType, message }] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function defaultId(): string {
  const random = globalThis.crypto?.randomUUID?.();
  return random ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export function appSyncSubscription(options: AppSyncSubscriptionOptions): Observable<ExecutionResultLike> {
  return {
    subscribe(observer) {
      const timers: Timers = options.timers ?? {
        setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
        clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
      };
      const ackTimeoutMs = options.ackTimeoutMs ?? 15_000;
      const stopTimeoutMs = options.stopTimeoutMs ?? 2_000;
      const id = (options.newId ?? defaultId)();
      const emit = options.onEvent ?? (() => undefined);
      let socket: WebSocketLike | undefined;
      /** No more events for GraphiQL: completed, failed or unsubscribed. */
      let finished = false;
      let started = false;
      let ackTimer: unknown;
      let kaTimer: unknown;
      let stopTimer: unknown;
      let kaTimeoutMs = DEFAULT_CONNECTION_TIMEOUT_MS;

      const clearTimers = (): void => {
        for (const timer of [ackTimer, kaTimer, stopTimer]) if (timer !== undefined) timers.clearTimeout(timer);
        ackTimer = kaTimer = stopTimer = undefined;
      };
      const closeSocket = (): void => {
        clearTimers();
        const open = socket;
        socket = undefined;
        if (!open) return;
        open.onmessage = null;
        open.onclose = null;
        open.onerror = null;
        open.onopen = null;
        try {
          open.close(NORMAL_CLOSURE, 'graphiql');
        } catch {
          // already closing
        }
        emit({ kind: 'closed' });
      };
      /** Ends the subscription for GraphiQL, showing `result` (errors) last when given. */
      const finish = (result?: ExecutionResultLike): void => {
        if (finished) return;
        finished = true;
        closeSocket();
        if (result) {
          const first = (result.errors?.[0] ?? {}) as { message?: unknown };
          emit({ kind: 'failed', message: typeof first.message === 'string' ? first.message : 'failed' });
          observer.next?.(result);
        }
        observer.complete?.();
      };
      const armAckTimer = (what: string): void => {
        if (ackTimer !== undefined) timers.clearTimeout(ackTimer);
        ackTimer = timers.setTimeout(() => finish(errorResult('Timeout', `No ${what} within ${ackTimeoutMs} ms`)), ackTimeoutMs);
      };
      const armKeepAlive = (): void => {
        if (kaTimer !== undefined) timers.clearTimeout(kaTimer);
        kaTimer = timers.setTimeout(
          () =>
            finish(
              errorResult(
                'KeepAliveTimeout',
                `No keep-alive (ka) from the server within ${kaTimeoutMs} ms: the connection is considered lost`,
              ),
            ),
          kaTimeoutMs,
        );
      };
      const send = (message: unknown): void => {
        if (socket && socket.readyState === OPEN) socket.send(JSON.stringify(message));
      };

      const start = async (): Promise<void> => {
        const data = JSON.stringify({
          query: options.request.query,
          variables: options.request.variables ?? {},
          ...(options.request.operationName ? { operationName: options.request.operationName } : {}),
        });
        const authorization = await options.startHeaders(data);
        if (finished) return;
        armAckTimer('start_ack');
        send({ id, type: 'start', payload: { data, extensions: { authorization } } });
        started = true;
      };

      const onMessage = (text: string): void => {
        let message: unknown;
        try {
          message = JSON.parse(text);
        } catch {
          return finish(errorResult('BadResponse', 'The server sent a message that is not JSON'));
        }
        if (!isRecord(message)) return;
        const payload = isRecord(message['payload']) ? message['payload'] : {};
        const forUs = message['id'] === undefined || message['id'] === id;
        switch (message['type']) {
          case 'connection_ack': {
            if (ackTimer !== undefined) timers.clearTimeout(ackTimer);
            ackTimer = undefined;
            const timeout = payload['connectionTimeoutMs'];
            if (typeof timeout === 'number' && timeout > 0) kaTimeoutMs = timeout;
            armKeepAlive();
            emit({ kind: 'acknowledged' });
            start().catch((error: unknown) => finish(errorResult('AuthError', error instanceof Error ? error.message : String(error))));
            return;
          }
          case 'ka':
            armKeepAlive();
            return;
          case 'start_ack':
            if (!forUs) return;
            if (ackTimer !== undefined) timers.clearTimeout(ackTimer);
            ackTimer = undefined;
            emit({ kind: 'subscribed', id });
            return;
          case 'data':
            if (message['id'] !== id || finished) return;
            emit({ kind: 'data', id });
            observer.next?.(payload as ExecutionResultLike);
            return;
          case 'complete':
            if (message['id'] !== id) return;
            emit({ kind: 'stopped', id });
            return finish();
          case 'connection_error':
            return finish({ errors: Array.isArray(payload['errors']) ? payload['errors'] : [payload] });
          case 'error':
            if (!forUs) return;
            return finish({ errors: Array.isArray(payload['errors']) ? payload['errors'] : [payload] });
          default:
            return;
        }
      };

      const connect = async (): Promise<void> => {
        emit({ kind: 'connecting' });
        const headers = await options.connectHeaders();
        if (finished) return;
        const ws = options.webSocket(options.url, [GRAPHQL_WS, `header-${base64UrlJson(headers)}`]);
        socket = ws;
        armAckTimer('connection_ack');
        ws.onopen = () => send({ type: 'connection_init' });
        ws.onmessage = (event) => onMessage(typeof event.data === 'string' ? event.data : String(event.data));
        // A failed handshake is followed by close; that is where it is reported.
        ws.onerror = () => undefined;
        ws.onclose = (event) => {
          socket = undefined;
          const reason = event.reason ? `: ${event.reason}` : '';
          finish(errorResult('ConnectionClosed', `The real-time connection closed (code ${event.code}${reason})`));
        };
      };
      connect().catch((error: unknown) => finish(errorResult('AuthError', error instanceof Error ? error.message : String(error))));

      return {
        unsubscribe() {
          if (finished) return;
          finished = true;
          const ws = socket;
          if (!ws || ws.readyState !== OPEN || !started) return closeSocket();
          // Stop the subscription the way AppSync expects, then close once it is complete (or after a while).
          clearTimers();
          ws.onmessage = (event) => {
            const text = typeof event.data === 'string' ? event.data : String(event.data);
            try {
              const message = JSON.parse(text) as { type?: unknown; id?: unknown };
              if (message.id === id && (message.type === 'complete' || message.type === 'error')) {
                emit({ kind: 'stopped', id });
                closeSocket();
              }
            } catch {
              closeSocket();
            }
          };
          ws.onclose = () => {
            socket = undefined;
            clearTimers();
            emit({ kind: 'closed' });
          };
          stopTimer = timers.setTimeout(closeSocket, stopTimeoutMs);
          ws.send(JSON.stringify({ type: 'stop', id }));
        },
      };
    },
  };
}

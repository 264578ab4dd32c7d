import type { AppSyncIdentity } from 'aws-lambda';
import type { RawData, WebSocket } from 'ws';
import type { Caller, FieldAuthorizer } from '../graphql/authorization.js';
import type { SubscriptionFilter } from '../../lib/appsync/subscription-filter.js';
import { filterProblem } from './enhanced-filter.js';
import type { SubscriptionDocuments, SubscriptionRequest } from './projection.js';
import {
  errors,
  isRealtimeError,
  KA_MESSAGE,
  parseClientMessage,
  parseStartPayload,
  serverMessages,
  type Headers,
  type RealtimeError,
} from './protocol.js';
import type { HubEntry, SubscriptionHub } from './subscription-hub.js';

/** What the authenticator answers; `RequestAuthenticator.authenticate` fits. */
export type RealtimeAuthentication =
  | { readonly ok: true; readonly caller: Caller; readonly identity: AppSyncIdentity }
  | { readonly ok: false; readonly message: string };

/** `startData` is the raw `payload.data` of a start message (what IAM signs there); absent for the handshake. */
export type Authenticate = (headers: Headers, sourceIp: string, startData?: string) => Promise<RealtimeAuthentication>;

export interface FilterRequest {
  readonly fieldName: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly caller: Caller;
  readonly identity: AppSyncIdentity;
}

/** Plays the subscription resolver's `extensions.setSubscriptionFilter`; null/undefined for none. */
export type SubscriptionFilterProvider = (request: FilterRequest) => SubscriptionFilter | null | undefined;

export interface ActiveSubscription extends HubEntry {
  /** The id the client chose in `start`. */
  readonly clientId: string;
  readonly connection: RealtimeConnection;
  readonly request: SubscriptionRequest;
  readonly caller: Caller;
  /** Subscribers with equal keys receive byte-identical payloads, so each event is projected once per key. */
  readonly projectionKey: string;
  readonly filter: SubscriptionFilter | null;
}

/**
 * Runs the subscription field's resolver at subscribe time: an error refuses the subscription, else
 * the enhanced filter the resolver set (AppSync's `extensions.setSubscriptionFilter`), null for none.
 */
export type SubscribeHook = (request: {
  readonly fieldName: string;
  readonly arguments: Record<string, unknown>;
  readonly variables: Record<string, unknown>;
  readonly caller: Caller;
  readonly identity: unknown;
  readonly headers: Readonly<Record<string, string | undefined>>;
}) => Promise<RealtimeError | { readonly filter: SubscriptionFilter | null }>;

/** Close codes: 4xxx are application codes (RFC 6455 §7.4.2). */
export const CLOSE_CODES = {
  unauthorized: 4401,
  initTimeout: 4408,
  slowConsumer: 1008,
  shuttingDown: 1001,
} as const;

/** What every connection shares with its server. */
export interface ConnectionEnvironment {
  readonly authenticate: Authenticate;
  readonly authorization: FieldAuthorizer;
  readonly documents: SubscriptionDocuments;
  readonly hub: SubscriptionHub<ActiveSubscription>;
  readonly subscriptionFilter: SubscriptionFilterProvider | undefined;
  readonly onSubscribe: SubscribeHook | undefined;
  readonly connectionTimeoutMs: number;
  readonly connectionInitTimeoutMs: number;
  readonly maxBufferedBytes: number;
  readonly maxSubscriptionsPerConnection: number;
  readonly projectionKey: (request: SubscriptionRequest, caller: Caller) => string;
  readonly onSlowConsumer: () => void;
  readonly onClosed: (connection: RealtimeConnection) => void;
  readonly log: (line: string) => void;
}

/**
 * One client socket. Messages are handled strictly in arrival order (a queue
 * of promises) because `start` awaits authentication: a `stop` must never
 * overtake the `start` it refers to.
 */
export class RealtimeConnection {
  readonly id: string;
  readonly #ws: WebSocket;
  readonly #env: ConnectionEnvironment;
  readonly #sourceIp: string;
  readonly #authentication: Promise<RealtimeAuthentication | RealtimeError>;
  readonly #subscriptions = new Map<string, ActiveSubscription>();
  #queue: Promise<void> = Promise.resolve();
  #initTimer: NodeJS.Timeout | undefined;
  #acknowledged = false;
  #closed = false;

  constructor(ws: WebSocket, id: string, sourceIp: string, headers: Headers | RealtimeError, env: ConnectionEnvironment) {
    this.id = id;
    this.#ws = ws;
    this.#env = env;
    this.#sourceIp = sourceIp;
    // Authenticated once at connect; the verdict is reported in answer to connection_init (or the first start).
    this.#authentication = isRealtimeError(headers) ? Promise.resolve(headers) : this.#authenticate(headers);
    // connection_init is optional in AppSync's protocol; a socket that neither inits nor subscribes is closed.
    this.#initTimer = setTimeout(
      () => this.close(CLOSE_CODES.initTimeout, 'Connection initialisation timeout'),
      env.connectionInitTimeoutMs,
    );
    this.#initTimer.unref();
    ws.on('message', (data) => {
      const text = rawText(data);
      this.#queue = this.#queue
        .then(() => this.#handle(text))
        .catch((error: unknown) => env.log(`[realtime] ${this.id}: ${String(error)}`));
    });
    ws.on('close', () => this.#cleanup());
    ws.on('error', (error) => env.log(`[realtime] ${this.id} socket error: ${error.message}`));
  }

  get acknowledged(): boolean {
    return this.#acknowledged;
  }

  keepAlive(): void {
    if (this.#acknowledged) this.deliver(KA_MESSAGE);
  }

  /**
   * Sends unless the client stopped reading: past `maxBufferedBytes` queued
   * the connection is closed (1008) instead of letting one slow consumer grow
   * the server's memory or delay everyone else.
   */
  deliver(message: string): boolean {
    if (this.#closed || this.#ws.readyState !== this.#ws.OPEN) return false;
    if (this.#ws.bufferedAmount > this.#env.maxBufferedBytes) {
      this.#env.onSlowConsumer();
      this.#env.log(`[realtime] ${this.id}: closing slow consumer (${this.#ws.bufferedAmount} bytes buffered)`);
      this.close(CLOSE_CODES.slowConsumer, 'Slow consumer: send buffer limit exceeded');
      return false;
    }
    this.#ws.send(message);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#cleanup();
    this.#ws.close(code, reason);
    // The close frame queues behind unsent data; a peer that is not reading would hold the socket open.
    setTimeout(() => this.#ws.terminate(), 1000).unref();
  }

  async #authenticate(headers: Headers, startData?: string): Promise<RealtimeAuthentication> {
    try {
      return await this.#env.authenticate(headers, this.#sourceIp, startData);
    } catch (error) {
      this.#env.log(`[realtime] ${this.id}: authenticate failed: ${String(error)}`);
      return { ok: false, message: 'You are not authorized to make this call.' };
    }
  }

  async #handle(text: string): Promise<void> {
    if (this.#closed) return;
    const message = parseClientMessage(text);
    switch (message.type) {
      case 'invalid':
        this.deliver(serverMessages.error(message.id, [message.error]));
        return;
      case 'connection_init':
        if (!(await this.#connectionAuthenticated())) return;
        this.#clearInitTimer();
        this.#acknowledged = true;
        this.deliver(serverMessages.connectionAck(this.#env.connectionTimeoutMs));
        // AppSync follows the ack with a first keep-alive right away.
        this.deliver(KA_MESSAGE);
        return;
      case 'start':
        if (!(await this.#connectionAuthenticated())) return;
        await this.#start(message.id, message.payload);
        return;
      case 'stop': {
        const subscription = this.#subscriptions.get(message.id);
        if (!subscription) {
          this.deliver(serverMessages.error(message.id, [errors.unknownOperation(message.id)]));
          return;
        }
        this.#subscriptions.delete(message.id);
        this.#env.hub.remove(subscription.id);
        this.deliver(serverMessages.complete(message.id));
        return;
      }
    }
  }

  /** On failure: connection_error (AppSync's UnauthorizedException, errorCode 401) and close. */
  async #connectionAuthenticated(): Promise<boolean> {
    const authentication = await this.#authentication;
    if (isRealtimeError(authentication) || !authentication.ok) {
      const error = isRealtimeError(authentication) ? authentication : errors.unauthorized(authentication.message);
      this.deliver(serverMessages.connectionError([error]));
      this.close(CLOSE_CODES.unauthorized, error.errorType);
      return false;
    }
    return true;
  }

  async #start(id: string, payload: unknown): Promise<void> {
    const fail = (errorList: readonly RealtimeError[]): void => void this.deliver(serverMessages.error(id, errorList));
    if (this.#subscriptions.has(id)) return fail([errors.duplicated(id)]);
    if (this.#subscriptions.size >= this.#env.maxSubscriptionsPerConnection) {
      return fail([errors.limit(`A connection may hold at most ${this.#env.maxSubscriptionsPerConnection} subscriptions`)]);
    }
    const start = parseStartPayload(payload);
    if (isRealtimeError(start)) return fail([start]);
    // Each subscription is authorized on its own headers (it may use another auth mode than the connection).
    if (!start.authorization) return fail([errors.unauthorized('The start message needs payload.extensions.authorization')]);
    const authentication = await this.#authenticate(start.authorization, start.data);
    if (!authentication.ok) return fail([errors.unauthorized(authentication.message)]);
    const request = this.#env.documents.request(start.query, start.operationName, start.variables);
    if (Array.isArray(request)) return fail(request);
    const { caller, identity } = authentication;
    const fieldName = request.prepared.fieldName;
    const typeName = this.#env.documents.subscriptionTypeName;
    if (!this.#env.authorization.allows(caller, typeName, fieldName)) return fail([errors.fieldUnauthorized(fieldName, typeName)]);
    const subscribed = await this.#env.onSubscribe?.({
      fieldName,
      arguments: request.args,
      variables: start.variables,
      caller,
      identity,
      headers: start.authorization,
    });
    if (isRealtimeError(subscribed)) return fail([subscribed]);
    const filter = subscribed?.filter ?? this.#env.subscriptionFilter?.({ fieldName, arguments: request.args, caller, identity }) ?? null;
    const problem = filter === null ? null : filterProblem(filter);
    if (problem) return fail([errors.validation(problem)]);
    // The socket may have closed, or the same id been started, while authentication was pending.
    if (this.#closed) return;
    if (this.#subscriptions.has(id)) return fail([errors.duplicated(id)]);
    const subscription: ActiveSubscription = {
      id: `${this.id}:${id}`,
      field: fieldName,
      args: request.args,
      clientId: id,
      connection: this,
      request,
      caller,
      projectionKey: this.#env.projectionKey(request, caller),
      filter,
    };
    this.#subscriptions.set(id, subscription);
    this.#env.hub.add(subscription);
    this.#clearInitTimer();
    this.deliver(serverMessages.startAck(id));
  }

  #clearInitTimer(): void {
    if (this.#initTimer) clearTimeout(this.#initTimer);
    this.#initTimer = undefined;
  }

  #cleanup(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearInitTimer();
    for (const subscription of this.#subscriptions.values()) this.#env.hub.remove(subscription.id);
    this.#subscriptions.clear();
    this.#env.onClosed(this);
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

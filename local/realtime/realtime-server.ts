import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { GraphQLSchema } from 'graphql';
import { WebSocketServer } from 'ws';
import type { Caller, FieldAuthorizer } from '../graphql/authorization.js';
import type { DocumentCache } from '../graphql/document-cache.js';
import type { MutationExecuted, MutationSource } from '../graphql/mutation-events.js';
import {
  CLOSE_CODES,
  RealtimeConnection,
  type ActiveSubscription,
  type Authenticate,
  type ConnectionEnvironment,
  type SubscribeHook,
  type SubscriptionFilterProvider,
} from './connection.js';
import { matchesFilter } from './enhanced-filter.js';
import { SubscriptionDocuments, type PreparedDocument, type SubscriptionRequest } from './projection.js';
import { GRAPHQL_WS, handshakeHeaders, offeredSubprotocols, serverMessages } from './protocol.js';
import { mutationPublications, subscriptionsByMutation } from './publisher.js';
import { SubscriptionHub, type HubStats } from './subscription-hub.js';

export interface RealtimeOptions {
  readonly server: HttpServer | HttpsServer;
  /** Also accepted: `/graphql/realtime` and any path ending in `/realtime` (aws-amplify v6 appends `/realtime` to a custom GraphQL URL). */
  readonly path?: string;
  readonly schema: GraphQLSchema;
  /** `RequestAuthenticator.authenticate` fits; called with lower-cased header names. */
  readonly authenticate: Authenticate;
  /** `FieldAuthorization` (local/appsync/field-authorization.ts) fits. */
  readonly authorization: FieldAuthorizer;
  /**
   * Where `start` documents are prepared: the executor's (`executor.documents`), so a
   * document is parsed and validated once for both; an own cache when absent.
   */
  readonly documents?: DocumentCache;
  /**
   * Mutations to publish (`AppSyncExecutor` fits): each MutationExecuted event is
   * published with `publishMutation`, after the request's response (on setImmediate).
   */
  readonly mutations?: MutationSource;
  /** Reported in connection_ack: how long a client waits for a `ka` before giving up. AppSync: 300000. */
  readonly connectionTimeoutMs?: number;
  /** Interval between `ka` messages (AppSync sends one about every minute). */
  readonly keepAliveMs?: number;
  /** A socket that sends neither connection_init nor a start within this time is closed (4408). */
  readonly connectionInitTimeoutMs?: number;
  /** Per-socket send buffer beyond which the socket is closed as a slow consumer (1008). */
  readonly maxBufferedBytes?: number;
  /** Upgrades beyond this many open sockets are refused with HTTP 429. */
  readonly maxConnections?: number;
  /** AppSync's default quota is 100 subscriptions per connection. */
  readonly maxSubscriptionsPerConnection?: number;
  /** Largest client message accepted (bytes); larger ones close the socket (1009). */
  readonly maxMessageBytes?: number;
  /** Enhanced filters, as a subscription resolver would set them with `extensions.setSubscriptionFilter`. */
  readonly subscriptionFilter?: SubscriptionFilterProvider;
  /** The subscription field's resolver, run when a client subscribes (AppSync's subscription resolvers). */
  readonly onSubscribe?: SubscribeHook;
  readonly log?: (line: string) => void;
}

export interface RealtimeStats {
  readonly connections: number;
  readonly acknowledgedConnections: number;
  readonly subscriptions: number;
  readonly hub: HubStats;
  readonly publishes: number;
  readonly deliveries: number;
  readonly slowConsumersClosed: number;
}

export interface RealtimeEndpoint {
  /** Delivers a mutation's result (as the mutation request selected it, keyed by field names) to matching subscribers; returns the number of data messages sent. */
  publish(mutationField: string, result: Readonly<Record<string, unknown>>): number;
  /**
   * Publishes what one mutation request returned: each root mutation field's value,
   * aliases undone (publisher.ts), through `publish`; returns the data messages sent.
   * What `mutations` events are handed to.
   */
  publishMutation(event: MutationExecuted): number;
  /** mutation field → subscription fields it triggers, from `@aws_subscribe`. */
  readonly triggers: ReadonlyMap<string, readonly string[]>;
  stats(): RealtimeStats;
  close(): Promise<void>;
}

const DEFAULTS = {
  path: '/graphql/realtime',
  connectionTimeoutMs: 300_000,
  keepAliveMs: 60_000,
  connectionInitTimeoutMs: 15_000,
  maxBufferedBytes: 1024 * 1024,
  maxConnections: 10_000,
  maxSubscriptionsPerConnection: 100,
  maxMessageBytes: 256 * 1024,
} as const;

/**
 * AppSync's real-time endpoint on an existing HTTP(S) server: `graphql-ws`
 * WebSockets on the server's 'upgrade' event, subscriptions registered in a
 * SubscriptionHub, and `publish` fanning a mutation result out to them.
 */
export function attachRealtime(options: RealtimeOptions): RealtimeEndpoint {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const log = options.log ?? (() => undefined);
  const triggers = subscriptionsByMutation(options.schema);
  const mutationFields = options.schema.getMutationType()?.getFields() ?? {};
  const hub = new SubscriptionHub<ActiveSubscription>();
  const documents = new SubscriptionDocuments(options.schema, options.authorization, options.documents);
  const connections = new Set<RealtimeConnection>();
  const counters = { publishes: 0, deliveries: 0, slowConsumersClosed: 0, nextConnection: 0, nextDocument: 0 };
  const documentIds = new WeakMap<PreparedDocument, number>();
  let closing = false;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: settings.maxMessageBytes,
    // Only `graphql-ws` is ever selected; the `header-…` entry carries credentials, not a protocol.
    handleProtocols: () => GRAPHQL_WS,
  });

  const env: ConnectionEnvironment = {
    authenticate: options.authenticate,
    authorization: options.authorization,
    documents,
    hub,
    subscriptionFilter: options.subscriptionFilter,
    onSubscribe: options.onSubscribe,
    connectionTimeoutMs: settings.connectionTimeoutMs,
    connectionInitTimeoutMs: settings.connectionInitTimeoutMs,
    maxBufferedBytes: settings.maxBufferedBytes,
    maxSubscriptionsPerConnection: settings.maxSubscriptionsPerConnection,
    projectionKey: (request: SubscriptionRequest, caller: Caller) => {
      let documentId = documentIds.get(request.prepared);
      if (documentId === undefined) documentIds.set(request.prepared, (documentId = counters.nextDocument++));
      // Everything that changes what the caller may see is part of the key, Lambda deniedFields included.
      const denied = caller.deniedFields ? [...caller.deniedFields].sort().join(',') : '';
      return `${documentId}|${caller.mode}|${caller.groups.join(',')}|${denied}|${JSON.stringify(request.variables)}`;
    },
    onSlowConsumer: () => void (counters.slowConsumersClosed += 1),
    onClosed: (connection) => void connections.delete(connection),
    log,
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!acceptsPath(url.pathname, settings.path)) {
      // Another 'upgrade' listener may own this path; answer only when nobody else can.
      if (options.server.listenerCount('upgrade') === 1) refuse(socket, 404, 'Not Found');
      return;
    }
    const offered = offeredSubprotocols(req.headers['sec-websocket-protocol']);
    if (!offered.includes(GRAPHQL_WS)) return refuse(socket, 400, 'Bad Request', 'The graphql-ws subprotocol is required');
    if (closing) return refuse(socket, 503, 'Service Unavailable');
    if (connections.size >= settings.maxConnections) return refuse(socket, 429, 'Too Many Requests');
    const headers = handshakeHeaders(offered, url.searchParams);
    const sourceIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (closing) return ws.terminate();
      connections.add(new RealtimeConnection(ws, `c${++counters.nextConnection}`, sourceIp, headers, env));
    });
  };
  options.server.on('upgrade', onUpgrade);

  // One timer for all sockets rather than one per socket: idle connections then cost only their buffers.
  const keepAlive = setInterval(() => {
    for (const connection of connections) connection.keepAlive();
  }, settings.keepAliveMs);
  keepAlive.unref();

  const endpoint: RealtimeEndpoint = {
    triggers,
    publish(mutationField, result) {
      if (!mutationFields[mutationField]) throw new Error(`${mutationField} is not a Mutation field`);
      counters.publishes += 1;
      let deliveries = 0;
      for (const field of triggers.get(mutationField) ?? []) {
        const payloads = new Map<string, string>();
        for (const subscription of hub.publish(field, result)) {
          if (subscription.filter && !matchesFilter(subscription.filter, result)) continue;
          let payload = payloads.get(subscription.projectionKey);
          if (payload === undefined) {
            try {
              payload = documents.project(subscription.request, subscription.caller, result);
            } catch (error) {
              // One subscriber's document must not stop the fan-out to everyone else.
              log(`[realtime] projecting ${field} for ${subscription.id} failed: ${String(error)}`);
              continue;
            }
            payloads.set(subscription.projectionKey, payload);
          }
          if (subscription.connection.deliver(serverMessages.data(subscription.clientId, payload))) deliveries += 1;
        }
      }
      counters.deliveries += deliveries;
      return deliveries;
    },
    publishMutation(event) {
      let deliveries = 0;
      for (const { mutationField, result } of mutationPublications(event)) deliveries += endpoint.publish(mutationField, result);
      return deliveries;
    },
    stats() {
      let acknowledged = 0;
      for (const connection of connections) if (connection.acknowledged) acknowledged += 1;
      return {
        connections: connections.size,
        acknowledgedConnections: acknowledged,
        subscriptions: hub.size,
        hub: hub.stats(),
        publishes: counters.publishes,
        deliveries: counters.deliveries,
        slowConsumersClosed: counters.slowConsumersClosed,
      };
    },
    async close() {
      if (closing) return;
      closing = true;
      unsubscribeMutations();
      clearInterval(keepAlive);
      options.server.off('upgrade', onUpgrade);
      const sockets = [...wss.clients];
      for (const connection of [...connections]) connection.close(CLOSE_CODES.shuttingDown, 'Server shutting down');
      await Promise.race([
        Promise.all(sockets.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((resolve) => ws.once('close', resolve))))),
        new Promise((resolve) => setTimeout(resolve, 2000).unref()),
      ]);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  // Published after the mutation's response is written: fan-out is synchronous work.
  const unsubscribeMutations =
    options.mutations?.onMutationExecuted((event) => {
      setImmediate(() => {
        if (closing) return;
        try {
          endpoint.publishMutation(event);
        } catch (error) {
          log(`[realtime] publishing ${event.operation.name?.value ?? 'a mutation'} failed: ${String(error)}`);
        }
      });
    }) ?? (() => undefined);
  return endpoint;
}

function acceptsPath(pathname: string, path: string): boolean {
  return pathname === path || pathname === '/graphql/realtime' || pathname.endsWith('/realtime');
}

function refuse(socket: Duplex, status: number, statusText: string, body = statusText): void {
  socket.on('error', () => undefined);
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Options left undefined fall back to the defaults instead of overriding them. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * GraphiQL's fetcher for the local AppSync API: queries and mutations as
 * `POST <endpoint>` with the switcher's auth headers; subscriptions over
 * AppSync's real-time WebSocket protocol (realtime.ts), as an Observable that
 * GraphiQL stops by unsubscribing.
 */
import { AuthError, type AuthHeaders, type AuthState } from './auth.js';
import { appSyncSubscription, type ExecutionResultLike, type Observable, type RealtimeEvent, type WebSocketFactory } from './realtime.js';

export interface FetcherParams {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>> | null;
  readonly operationName?: string | null;
}

/** The bits of a graphql-js DocumentNode read here (GraphiQL passes the editor's parsed document). */
interface DocumentLike {
  readonly definitions: ReadonlyArray<{
    readonly kind: string;
    readonly operation?: string;
    readonly name?: { readonly value: string } | null;
  }>;
}

export interface FetcherOptions {
  /** The headers editor's JSON object. */
  readonly headers?: Readonly<Record<string, unknown>>;
  readonly documentAST?: DocumentLike | null;
}

export type Fetcher = (params: FetcherParams, options?: FetcherOptions) => Promise<ExecutionResultLike> | Observable<ExecutionResultLike>;

export interface FetcherEnvironment {
  readonly auth: AuthHeaders;
  readonly state: () => AuthState;
  /** `location.origin` */
  readonly origin: string;
  readonly endpoint: string;
  readonly realtimePath: string;
  readonly fetch: typeof fetch;
  readonly webSocket: WebSocketFactory;
  readonly onRealtimeEvent?: (event: RealtimeEvent) => void;
  /** Told about each credential failure (and success), for the switcher's status line. */
  readonly onAuthResult?: (error: AuthError | undefined) => void;
}

/** Strips comments and string contents, so keywords inside them do not count. */
function code(query: string): string {
  return query.replace(/"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*/g, ' ');
}

/** Whether the operation GraphiQL runs is a subscription: from the parsed document, else from the text. */
export function isSubscription(params: FetcherParams, document?: DocumentLike | null): boolean {
  const name = params.operationName ?? undefined;
  if (document) {
    const operations = document.definitions.filter((definition) => definition.kind === 'OperationDefinition');
    const operation = name
      ? operations.find((candidate) => candidate.name?.value === name)
      : operations.length === 1
        ? operations[0]
        : undefined;
    if (operation) return operation.operation === 'subscription';
  }
  const operations = [...code(params.query).matchAll(/(?:^|[\s}])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g)].map(
    (match) => ({
      operation: match[1],
      name: match[2],
    }),
  );
  const operation = name ? operations.find((candidate) => candidate.name === name) : operations.length === 1 ? operations[0] : undefined;
  return operation?.operation === 'subscription';
}

function realtimeUrl(origin: string, path: string): string {
  const url = new URL(path, origin);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

function failure(error: unknown): ExecutionResultLike {
  if (error instanceof AuthError) return { errors: [{ errorType: 'GraphiQLAuthError', message: error.message }] };
  return { errors: [{ errorType: 'NetworkError', message: error instanceof Error ? error.message : String(error) }] };
}

export function createFetcher(env: FetcherEnvironment): Fetcher {
  const report = (error: unknown): void => env.onAuthResult?.(error instanceof AuthError ? error : undefined);
  /** Credentials for one request; an AuthError is reported to the switcher before it reaches the response. */
  const credentials = async <T>(produce: () => Promise<T>): Promise<T> => {
    try {
      const value = await produce();
      report(undefined);
      return value;
    } catch (error) {
      report(error);
      throw error;
    }
  };

  return (params, options) => {
    const state = env.state();
    if (isSubscription(params, options?.documentAST)) {
      return appSyncSubscription({
        url: realtimeUrl(env.origin, env.realtimePath),
        request: params,
        connectHeaders: () => credentials(() => env.auth.forRealtime(state, 'connect', '{}', options?.headers)),
        startHeaders: (data) => credentials(() => env.auth.forRealtime(state, 'start', data, options?.headers)),
        webSocket: env.webSocket,
        ...(env.onRealtimeEvent ? { onEvent: env.onRealtimeEvent } : {}),
      });
    }
    return (async (): Promise<ExecutionResultLike> => {
      const body = JSON.stringify({
        query: params.query,
        variables: params.variables ?? null,
        operationName: params.operationName ?? null,
      });
      try {
        const headers = await credentials(() => env.auth.forHttp(state, body, options?.headers));
        const fetchGraphQL = env.fetch;
        const response = await fetchGraphQL(new URL(env.endpoint, env.origin).href, { method: 'POST', headers, body });
        const text = await response.text();
        try {
          return JSON.parse(text) as ExecutionResultLike;
        } catch {
          return { errors: [{ errorType: 'BadResponse', message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
        }
      } catch (error) {
        return failure(error);
      }
    })();
  };
}

/**
 * AppSync's real-time WebSocket protocol ("Building a real-time WebSocket
 * client in AWS AppSync"): message shapes, and decoding of the auth headers a
 * client sends at connect time. Pure functions; no sockets here.
 */

/** The only subprotocol AppSync speaks (not the newer `graphql-transport-ws`). */
export const GRAPHQL_WS = 'graphql-ws';
/** Current clients (aws-amplify v6) send the auth headers as a second subprotocol `header-<base64url JSON>`. */
const HEADER_SUBPROTOCOL = 'header-';

export interface RealtimeError {
  readonly errorType: string;
  readonly message: string;
  /** Sent on connection_error; aws-amplify treats 400/401/403 as "do not retry". */
  readonly errorCode?: number;
  readonly [extra: string]: unknown;
}

export type Headers = Record<string, string | undefined>;

export type ClientMessage =
  | { readonly type: 'connection_init' }
  | { readonly type: 'start'; readonly id: string; readonly payload: unknown }
  | { readonly type: 'stop'; readonly id: string }
  | { readonly type: 'invalid'; readonly id?: string; readonly error: RealtimeError };

export interface StartRequest {
  readonly query: string;
  readonly variables: Record<string, unknown>;
  readonly operationName: string | null;
  /** The headers of `payload.extensions.authorization`, names lower-cased; null when absent. */
  readonly authorization: Headers | null;
  /** `payload.data` as sent: what an IAM client signs for this subscription. */
  readonly data: string;
}

export const KA_MESSAGE = '{"type":"ka"}';

export const serverMessages = {
  connectionAck: (connectionTimeoutMs: number): string => JSON.stringify({ type: 'connection_ack', payload: { connectionTimeoutMs } }),
  connectionError: (errors: readonly RealtimeError[]): string => JSON.stringify({ type: 'connection_error', payload: { errors } }),
  startAck: (id: string): string => JSON.stringify({ type: 'start_ack', id }),
  complete: (id: string): string => JSON.stringify({ type: 'complete', id }),
  error: (id: string | undefined, errors: readonly RealtimeError[]): string =>
    JSON.stringify(id === undefined ? { type: 'error', payload: { errors } } : { type: 'error', id, payload: { errors } }),
  /** `payloadJson` is serialized once per distinct projection and shared by every recipient. */
  data: (id: string, payloadJson: string): string => `{"type":"data","id":${JSON.stringify(id)},"payload":${payloadJson}}`,
};

export const errors = {
  unauthorized: (message: string): RealtimeError => ({ errorType: 'UnauthorizedException', message, errorCode: 401 }),
  badRequest: (message: string): RealtimeError => ({ errorType: 'BadRequestException', message, errorCode: 400 }),
  // AppSync's answer to a message type it does not know (observed: "unknown not supported through the realtime channel").
  unsupported: (what: string): RealtimeError => ({
    errorType: 'UnsupportedOperation',
    message: `${what} not supported through the realtime channel`,
  }),
  validation: (message: string, extra: Record<string, unknown> = {}): RealtimeError => ({
    errorType: 'ValidationError',
    message,
    ...extra,
  }),
  fieldUnauthorized: (field: string, type: string): RealtimeError => ({
    errorType: 'Unauthorized',
    message: `Not Authorized to access ${field} on type ${type}`,
  }),
  // AppSync reports a second start with an id already in use as DuplicatedOperationError.
  duplicated: (id: string): RealtimeError => ({ errorType: 'DuplicatedOperationError', message: `Duplicated operation with id ${id}` }),
  unknownOperation: (id: string): RealtimeError => ({ errorType: 'UnknownOperationError', message: `Unknown operation id ${id}` }),
  limit: (message: string): RealtimeError => ({ errorType: 'LimitExceededError', message }),
};

/** The subprotocols a client offered (`Sec-WebSocket-Protocol` is a comma-separated list). */
export function offeredSubprotocols(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/**
 * The auth headers of a connect request: from a `header-<base64url JSON>`
 * subprotocol when present, else from the `header` query parameter (base64
 * JSON, sent with `payload=e30=`). Neither present → no headers (the
 * authenticator then refuses, as AppSync does).
 */
export function handshakeHeaders(subprotocols: readonly string[], search: URLSearchParams): Headers | RealtimeError {
  const fromProtocol = subprotocols.find((p) => p.startsWith(HEADER_SUBPROTOCOL));
  // URLSearchParams turns an unescaped '+' of standard base64 into a space; undo that.
  const encoded = fromProtocol ? fromProtocol.slice(HEADER_SUBPROTOCOL.length) : search.get('header')?.replace(/ /g, '+');
  if (encoded === undefined || encoded === '') return {};
  let parsed: unknown;
  try {
    // Node's base64 decoder accepts both the standard and the URL-safe alphabet, padded or not.
    parsed = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return errors.badRequest('The auth header of the connection request is not base64-encoded JSON');
  }
  if (!isRecord(parsed)) return errors.badRequest('The auth header of the connection request must be a JSON object');
  return lowerCaseHeaders(parsed);
}

export function lowerCaseHeaders(record: Readonly<Record<string, unknown>>): Headers {
  const headers: Headers = {};
  for (const [name, value] of Object.entries(record)) {
    if (typeof value === 'string') headers[name.toLowerCase()] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') headers[name.toLowerCase()] = String(value);
  }
  return headers;
}

export function parseClientMessage(text: string): ClientMessage {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { type: 'invalid', error: errors.badRequest('The message is not valid JSON') };
  }
  if (!isRecord(message)) return { type: 'invalid', error: errors.badRequest('The message must be a JSON object') };
  const id = typeof message['id'] === 'string' ? message['id'] : undefined;
  switch (message['type']) {
    case 'connection_init':
      return { type: 'connection_init' };
    case 'start':
    case 'stop':
      if (id === undefined || id === '')
        return { type: 'invalid', error: errors.badRequest(`A ${String(message['type'])} message needs a string "id"`) };
      return message['type'] === 'start' ? { type: 'start', id, payload: message['payload'] } : { type: 'stop', id };
    default:
      return { type: 'invalid', ...(id === undefined ? {} : { id }), error: errors.unsupported('unknown') };
  }
}

/** `payload.data` is a JSON *string* of `{query, variables, operationName?}`; `payload.extensions.authorization` the headers. */
export function parseStartPayload(payload: unknown): StartRequest | RealtimeError {
  if (!isRecord(payload) || typeof payload['data'] !== 'string') {
    return errors.badRequest('A start message needs payload.data, a JSON string of {query, variables}');
  }
  let data: unknown;
  try {
    data = JSON.parse(payload['data']);
  } catch {
    return errors.badRequest('payload.data is not valid JSON');
  }
  if (!isRecord(data) || typeof data['query'] !== 'string' || data['query'].trim() === '') {
    return errors.badRequest('payload.data must hold a non-empty "query" string');
  }
  const variables = data['variables'] ?? {};
  if (!isRecord(variables)) return errors.badRequest('"variables" must be a JSON object');
  const operationName = data['operationName'] ?? null;
  if (operationName !== null && typeof operationName !== 'string') return errors.badRequest('"operationName" must be a string');
  const extensions = payload['extensions'];
  const authorization =
    isRecord(extensions) && isRecord(extensions['authorization']) ? lowerCaseHeaders(extensions['authorization']) : null;
  return { query: data['query'], variables, operationName, authorization, data: payload['data'] };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function isRealtimeError(value: unknown): value is RealtimeError {
  return isRecord(value) && typeof value['errorType'] === 'string' && typeof value['message'] === 'string';
}

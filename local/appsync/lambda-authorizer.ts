import { randomUUID } from 'node:crypto';
import type { AppSyncAuthorizerEvent, AppSyncIdentityLambda } from 'aws-lambda';
import type { LambdaAuthorizerDeclaration } from '../../declarations/api.js';
import type { GraphQLRequest, InvokeResult } from './execute.js';

/** Runs the authorizer function (a LocalFunction in the runtime) with AppSync's authorizer event. */
export type InvokeAuthorizer = (event: AppSyncAuthorizerEvent) => Promise<InvokeResult>;

export type LambdaAuthorization =
  | {
      readonly ok: true;
      /** `Type.field` coordinates of this API that resolve to null with an Unauthorized error. */
      readonly deniedFields: ReadonlySet<string>;
      readonly identity: AppSyncIdentityLambda;
    }
  | { readonly ok: false; readonly reason: string };

export interface LambdaAuthorizerOptions {
  readonly declaration: LambdaAuthorizerDeclaration;
  readonly invoke: InvokeAuthorizer;
  /** This API's identity, for the event's requestContext and for telling its field ARNs from another API's. */
  readonly apiId: string;
  readonly accountId: string;
  readonly region: string;
  /** Bounds the decision cache; the oldest entries go first. */
  readonly maxCacheEntries?: number;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

interface CachedDecision {
  readonly expiresAt: number;
  readonly decision: LambdaAuthorization;
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const FIELD_ARN = /^arn:aws[a-z-]*:appsync:([^:]+):([^:]+):apis\/([^/]+)\/types\/([^/]+)\/fields\/([^/]+)$/;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * AppSync's AWS_LAMBDA mode: check the token against the declared
 * expression, invoke the authorizer with the request's query, honour its
 * decision, and cache the decision per token for `ttlOverride ?? resultTtlSeconds`.
 *
 * As in AppSync, the cache key is the token alone: an authorizer whose answer
 * depends on the query or variables must return `ttlOverride: 0`. Anything
 * other than a well-formed decision (function error, timeout, malformed
 * response) refuses the request and is not cached.
 */
export class LambdaAuthorizer {
  readonly #options: LambdaAuthorizerOptions;
  readonly #expression: RegExp | undefined;
  readonly #cache = new Map<string, CachedDecision>();
  readonly #now: () => number;

  constructor(options: LambdaAuthorizerOptions) {
    this.#options = options;
    const expression = options.declaration.identityValidationExpression;
    this.#expression = expression === undefined ? undefined : new RegExp(expression);
    this.#now = options.now ?? Date.now;
  }

  async authorize(
    token: string,
    request: GraphQLRequest | undefined,
    headers: Readonly<Record<string, string | undefined>>,
  ): Promise<LambdaAuthorization> {
    if (this.#expression && !this.#expression.test(token))
      return { ok: false, reason: 'token does not match identityValidationExpression' };
    const cached = this.#cache.get(token);
    if (cached && cached.expiresAt > this.#now()) return cached.decision;
    if (cached) this.#cache.delete(token);

    const event: AppSyncAuthorizerEvent = {
      authorizationToken: token,
      requestContext: {
        apiId: this.#options.apiId,
        accountId: this.#options.accountId,
        requestId: randomUUID(),
        queryString: request?.query ?? '',
        ...(request?.operationName ? { operationName: request.operationName } : {}),
        variables: request?.variables ?? {},
      },
      requestHeaders: { ...headers },
    };
    let invocation: InvokeResult;
    try {
      invocation = await this.#options.invoke(event);
    } catch (error) {
      return this.#failed(`invoke failed: ${String(error)}`);
    }
    if (!invocation.ok) return this.#failed(`${invocation.error.errorType}: ${invocation.error.errorMessage}`);
    const response = this.#decision(invocation.payload);
    if ('failure' in response) return this.#failed(response.failure);

    const ttlSeconds = response.ttlOverride ?? this.#options.declaration.resultTtlSeconds;
    if (ttlSeconds > 0) this.#remember(token, { expiresAt: this.#now() + ttlSeconds * 1000, decision: response.decision });
    return response.decision;
  }

  /** Validates the authorizer's answer (AppSyncAuthorizerResult) and turns it into a decision. */
  #decision(payload: unknown): { decision: LambdaAuthorization; ttlOverride: number | undefined } | { failure: string } {
    if (!isRecord(payload) || typeof payload.isAuthorized !== 'boolean') return { failure: 'response has no boolean isAuthorized' };
    const { ttlOverride, resolverContext, deniedFields } = payload;
    if (ttlOverride !== undefined && (typeof ttlOverride !== 'number' || !Number.isFinite(ttlOverride) || ttlOverride < 0)) {
      return { failure: 'ttlOverride must be a non-negative number of seconds' };
    }
    if (!payload.isAuthorized) return { decision: { ok: false, reason: 'authorizer refused the token' }, ttlOverride };
    if (resolverContext !== undefined && !isRecord(resolverContext)) return { failure: 'resolverContext must be a JSON object' };
    if (deniedFields !== undefined && !Array.isArray(deniedFields)) return { failure: 'deniedFields must be an array' };
    const denied = new Set<string>();
    for (const entry of deniedFields ?? []) {
      const coordinate = this.#deniedCoordinate(entry);
      // A malformed entry might be a field the authorizer meant to hide: refuse rather than guess.
      if (coordinate === null) return { failure: `deniedFields entry ${JSON.stringify(entry)} is neither Type.field nor a field ARN` };
      if (coordinate !== undefined) denied.add(coordinate);
    }
    return { decision: { ok: true, deniedFields: denied, identity: { resolverContext: resolverContext ?? {} } }, ttlOverride };
  }

  /** `Type.field` for this API; undefined for another API's field ARN (a shared authorizer); null when malformed. */
  #deniedCoordinate(entry: unknown): string | undefined | null {
    if (typeof entry !== 'string') return null;
    const arn = FIELD_ARN.exec(entry);
    if (arn) {
      const [, region, accountId, apiId, typeName, fieldName] = arn as unknown as [string, string, string, string, string, string];
      if (!NAME.test(typeName) || !NAME.test(fieldName)) return null;
      const ours = region === this.#options.region && accountId === this.#options.accountId && apiId === this.#options.apiId;
      return ours ? `${typeName}.${fieldName}` : undefined;
    }
    const [typeName, fieldName, ...rest] = entry.split('.');
    return typeName && fieldName && rest.length === 0 && NAME.test(typeName) && NAME.test(fieldName) ? entry : null;
  }

  #failed(reason: string): LambdaAuthorization {
    this.#options.log?.(`[appsync] Lambda authorizer failed, request refused: ${reason}`);
    return { ok: false, reason };
  }

  #remember(token: string, entry: CachedDecision): void {
    const max = this.#options.maxCacheEntries ?? 10_000;
    while (this.#cache.size >= max) {
      const oldest = this.#cache.keys().next();
      if (oldest.done) break;
      this.#cache.delete(oldest.value);
    }
    this.#cache.set(token, entry);
  }
}

/**
 * The GraphQL request an authorizer event describes, read leniently from the
 * raw body: authentication runs before the HTTP layer validates the body, and a
 * body it will reject (400) still authenticates against what can be read.
 */
export function graphQLRequestOfBody(body: string | undefined): GraphQLRequest | undefined {
  if (body === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  return {
    query: typeof parsed.query === 'string' ? parsed.query : '',
    variables: isRecord(parsed.variables) ? parsed.variables : null,
    operationName: typeof parsed.operationName === 'string' ? parsed.operationName : null,
  };
}

import type { AuthorizerFunctionName } from './functions.js';
import { PARTNER_TOKEN_EXPRESSION } from './partner-token-format.js';

/**
 * How the GraphQL API authorizes callers, declared once for the stacks and the
 * local runtime. The schema's @aws_* directives then say which of these modes
 * may see each type and field; a type or field without directives is open to
 * the default mode only, as in AppSync.
 */
export type AuthMode = 'API_KEY' | 'AMAZON_COGNITO_USER_POOLS' | 'AWS_IAM' | 'OPENID_CONNECT' | 'AWS_LAMBDA';

/** AppSync's AWS_LAMBDA mode: which function decides, and how long a decision holds. */
export interface LambdaAuthorizerDeclaration<F extends string = string> {
  /** A function-map entry of kind `authorizer`; AppSync invokes its live alias. */
  readonly function: F;
  /** Seconds a decision is cached per token (0 to 3600, 0 = never); the authorizer's `ttlOverride` wins. */
  readonly resultTtlSeconds: number;
  /** Tokens not matching this are refused (401) without invoking the authorizer. */
  readonly identityValidationExpression?: string;
}

/**
 * AppSync's OPENID_CONNECT mode, for what is the same in every environment:
 * how fresh a token must be. The issuer URL and client id differ per
 * environment (each has its own app registration at the identity provider),
 * so they are in stacks/config.ts (`api.openIdConnect`), and the local runtime
 * uses its own dev issuer (local/identity/dev-oidc-issuer.ts).
 *
 * An OIDC caller is who the identity provider says it is, with no groups
 * AppSync understands (`cognito_groups` applies to user pools only): the
 * schema's `@aws_oidc` marks what such a caller may read, and no OIDC caller
 * is an administrator (lib/identity.ts grants that to the user pool's admin
 * group and to IAM only).
 */
export interface OpenIdConnectDeclaration {
  /**
   * Milliseconds a token stays valid after its `iat` (AppSync's `iatTTL`),
   * whatever its own `exp` says: a token the provider issued for a day is
   * still refused after this.
   */
  readonly iatTtlMs: number;
  /**
   * Milliseconds a token stays valid after the user authenticated at the
   * provider (`auth_time`; AppSync's `authTTL`): a long-lived session at the
   * identity provider must sign in again to keep using the API.
   */
  readonly authTtlMs: number;
}

export interface ApiDeclaration<F extends string = string> {
  readonly name: string;
  readonly defaultAuthMode: AuthMode;
  readonly additionalAuthModes: readonly AuthMode[];
  /** API keys expire; AppSync allows 1 to 365 days. */
  readonly apiKeyTtlDays: number;
  /** The user-pool group allowed to write the catalog and move orders along. */
  readonly adminGroup: string;
  /** Present exactly when AWS_LAMBDA is one of the modes (checked by `lambdaAuthorizerOf`). */
  readonly lambdaAuthorizer?: LambdaAuthorizerDeclaration<F>;
  /** Present exactly when OPENID_CONNECT is one of the modes (checked by `openIdConnectOf`). */
  readonly openIdConnect?: OpenIdConnectDeclaration;
  /** What one request may ask for; checked by `apiLimitsOf`. */
  readonly limits: ApiLimits;
}

/**
 * AppSync's per-API request limits ("Configuring GraphQL run complexity, query
 * depth, and introspection"), provisioned by the stacks and enforced by the
 * local runtime (local/appsync/query-limits.ts) from this one declaration.
 */
export interface ApiLimits {
  /**
   * Nested field levels a query may select: 1 to 75, or 0 for none. A field
   * past it is null with a `QueryDepthLimitReached` error (bubbling to its
   * first nullable parent); the fields within it still resolve.
   */
  readonly queryDepthLimit: number;
  /**
   * Resolver executions per request: 1 to 10,000, or 0 for AppSync's default
   * (10,000). Resolvers past it fail with `ResolverExecutionLimitReached`.
   */
  readonly resolverCountLimit: number;
  /** `__schema`/`__type` answered; off, they are validation errors. An environment may override it (stacks/config.ts). */
  readonly introspection: boolean;
  /** Largest request body, in bytes; AppSync's fixed quota is 1 MB. Larger bodies get HTTP 413. */
  readonly maxRequestBytes: number;
}

/** AppSync's bounds on the per-API limits (CreateGraphqlApi: queryDepthLimit 0–75, resolverCountLimit 0–10,000). */
export const MAX_QUERY_DEPTH_LIMIT = 75;
export const MAX_RESOLVER_COUNT_LIMIT = 10_000;
/** AppSync's request size quota. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

export const api = {
  name: 'storefront',
  defaultAuthMode: 'API_KEY',
  additionalAuthModes: ['AMAZON_COGNITO_USER_POOLS', 'AWS_IAM', 'AWS_LAMBDA', 'OPENID_CONNECT'],
  apiKeyTtlDays: 365,
  adminGroup: 'admin',
  // Partner integrations (see resolvers/authorizer): they may read the catalog, never stock levels.
  lambdaAuthorizer: { function: 'authorizer', resultTtlSeconds: 300, identityValidationExpression: PARTNER_TOKEN_EXPRESSION },
  // Staff signing in with the company's identity provider (Okta, Entra ID, Auth0…): they read the catalog with
  // stock levels and watch product updates (the schema's @aws_oidc), nothing of customers' orders. A staff
  // console's token is an hour old at most, and a sign-in holds for a working day.
  openIdConnect: { iatTtlMs: 3_600_000, authTtlMs: 43_200_000 },
  limits: {
    // The deepest query the schema allows has 7 levels (myOrders → items → items → product → reviews →
    // items → id): 10 leaves room for the schema to grow. A field past it is never resolved.
    queryDepthLimit: 10,
    // AppSync's maximum: a page of 100 products with their reviews is 101 resolvers, a page of n
    // orders with every line's product up to 1 + 100n (counted as in local/appsync/query-limits.ts).
    resolverCountLimit: 10_000,
    // On by default (GraphiQL and codegen need it); prod turns it off in stacks/config.ts.
    introspection: true,
    maxRequestBytes: MAX_REQUEST_BYTES,
  },
} as const satisfies ApiDeclaration<AuthorizerFunctionName>;

export function authModes(declaration: Pick<ApiDeclaration, 'defaultAuthMode' | 'additionalAuthModes'>): readonly AuthMode[] {
  return [declaration.defaultAuthMode, ...declaration.additionalAuthModes];
}

/**
 * The API's limits, checked against AppSync's ranges so the stacks and the
 * local runtime fail at start rather than at apply time.
 */
export function apiLimitsOf(declaration: Pick<ApiDeclaration, 'limits'>): ApiLimits {
  const { queryDepthLimit, resolverCountLimit, maxRequestBytes } = declaration.limits;
  const problems: string[] = [];
  if (!isIntegerIn(queryDepthLimit, 0, MAX_QUERY_DEPTH_LIMIT))
    problems.push(`queryDepthLimit must be 0 (none) or 1 to ${MAX_QUERY_DEPTH_LIMIT}, not ${queryDepthLimit}`);
  if (!isIntegerIn(resolverCountLimit, 0, MAX_RESOLVER_COUNT_LIMIT)) {
    problems.push(`resolverCountLimit must be 0 (AppSync's default) or 1 to ${MAX_RESOLVER_COUNT_LIMIT}, not ${resolverCountLimit}`);
  }
  if (!isIntegerIn(maxRequestBytes, 1, MAX_REQUEST_BYTES))
    problems.push(`maxRequestBytes must be 1 to ${MAX_REQUEST_BYTES} (AppSync's quota), not ${maxRequestBytes}`);
  if (problems.length > 0) throw new Error(`declarations/api.ts limits: ${problems.join('; ')}`);
  return declaration.limits;
}

/** The resolver count a request may reach: AppSync reads 0 (unset) as its default, 10,000. */
export function effectiveResolverCountLimit(limits: Pick<ApiLimits, 'resolverCountLimit'>): number {
  return limits.resolverCountLimit === 0 ? MAX_RESOLVER_COUNT_LIMIT : limits.resolverCountLimit;
}

function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** AppSync's bound on an authorizer's result TTL. */
export const MAX_AUTHORIZER_TTL_SECONDS = 3600;

/**
 * The API's Lambda authorizer, checked the way AppSync would check it at
 * apply time, so the stacks and the local runtime fail at start rather than
 * disagree: declared iff AWS_LAMBDA is a mode, TTL in range, expression valid.
 */
export function lambdaAuthorizerOf(declaration: ApiDeclaration): LambdaAuthorizerDeclaration | undefined {
  const authorizer = declaration.lambdaAuthorizer;
  const modeDeclared = authModes(declaration).includes('AWS_LAMBDA');
  if (modeDeclared !== (authorizer !== undefined)) {
    throw new Error(
      modeDeclared
        ? 'AWS_LAMBDA is an auth mode but declarations/api.ts declares no lambdaAuthorizer'
        : 'lambdaAuthorizer is declared but AWS_LAMBDA is not an auth mode',
    );
  }
  if (!authorizer) return undefined;
  const ttl = authorizer.resultTtlSeconds;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_AUTHORIZER_TTL_SECONDS) {
    throw new Error(`lambdaAuthorizer.resultTtlSeconds must be 0 to ${MAX_AUTHORIZER_TTL_SECONDS}, not ${ttl}`);
  }
  if (authorizer.identityValidationExpression !== undefined) new RegExp(authorizer.identityValidationExpression);
  return authorizer;
}

/**
 * AppSync's bounds are wide (any Long; 0 = unchecked). Ours are narrower on
 * purpose: both checks always on, and no token older than a day. A TTL of 0
 * would let a provider's long-lived token in for as long as it says.
 */
export const OIDC_TTL_MS_RANGE = { min: 60_000, max: 86_400_000 } as const;

/**
 * The API's OPENID_CONNECT settings, checked the way `lambdaAuthorizerOf`
 * checks the authorizer: declared iff OPENID_CONNECT is a mode, both TTLs
 * whole milliseconds within OIDC_TTL_MS_RANGE, and a sign-in lasting at least
 * as long as a token (else every token would die by authTTL first, a
 * confusing way to shorten iatTTL).
 */
export function openIdConnectOf(declaration: ApiDeclaration): OpenIdConnectDeclaration | undefined {
  const oidc = declaration.openIdConnect;
  const modeDeclared = authModes(declaration).includes('OPENID_CONNECT');
  if (modeDeclared !== (oidc !== undefined)) {
    throw new Error(
      modeDeclared
        ? 'OPENID_CONNECT is an auth mode but declarations/api.ts declares no openIdConnect'
        : 'openIdConnect is declared but OPENID_CONNECT is not an auth mode',
    );
  }
  if (!oidc) return undefined;
  const { min, max } = OIDC_TTL_MS_RANGE;
  const problems: string[] = [];
  for (const name of ['iatTtlMs', 'authTtlMs'] as const) {
    if (!isIntegerIn(oidc[name], min, max)) problems.push(`${name} must be ${min} to ${max} ms, not ${oidc[name]}`);
  }
  if (problems.length === 0 && oidc.authTtlMs < oidc.iatTtlMs)
    problems.push(`authTtlMs (${oidc.authTtlMs}) must be at least iatTtlMs (${oidc.iatTtlMs})`);
  if (problems.length > 0) throw new Error(`declarations/api.ts openIdConnect: ${problems.join('; ')}`);
  return oidc;
}

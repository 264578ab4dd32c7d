import type { AuthorizerFunctionName } from '../resolvers/functions.js';
import { PARTNER_TOKEN_EXPRESSION } from './partner-tokens.js';

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
}

export const api = {
  name: 'storefront',
  defaultAuthMode: 'API_KEY',
  additionalAuthModes: ['AMAZON_COGNITO_USER_POOLS', 'AWS_IAM', 'AWS_LAMBDA'],
  apiKeyTtlDays: 365,
  adminGroup: 'admin',
  // Partner integrations (see resolvers/authorizer): they may read the catalog, never stock levels.
  lambdaAuthorizer: { function: 'authorizer', resultTtlSeconds: 300, identityValidationExpression: PARTNER_TOKEN_EXPRESSION },
} as const satisfies ApiDeclaration<AuthorizerFunctionName>;

export function authModes(declaration: Pick<ApiDeclaration, 'defaultAuthMode' | 'additionalAuthModes'>): readonly AuthMode[] {
  return [declaration.defaultAuthMode, ...declaration.additionalAuthModes];
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
    throw new Error(modeDeclared ? 'AWS_LAMBDA is an auth mode but lib/api.ts declares no lambdaAuthorizer' : 'lambdaAuthorizer is declared but AWS_LAMBDA is not an auth mode');
  }
  if (!authorizer) return undefined;
  const ttl = authorizer.resultTtlSeconds;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_AUTHORIZER_TTL_SECONDS) {
    throw new Error(`lambdaAuthorizer.resultTtlSeconds must be 0 to ${MAX_AUTHORIZER_TTL_SECONDS}, not ${ttl}`);
  }
  if (authorizer.identityValidationExpression !== undefined) new RegExp(authorizer.identityValidationExpression);
  return authorizer;
}

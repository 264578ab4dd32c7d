import type { AppSyncIdentityCognito, AppSyncResolverEvent } from 'aws-lambda';

/**
 * The event AppSync sends a direct Lambda resolver, typed by the field's parent
 * (source) and arguments. Generated resolver types use this as their second
 * parameter, so a resolver that reads a field the schema lacks fails `tsc`.
 */
export type ResolverEvent<TSource = unknown, TArgs = Record<string, unknown>> = AppSyncResolverEvent<TArgs, TSource>;

/**
 * A caller signed in through a Cognito user pool (the identity shape AppSync
 * sends). An OPENID_CONNECT identity also has `sub` and `claims` but no
 * `username` or `defaultAuthStrategy`: a staff member of the company's
 * identity provider is never taken for a customer of the same `sub`.
 */
export function isCognitoIdentity(identity: unknown): identity is AppSyncIdentityCognito {
  if (typeof identity !== 'object' || identity === null) return false;
  const { sub, username, defaultAuthStrategy } = identity as { sub?: unknown; username?: unknown; defaultAuthStrategy?: unknown };
  return typeof sub === 'string' && typeof username === 'string' && typeof defaultAuthStrategy === 'string' && 'claims' in identity;
}

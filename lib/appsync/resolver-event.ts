import type { AppSyncIdentityCognito, AppSyncResolverEvent } from 'aws-lambda';

/**
 * The event AppSync sends a direct Lambda resolver, typed by the field's parent
 * (source) and arguments. Generated resolver types use this as their second
 * parameter, so a resolver that reads a field the schema lacks fails `tsc`.
 */
export type ResolverEvent<TSource = unknown, TArgs = Record<string, unknown>> = AppSyncResolverEvent<TArgs, TSource>;

/** A caller signed in through a Cognito user pool (the identity shape AppSync sends). */
export function isCognitoIdentity(identity: unknown): identity is AppSyncIdentityCognito {
  return (
    typeof identity === 'object' && identity !== null && typeof (identity as { sub?: unknown }).sub === 'string' && 'claims' in identity
  );
}

import type { SubscriptionInvalidation } from './appsync/subscription-filter.js';
import type { DomainError } from './errors.js';

/**
 * What every resolver function answers for one event (or, with BatchInvoke,
 * for each event of the batch, in order). It is AppSync's documented shape for
 * returning per-item errors from Lambda: a field's value, or an error with its
 * `errorType`. A thrown (unhandled) error is not enveloped: AppSync reports it
 * as `Lambda:Unhandled` with the thrown message, which createResolverHandler
 * makes a generic one carrying only the request id (lib/errors.ts InternalError).
 *
 * Direct Lambda resolvers would turn any thrown error into `Lambda:Unhandled`,
 * losing the domain errorType, so the deployed resolvers unwrap this envelope
 * with `util.error(errorMessage, errorType)` and the local runtime does the same
 * in `unwrapFieldResult`.
 */
export type FieldResult =
  // invalidations: subscriptions a mutation ends (extensions.invalidateSubscriptions in the deployed resolver code).
  | { readonly data: unknown; readonly invalidations?: readonly SubscriptionInvalidation[] }
  | {
      readonly data: null;
      readonly errorType: string;
      readonly errorMessage: string;
      readonly errorInfo: Record<string, unknown> | null;
    };

export const UNHANDLED_ERROR_TYPE = 'Lambda:Unhandled';

export function fieldData(data: unknown): FieldResult {
  return { data: data === undefined ? null : data };
}

export function fieldError(error: DomainError): FieldResult {
  return { data: null, errorType: error.errorType, errorMessage: error.message, errorInfo: error.errorInfo };
}

export type UnwrappedField =
  | { readonly ok: true; readonly data: unknown }
  | { readonly ok: false; readonly errorType: string; readonly message: string; readonly errorInfo: Record<string, unknown> | null };

/** Interprets one FieldResult the way the deployed resolver code does. */
export function unwrapFieldResult(result: unknown): UnwrappedField {
  if (typeof result !== 'object' || result === null || !('data' in result)) {
    return {
      ok: false,
      errorType: UNHANDLED_ERROR_TYPE,
      message: 'Resolver function returned a value that is not a field result envelope',
      errorInfo: null,
    };
  }
  const envelope = result as { data: unknown; errorType?: unknown; errorMessage?: unknown; errorInfo?: unknown };
  if (typeof envelope.errorType === 'string') {
    return {
      ok: false,
      errorType: envelope.errorType,
      message: typeof envelope.errorMessage === 'string' ? envelope.errorMessage : envelope.errorType,
      errorInfo: (envelope.errorInfo as Record<string, unknown> | null | undefined) ?? null,
    };
  }
  return { ok: true, data: envelope.data };
}

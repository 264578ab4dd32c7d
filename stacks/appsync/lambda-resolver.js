/**
 * Resolver code (APPSYNC_JS runtime) shared by every Lambda-backed field.
 *
 * request: builds the exact event a direct Lambda resolver receives, every
 * key present (the shape the local runtime sends, local/appsync/execute.ts).
 * Powertools' AppSync router refuses an event without `request.domainName`,
 * so nothing is forwarded as AppSync happens to hold it: absent values are null.
 *
 * response: a function answers each event with a FieldResult envelope
 * (lib/lambda-response.ts). A domain error becomes a GraphQL error with its
 * errorType and errorInfo; otherwise the field's value is `data`. With
 * BatchInvoke the function answers an array, and AppSync hands each field's
 * resolver its own element as ctx.result, so the same code serves both.
 * On a subscription field the function runs at subscribe time and its `data`
 * holds the subscription's filters (lib/appsync/subscription-filter.ts), set
 * here as AppSync's enhanced filters. An envelope's `invalidations` end the
 * subscriptions whose invalidation filter matches (a mutation's response only).
 *
 * Written for AppSync's restricted JavaScript, and linted with
 * @aws-appsync/eslint-plugin's recommended rules (test/stacks/resolver-lint.test.ts).
 */
import { extensions, util } from '@aws-appsync/utils';

// Deployed as is for Invoke fields; the stacks switch this one line to
// 'BatchInvoke' for fields declared with maxBatchSize (stacks/appsync/resolver-code.ts).
const OPERATION = 'Invoke';

export function request(ctx) {
  return {
    operation: OPERATION,
    payload: {
      arguments: ctx.arguments,
      identity: orNull(ctx.identity),
      source: orNull(ctx.source),
      request: { headers: ctx.request.headers, domainName: orNull(ctx.request.domainName) },
      info: {
        fieldName: ctx.info.fieldName,
        parentTypeName: ctx.info.parentTypeName,
        variables: ctx.info.variables,
        selectionSetList: ctx.info.selectionSetList,
        selectionSetGraphQL: ctx.info.selectionSetGraphQL,
      },
      // Every field is a unit resolver: there is no previous pipeline step, as in a direct resolver's event.
      prev: null,
      stash: ctx.stash,
    },
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const result = ctx.result;
  if (result === null || typeof result !== 'object' || result.data === undefined) {
    util.error('Resolver function returned a value that is not a field result envelope', 'Lambda:Unhandled');
  }
  if (typeof result.errorType === 'string') {
    const message = typeof result.errorMessage === 'string' ? result.errorMessage : result.errorType;
    util.error(message, result.errorType, null, result.errorInfo);
  }
  if (ctx.info.parentTypeName === 'Subscription') {
    setSubscriptionFilters(result.data);
    return null;
  }
  if (Array.isArray(result.invalidations)) {
    for (const invalidation of result.invalidations) {
      extensions.invalidateSubscriptions({ subscriptionField: invalidation.subscriptionField, payload: invalidation.payload });
    }
  }
  return result.data;
}

/** What a subscription field's function answered: null (no filter) or `{ filter, invalidationFilter }`, each conditions or null. */
function setSubscriptionFilters(filters) {
  if (filters === null) {
    return;
  }
  if (typeof filters !== 'object' || Array.isArray(filters)) {
    util.error('A subscription function must answer null or { filter, invalidationFilter }', 'Lambda:Unhandled');
  }
  if (filters.filter) {
    extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(filters.filter));
  }
  if (filters.invalidationFilter) {
    extensions.setSubscriptionInvalidationFilter(util.transform.toSubscriptionFilter(filters.invalidationFilter));
  }
}

function orNull(value) {
  return value === undefined ? null : value;
}

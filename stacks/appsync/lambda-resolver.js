/**
 * Resolver code (APPSYNC_JS runtime) shared by every Lambda-backed field.
 *
 * request: sends the function the same event a direct Lambda resolver would
 * (the shape the local runtime sends and the handlers are typed against).
 *
 * response: a function answers each event with a FieldResult envelope
 * (lib/lambda-response.ts). A domain error becomes a GraphQL error with its
 * errorType and errorInfo; otherwise the field's value is `data`. With
 * BatchInvoke the function answers an array, and AppSync hands each field's
 * resolver its own element as ctx.result, so the same code serves both.
 *
 * Written for AppSync's restricted JavaScript: no try/catch, loops, classes,
 * async code or template literals.
 */
import { util } from '@aws-appsync/utils';

// Deployed as is for Invoke fields; the stacks switch this one line to
// 'BatchInvoke' for fields declared with maxBatchSize (stacks/appsync/resolver-code.ts).
const OPERATION = 'Invoke';

export function request(ctx) {
  return {
    operation: OPERATION,
    payload: {
      arguments: ctx.arguments,
      identity: ctx.identity,
      source: ctx.source,
      request: ctx.request,
      info: ctx.info,
      prev: ctx.prev,
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
  return result.data;
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toSubscriptionFilter } from '../../lib/appsync/subscription-filter.js';
import { AppSyncError, evaluateResolverCode, type EvaluatedResolver } from '../../stacks/appsync/evaluate.js';
import { unwrapFieldResult } from '../../lib/lambda-response.js';
import { matchesFilter } from '../../local/realtime/enhanced-filter.js';
import { lambdaResolverCode, lambdaResolverFile, type LambdaOperation } from '../../stacks/appsync/resolver-code.js';
import { cognitoIdentity, resolverEvent } from '../support/fixtures.js';

/** What onOrderStatusChanged's function answers for alice (resolvers/orders/index.ts orderStatusFilters). */
const ownOrders = (customerId: string) => ({ customerId: { eq: customerId } });
const orderStatusFilters = (customerId: string) => ({ filter: ownOrders(customerId), invalidationFilter: ownOrders(customerId) });

function load(operation: LambdaOperation): EvaluatedResolver {
  return evaluateResolverCode(lambdaResolverCode(operation));
}

const ctx = resolverEvent({
  parentTypeName: 'OrderItem',
  fieldName: 'product',
  arguments: { id: 'p1' },
  identity: cognitoIdentity({ username: 'user-1', groups: ['admin'] }),
  source: { productId: 'p1' },
  headers: { 'x-api-key': 'da2-x' },
});

describe('the AppSync resolver code (stacks/appsync/lambda-resolver.js)', () => {
  it('sends the direct-Lambda-resolver event, with Invoke or BatchInvoke', () => {
    for (const operation of ['Invoke', 'BatchInvoke'] as const) {
      expect(load(operation).request(appSyncContext(ctx))).toEqual({ operation, payload: ctx });
    }
  });

  it('builds every key of the event, null where AppSync has no value (no custom domain, API key caller)', () => {
    const apiKeyCall = resolverEvent({ parentTypeName: 'Query', fieldName: 'product', arguments: { id: 'p1' } });
    const context = appSyncContext(apiKeyCall);
    // As AppSync holds them for an API-key caller on a unit resolver without a custom domain.
    delete (context as { identity?: unknown }).identity;
    delete (context.request as { domainName?: unknown }).domainName;
    const { payload } = load('Invoke').request(context);
    // Key for key what the local runtime sends (local/appsync/execute.ts), which Powertools' router requires,
    // as the function receives it (serialized: a key left undefined would be missing).
    expect(JSON.parse(JSON.stringify(payload))).toStrictEqual(apiKeyCall);
    expect(payload).toMatchObject({ identity: null, source: null, prev: null, request: { domainName: null } });
    expect(Object.keys(payload)).toEqual(['arguments', 'identity', 'source', 'request', 'info', 'prev', 'stash']);
  });

  it('sets the enhanced filters a subscription function answers, and returns null for the field', () => {
    const module = load('Invoke');
    const subscribe = { ...ctx, info: { ...ctx.info, parentTypeName: 'Subscription', fieldName: 'onOrderStatusChanged' } };
    const filters = orderStatusFilters('alice');
    expect(module.response({ ...subscribe, result: { data: filters } })).toBeNull();
    const expected = toSubscriptionFilter(ownOrders('alice'));
    expect(expected).toEqual({ filterGroup: [{ filters: [{ fieldName: 'customerId', operator: 'eq', value: 'alice' }] }] });
    expect(module.calls).toEqual([
      ['setSubscriptionFilter', expected],
      ['setSubscriptionInvalidationFilter', expected],
    ]);
    // The filter AWS receives delivers what the local runtime's filter evaluation delivers.
    expect(matchesFilter(expected, { id: 'o1', customerId: 'alice', status: 'PAID' })).toBe(true);
    expect(matchesFilter(expected, { id: 'o2', customerId: 'bob', status: 'PAID' })).toBe(false);

    module.calls.length = 0;
    expect(module.response({ ...subscribe, result: { data: null } })).toBeNull();
    expect(module.calls).toEqual([]);
    for (const data of ['everything', [ownOrders('alice')]]) {
      expect(() => module.response({ ...subscribe, result: { data } }), JSON.stringify(data)).toThrowError(
        expect.objectContaining({ type: 'Lambda:Unhandled' }) as Error,
      );
    }
    expect(module.calls).toEqual([]);
  });

  it("ends the subscriptions a mutation's envelope names, and answers its data", () => {
    const module = load('Invoke');
    const mutation = { ...ctx, info: { ...ctx.info, parentTypeName: 'Mutation', fieldName: 'cancelOrder' } };
    const invalidation = { subscriptionField: 'onOrderStatusChanged', payload: { customerId: 'alice' } };
    const order = { id: 'o1', customerId: 'alice', status: 'CANCELLED' };
    expect(module.response({ ...mutation, result: { data: order, invalidations: [invalidation] } })).toEqual(order);
    expect(module.calls).toEqual([['invalidateSubscriptions', invalidation]]);
    // The subscription's invalidation filter matches that payload (AppSync evaluates it like an event filter).
    expect(matchesFilter(toSubscriptionFilter(orderStatusFilters('alice').invalidationFilter), invalidation.payload)).toBe(true);
    expect(matchesFilter(toSubscriptionFilter(orderStatusFilters('bob').invalidationFilter), invalidation.payload)).toBe(false);
  });

  it('differs between the variants in the operation only', () => {
    const invoke = lambdaResolverCode('Invoke').split('\n');
    const batch = lambdaResolverCode('BatchInvoke').split('\n');
    expect(invoke).toEqual(readFileSync(lambdaResolverFile, 'utf8').split('\n'));
    expect(batch.filter((line, i) => line !== invoke[i])).toEqual(["const OPERATION = 'BatchInvoke';"]);
  });

  it('unwraps FieldResult envelopes exactly as the local runtime does', () => {
    const { response } = load('BatchInvoke');
    const envelopes: unknown[] = [
      { data: { id: 'p1', name: 'Book' } },
      { data: null },
      { data: 0 },
      { data: null, errorType: 'NotFound', errorMessage: 'No product p1', errorInfo: { id: 'p1' } },
      { data: null, errorType: 'ConditionFailed', errorMessage: 'Version changed', errorInfo: null },
      { data: null, errorType: 'InvalidState' },
      null,
      'not an envelope',
      { value: 1 },
    ];
    for (const envelope of envelopes) {
      const expected = unwrapFieldResult(envelope);
      let actual: ReturnType<typeof unwrapFieldResult>;
      try {
        actual = { ok: true, data: response({ ...ctx, result: envelope }) };
      } catch (error) {
        if (!(error instanceof AppSyncError)) throw error;
        expect(error.data ?? null).toBeNull();
        actual = {
          ok: false,
          errorType: error.type ?? '',
          message: error.message,
          errorInfo: (error.errorInfo as Record<string, unknown> | null | undefined) ?? null,
        };
      }
      expect(actual, JSON.stringify(envelope)).toEqual(expected);
    }
  });

  it("reports a failed invocation with AppSync's own error type", () => {
    const { response } = load('Invoke');
    expect(() => response({ ...ctx, error: { message: 'Task timed out', type: 'Lambda:Unhandled' }, result: null })).toThrowError(
      expect.objectContaining({ message: 'Task timed out', type: 'Lambda:Unhandled' }) as Error,
    );
  });

  it('exports exactly the two handlers AppSync calls (what the code may contain: test/stacks/resolver-lint.test.ts)', () => {
    const code = readFileSync(lambdaResolverFile, 'utf8');
    expect(code.match(/^export function (\w+)/gm)).toEqual(['export function request', 'export function response']);
  });
});

/**
 * The resolver context AppSync hands the code for a field whose direct-resolver
 * event would be `event`: the same members, plus what the context holds beyond
 * the event (`args`, `info` extras, a `request` with more than headers).
 */
function appSyncContext(event: ReturnType<typeof resolverEvent>): Record<string, unknown> & { request: Record<string, unknown> } {
  return {
    ...structuredClone(event),
    args: event.arguments,
    request: { ...structuredClone(event.request), extraneous: 'not part of the event' },
    info: { ...structuredClone(event.info), extraneous: 'not part of the event' },
    prev: { result: {} },
    result: undefined,
  };
}

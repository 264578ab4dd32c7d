import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { DomainError } from '../../lib/errors.js';
import { createResolverHandler, type FunctionResolvers } from '../../lib/resolver-handler.js';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import { functions } from '../../resolvers/functions.js';

const context = {} as Context;
const silent = new Logger({ logLevel: 'SILENT' });

const event = (parentTypeName: string, fieldName: string, args: Record<string, unknown> = {}, source: unknown = null): ResolverEvent =>
  ({
    arguments: args,
    identity: null,
    source,
    request: { headers: {}, domainName: null },
    info: { parentTypeName, fieldName, variables: {}, selectionSetList: [], selectionSetGraphQL: '' },
    prev: null,
    stash: {},
  }) as ResolverEvent;

const unused = async (): Promise<never> => {
  throw new Error('not called');
};

function catalogHandler(overrides: Partial<Record<string, unknown>>) {
  const resolvers = {
    'Query.product': unused,
    'Query.products': unused,
    'Mutation.createProduct': unused,
    'Mutation.updateProduct': unused,
    'Mutation.adjustStock': unused,
    'OrderItem.product': unused,
    ...overrides,
  } as unknown as FunctionResolvers<typeof functions.catalog>;
  return createResolverHandler(functions.catalog, resolvers, silent);
}

describe('createResolverHandler', () => {
  it('routes by parent type and field and wraps the value as { data }', async () => {
    const handler = catalogHandler({ 'Query.product': async ({ id }: { id: string }) => ({ id }) });
    expect(await handler(event('Query', 'product', { id: 'p1' }), context)).toEqual({ data: { id: 'p1' } });
  });

  it('turns a DomainError into the errorType envelope', async () => {
    const handler = catalogHandler({
      'Query.product': async () => {
        throw new DomainError('NotFound', 'Product p1 not found', { id: 'p1' });
      },
    });
    expect(await handler(event('Query', 'product', { id: 'p1' }), context)).toEqual({
      data: null,
      errorType: 'NotFound',
      errorMessage: 'Product p1 not found',
      errorInfo: { id: 'p1' },
    });
  });

  it('rethrows unexpected errors so Lambda records a function error (AppSync: Lambda:Unhandled)', async () => {
    const handler = catalogHandler({
      'Query.product': async () => {
        throw new TypeError('bug');
      },
    });
    await expect(handler(event('Query', 'product'), context)).rejects.toThrow('bug');
    // The next invocation on the same warm environment is unaffected.
    const ok = catalogHandler({ 'Query.product': async () => null });
    expect(await ok(event('Query', 'product'), context)).toEqual({ data: null });
  });

  it('answers a BatchInvoke array with one envelope per event, in order', async () => {
    const handler = catalogHandler({
      'OrderItem.product': async (events: ResolverEvent<{ productId: string }>[]) => events.map((e) => ({ id: e.source.productId })),
    });
    const events = ['a', 'b', 'c'].map((productId) => event('OrderItem', 'product', {}, { productId }));
    expect(await handler(events, context)).toEqual([{ data: { id: 'a' } }, { data: { id: 'b' } }, { data: { id: 'c' } }]);
  });

  it('gives every event of a batch the domain error the batch resolver threw', async () => {
    const handler = catalogHandler({
      'OrderItem.product': async () => {
        throw new DomainError('ValidationError', 'bad');
      },
    });
    const result = await handler([event('OrderItem', 'product'), event('OrderItem', 'product')], context);
    expect(result).toEqual([
      { data: null, errorType: 'ValidationError', errorMessage: 'bad', errorInfo: null },
      { data: null, errorType: 'ValidationError', errorMessage: 'bad', errorInfo: null },
    ]);
  });

  it('refuses to build a handler missing a declared field', () => {
    const resolvers = { 'Query.product': unused } as unknown as FunctionResolvers<typeof functions.catalog>;
    expect(() => createResolverHandler(functions.catalog, resolvers, silent)).toThrow(/Query.products/);
  });
});

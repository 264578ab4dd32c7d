import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { DomainError, InternalError } from '../../lib/errors.js';
import { createResolverHandler, type FunctionResolvers } from '../../lib/resolver-handler.js';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import { functions } from '../../declarations/functions.js';
import { resolverEvent } from '../support/fixtures.js';

const context = {} as Context;
const silent = new Logger({ logLevel: 'SILENT' });

/** An API-key caller's event for `parentTypeName.fieldName` (support/fixtures.ts has the full shape). */
const event = (parentTypeName: string, fieldName: string, args: Record<string, unknown> = {}, source: unknown = null): ResolverEvent =>
  resolverEvent({ parentTypeName, fieldName, arguments: args, source });

const unused = async (): Promise<never> => {
  throw new Error('not called');
};

function catalogHandler(overrides: Partial<Record<string, unknown>>, logger: Logger = silent) {
  const resolvers = {
    'Query.product': unused,
    'Query.products': unused,
    'Mutation.createProduct': unused,
    'Mutation.updateProduct': unused,
    'Mutation.adjustStock': unused,
    'OrderItem.product': unused,
    ...overrides,
  } as unknown as FunctionResolvers<typeof functions.catalog>;
  return createResolverHandler(functions.catalog, resolvers, logger);
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
    await expect(handler(event('Query', 'product'), context)).rejects.toThrow(InternalError);
    // The next invocation on the same warm environment is unaffected.
    const ok = catalogHandler({ 'Query.product': async () => null });
    expect(await ok(event('Query', 'product'), context)).toEqual({ data: null });
  });

  describe('an unexpected error reaches the client as a generic message, and the log in full', () => {
    // What DynamoDB's client throws when DynamoDB is down: the message names the internal endpoint.
    const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED', name: 'Error' });
    const withRequestId = { awsRequestId: '8f5c2a1e-0000-4000-8000-000000000001' } as Context;

    function logged() {
      const logger = new Logger({ logLevel: 'SILENT' });
      const error = vi.spyOn(logger, 'error');
      return { logger, error };
    }

    it('throws only the request id, and logs the original error with it at ERROR', async () => {
      const { logger, error } = logged();
      const original = refused();
      const handler = catalogHandler(
        {
          'Query.product': async () => {
            throw original;
          },
        },
        logger,
      );
      const thrown = await handler(event('Query', 'product', { id: 'p1' }), withRequestId).then(
        () => expect.unreachable('the handler should have thrown'),
        (e: unknown) => e as Error,
      );
      expect(thrown).toBeInstanceOf(InternalError);
      expect(thrown.message).toBe('An internal error occurred (request id 8f5c2a1e-0000-4000-8000-000000000001)');
      expect(thrown.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|:8000/);
      expect(thrown.stack ?? '').not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      expect(error).toHaveBeenCalledWith(
        expect.stringContaining('request id'),
        expect.objectContaining({ requestId: '8f5c2a1e-0000-4000-8000-000000000001', field: 'Query.product', error: original }),
      );
    });

    it('does the same for a BatchInvoke and for the router itself', async () => {
      const { logger, error } = logged();
      const handler = catalogHandler(
        {
          'OrderItem.product': async () => {
            throw refused();
          },
        },
        logger,
      );
      await expect(handler([event('OrderItem', 'product'), event('OrderItem', 'product')], withRequestId)).rejects.toThrow(
        /^An internal error occurred \(request id 8f5c2a1e-/,
      );
      // A field this function does not serve: Powertools' router throws its own error.
      const unrouted = await handler(event('Query', 'nothing'), withRequestId).catch((e: unknown) => e as Error);
      expect(unrouted).toBeInstanceOf(InternalError);
      expect(error).toHaveBeenCalledWith(
        expect.any(String),
        expect.objectContaining({ requestId: '8f5c2a1e-0000-4000-8000-000000000001' }),
      );
    });

    it('keeps domain errors as they are: they are meant for the client', async () => {
      const { logger, error } = logged();
      const handler = catalogHandler(
        {
          'Query.product': async () => {
            throw new DomainError('ValidationError', 'id must be an id');
          },
        },
        logger,
      );
      expect(await handler(event('Query', 'product'), withRequestId)).toMatchObject({
        errorType: 'ValidationError',
        errorMessage: 'id must be an id',
      });
      expect(error).not.toHaveBeenCalled();
    });

    it('names an unknown request id rather than failing when the context lacks one', async () => {
      const handler = catalogHandler({
        'Query.product': async () => {
          throw refused();
        },
      });
      await expect(handler(event('Query', 'product'), context)).rejects.toThrow('An internal error occurred (request id unknown)');
    });
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

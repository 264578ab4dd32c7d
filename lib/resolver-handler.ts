import { AppSyncGraphQLResolver } from '@aws-lambda-powertools/event-handler/appsync-graphql';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { Resolvers } from '../generated/graphql.js';
import type { FieldCoordinate, ResolverFunctionDeclaration } from '../declarations/functions.js';
import type { ResolverEvent } from './appsync/resolver-event.js';
import type { SubscriptionFilters } from './appsync/subscription-filter.js';
import { DomainError, InternalError } from './errors.js';
import { fieldData, fieldError, type FieldResult } from './lambda-response.js';
import { deferredLogger, logsWritten, type DeferredLogger } from './logger.js';
import { flushMetrics } from './metrics.js';

// Matches any resolver signature in the type-level extractions below.
type AnyFunction = (...args: never[]) => unknown;
type FieldResolverOf<C> = C extends `${infer T extends keyof Resolvers}.${infer F}`
  ? F extends keyof NonNullable<Resolvers[T]>
    ? Extract<NonNullable<NonNullable<Resolvers[T]>[F]>, AnyFunction>
    : never
  : never;
type SubscriptionFields = NonNullable<Resolvers['Subscription']>;
type SubscriptionArgsOf<F> = F extends keyof SubscriptionFields
  ? Parameters<Extract<NonNullable<SubscriptionFields[F]>, { subscribe: AnyFunction }>['subscribe']>[1]
  : never;

/**
 * A resolver on a subscription field runs when a client subscribes, as in
 * AppSync: throwing refuses the subscription (e.g. another customer's
 * orders). Its value is the subscription's enhanced filters, or null for none:
 * the deployed resolver code sets them with `extensions.setSubscriptionFilter`.
 */
export type SubscribeResolverOf<F> = (
  args: SubscriptionArgsOf<F>,
  event: ResolverEvent<null, SubscriptionArgsOf<F>>,
) => Promise<SubscriptionFilters | null> | SubscriptionFilters | null;

/**
 * A BatchInvoke resolver: all events of a batch in, one result per event out,
 * same order. Parent, arguments and result types come from the per-field
 * generated resolver type, so a batch resolver is held to the schema too.
 */
export type BatchResolverOf<C> = (
  events: Array<Parameters<FieldResolverOf<C>>[1]>,
) => Promise<Array<Awaited<ReturnType<FieldResolverOf<C>>>>>;

export type FunctionResolvers<D extends ResolverFunctionDeclaration> = {
  [C in keyof D['fields'] & FieldCoordinate]: C extends `Subscription.${infer F}`
    ? SubscribeResolverOf<F>
    : D['fields'][C] extends { maxBatchSize: number }
      ? BatchResolverOf<C>
      : FieldResolverOf<C>;
};

export type ResolverHandler = (event: ResolverEvent | ResolverEvent[], context: Context) => Promise<FieldResult | FieldResult[]>;

type AnyFieldResolver = (args: Record<string, unknown>, event: ResolverEvent) => unknown;
type AnyBatchResolver = (events: ResolverEvent[]) => Promise<unknown[]>;

/**
 * Builds a function's Lambda handler: Powertools' AppSync GraphQL router
 * dispatches on `info.parentTypeName`/`info.fieldName`, and every answer is a
 * FieldResult envelope so domain errors reach the client with their errorType.
 *
 * Powertools turns any error a route throws into data, so unexpected errors are
 * carried out of the router here and thrown: Lambda records a function error
 * and AppSync reports `Lambda:Unhandled`, as for any other crashing function.
 * What is thrown is an InternalError whose message is only the request id:
 * Lambda hands a thrown error's message to AppSync, which shows it to the
 * client, and an SDK error's message names internals (`connect ECONNREFUSED
 * <endpoint>`, DynamoDB's validation wording, table names). The original error
 * is logged at ERROR, with its stack, under the same request id.
 * One invocation runs at a time per execution environment, so a module-level
 * slot is enough. Each invocation ends with one EMF line of its counters
 * (DynamoDB calls, cache hits and misses: lib/metrics.ts).
 *
 * The logger (the router's and ours) is a Powertools Logger built only when
 * there is a line to write (lib/logger.ts): init does not load it, and an
 * invocation waits for its lines to be written before it answers.
 */
export function createResolverHandler<D extends ResolverFunctionDeclaration>(
  declaration: D,
  resolvers: FunctionResolvers<D>,
  logger: Logger | DeferredLogger = deferredLogger({ serviceName: 'storefront' }),
): ResolverHandler {
  const app = new AppSyncGraphQLResolver({ logger });
  let unhandled: { error: unknown; field: string } | undefined;

  const settle = async <T>(field: string, work: () => Promise<T>, onDomainError: (error: DomainError) => T): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DomainError) return onDomainError(error);
      unhandled = { error, field };
      // A placeholder the router returns; the invocation throws instead (below).
      return onDomainError(new DomainError('InvalidState', 'unhandled'));
    }
  };

  /** Logs the full error for the function's log and returns what the client may see. */
  const conceal = (error: unknown, field: string | undefined, context: Context): InternalError => {
    if (error instanceof InternalError) return error;
    const concealed = new InternalError(context?.awsRequestId);
    logger.error('Unhandled error; the client was given only the request id', {
      requestId: concealed.requestId,
      ...(field ? { field } : {}),
      error: error instanceof Error ? error : new Error(String(error)),
    });
    return concealed;
  };

  const routes = resolvers as unknown as Record<string, AnyFieldResolver | AnyBatchResolver>;
  for (const [coordinate, route] of Object.entries(declaration.fields)) {
    const [typeName, fieldName] = coordinate.split('.') as [string, string];
    const implementation = routes[coordinate];
    if (!implementation) throw new Error(`${coordinate} is declared for this function but has no resolver`);
    if (route?.maxBatchSize) {
      const batch = implementation as AnyBatchResolver;
      app.batchResolver(
        async (events: ResolverEvent[]) =>
          settle(
            coordinate,
            async () => (await batch(events)).map(fieldData),
            (error) => events.map(() => fieldError(error)),
          ),
        { typeName, fieldName, aggregate: true },
      );
    } else {
      const single = implementation as AnyFieldResolver;
      app.resolver(
        async (args: Record<string, unknown>, { event }: { event: ResolverEvent }) =>
          settle(coordinate, async () => fieldData(await single(args, event)), fieldError),
        { typeName, fieldName },
      );
    }
  }

  return async (event, context) => {
    unhandled = undefined;
    try {
      const result = (await app.resolve(event, context)) as FieldResult | FieldResult[];
      // Assigned inside routes during resolve(); TS cannot see that through the closure.
      const failure = unhandled as { error: unknown; field: string } | undefined;
      if (failure) throw conceal(failure.error, failure.field, context);
      return result;
    } catch (error) {
      // Also the router's own failures (no route for the field, a malformed batch answer).
      throw conceal(error, undefined, context);
    } finally {
      // The invocation's log lines first (a deferred logger may still be loading), then its metrics line.
      try {
        const writing = logsWritten();
        if (writing) await writing;
      } finally {
        flushMetrics();
      }
    }
  };
}

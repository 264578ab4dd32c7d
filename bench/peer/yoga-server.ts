/**
 * The peer of the load comparison: a plain GraphQL server (graphql-yoga 5)
 * serving the same schema and calling the same function bundles, in-process,
 * against the same DynamoDB Local and redis-server as the runtime (their
 * addresses come in the functions' environments). It is what "a local
 * runtime at least as fast as a plain GraphQL server" is measured against.
 *
 * What it does like the runtime, so the comparison is execution against
 * execution: it checks the API key and verifies user-pool tokens with the same
 * dev pool's key (aws-jwt-verify, as AppSync's verifier), and calls each
 * routed field's handler with AppSync's direct-resolver event (the executor's
 * own shape, bench/peer/resolver-events.ts); fields with `maxBatchSize`
 * (OrderItem.product) are gathered per request and tick and sent as one array,
 * as BatchInvoke does. What it leaves out, as a plain server would: per-field
 * @aws_* authorization, query limits, worker isolation, and Lambda's log and
 * metrics lines (AWS_LAMBDA_FUNCTION_NAME is unset, so the bundles write none).
 *
 * Started by bench/peer/compare.ts with one argument, a YogaServerConfig as JSON.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { AppSyncIdentity, Context as LambdaContext } from 'aws-lambda';
import { GraphQLError, isObjectType, type GraphQLFieldResolver, type GraphQLResolveInfo } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { fieldRoutes } from '../../declarations/check.js';
import type { ResolvedField } from '../../declarations/functions.js';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import { UNHANDLED_ERROR_TYPE, unwrapFieldResult } from '../../lib/lambda-response.js';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import { userPoolIdentity } from '../../local/appsync/authentication.js';
import { DevUserPool } from '../../local/identity/dev-user-pool.js';
import type { InvocationCounts, YogaServerConfig, YogaServerInfo } from './protocol.js';
import { resolverEventOf } from './resolver-events.js';
import { sendReady, serveRequests } from './server-process.js';

type Handler = (event: unknown, context: LambdaContext) => Promise<unknown>;

interface PeerContext {
  readonly identity: AppSyncIdentity;
  readonly headers: Record<string, string>;
  /** Batched fields' pending events of this request, per `Type.field`. */
  readonly batches: Map<string, PendingItem[]>;
}

interface PendingItem {
  readonly event: ResolverEvent;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

const parsedConfig = JSON.parse(process.argv[2] ?? 'null') as YogaServerConfig | null;
if (!parsedConfig) {
  console.error('usage: yoga-server.ts <YogaServerConfig as JSON>');
  process.exit(2);
}
const config: YogaServerConfig = parsedConfig;

/**
 * One process serves every function, so their environments must agree on
 * every variable they share (tables, endpoints, cache); Powertools' service
 * name is set per function while its bundle initializes.
 */
function sharedEnvironment(environments: YogaServerConfig['functionEnvironments'], names: readonly string[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const name of names) {
    for (const [key, value] of Object.entries(environments[name as keyof typeof environments] ?? {})) {
      if (key === 'POWERTOOLS_SERVICE_NAME') continue;
      if (key in merged && merged[key] !== value) throw new Error(`Functions disagree on ${key}; one process cannot serve them all`);
      merged[key] = value;
    }
  }
  return merged;
}

const routes = fieldRoutes();
const routedFunctions = [...new Set([...routes.values()].map((route) => route.functionName))];
Object.assign(process.env, sharedEnvironment(config.functionEnvironments, routedFunctions));
delete process.env.AWS_LAMBDA_FUNCTION_NAME;

const handlers = new Map<string, Handler>();
for (const name of routedFunctions) {
  const bundle = config.bundles.find((candidate) => candidate.name === name);
  if (!bundle) throw new Error(`No bundle for function ${name}`);
  process.env.POWERTOOLS_SERVICE_NAME = name;
  const module = (await import(pathToFileURL(bundle.file).href)) as { handler?: Handler };
  if (typeof module.handler !== 'function') throw new Error(`${bundle.file} exports no handler`);
  handlers.set(name, module.handler);
}

const invocations: InvocationCounts = Object.fromEntries(routedFunctions.map((name) => [name, 0]));

function lambdaContext(functionName: string): LambdaContext {
  const deadline = Date.now() + 30_000;
  const noop = (): void => undefined;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'peer',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: noop,
    fail: noop,
    succeed: noop,
  };
}

async function invoke(functionName: string, event: ResolverEvent | ResolverEvent[]): Promise<unknown> {
  const handler = handlers.get(functionName);
  if (!handler) throw new Error(`No handler for ${functionName}`);
  invocations[functionName] = (invocations[functionName] ?? 0) + 1;
  return handler(event, lambdaContext(functionName));
}

function fieldValue(payload: unknown): unknown {
  const field = unwrapFieldResult(payload);
  if (!field.ok) throw new GraphQLError(field.message, { extensions: { errorType: field.errorType, errorInfo: field.errorInfo } });
  return field.data;
}

const unhandled = (error: unknown): GraphQLError =>
  new GraphQLError(error instanceof Error ? error.message : String(error), { extensions: { errorType: UNHANDLED_ERROR_TYPE } });

/** Sends the gathered events of one batched field as arrays of at most `maxBatchSize`, as AppSync's BatchInvoke. */
async function flush(route: ResolvedField, items: readonly PendingItem[]): Promise<void> {
  const size = route.maxBatchSize ?? items.length;
  for (let start = 0; start < items.length; start += size) {
    const chunk = items.slice(start, start + size);
    void invoke(
      route.functionName,
      chunk.map((item) => item.event),
    ).then(
      (payload) => {
        if (!Array.isArray(payload) || payload.length !== chunk.length) {
          for (const item of chunk) item.reject(unhandled(`BatchInvoke response must be an array of ${chunk.length} results`));
          return;
        }
        chunk.forEach((item, index) => {
          try {
            item.resolve(fieldValue(payload[index]));
          } catch (error) {
            item.reject(error);
          }
        });
      },
      (error: unknown) => {
        for (const item of chunk) item.reject(unhandled(error));
      },
    );
  }
}

/** The next tick after the current promise jobs (DataLoader's schedule): every item of a list has asked by then. */
const afterPromiseJobs = (job: () => void): void => void Promise.resolve().then(() => process.nextTick(job));

function resolverFor(route: ResolvedField): GraphQLFieldResolver<unknown, PeerContext> {
  const key = `${route.typeName}.${route.fieldName}`;
  return (source, args, context, info: GraphQLResolveInfo) => {
    const event = resolverEventOf(source, args, context, info);
    if (!route.maxBatchSize)
      return invoke(route.functionName, event).then(fieldValue, (error: unknown) => Promise.reject(unhandled(error)));
    return new Promise((resolve, reject) => {
      let pending = context.batches.get(key);
      if (!pending) {
        const items: PendingItem[] = [];
        pending = items;
        context.batches.set(key, items);
        afterPromiseJobs(() => {
          context.batches.delete(key);
          void flush(route, items);
        });
      }
      pending.push({ event, resolve, reject });
    });
  };
}

const schema = buildAppSyncSchema();
for (const route of routes.values()) {
  if (route.typeName === 'Subscription') continue;
  const type = schema.getType(route.typeName);
  const field = isObjectType(type) ? type.getFields()[route.fieldName] : undefined;
  if (!field) throw new Error(`The schema has no field ${route.typeName}.${route.fieldName}`);
  field.resolve = resolverFor(route) as GraphQLFieldResolver<unknown, unknown>;
}

const userPool = new DevUserPool({ keyFile: config.userPoolKeyFile });

/** API key or user-pool token, as the runtime accepts them; anything else is refused. */
async function identityOf(headers: Headers, sourceIp: string): Promise<AppSyncIdentity | Error> {
  const authorization = headers.get('authorization');
  if (authorization) {
    try {
      return userPoolIdentity(await userPool.verify(authorization.replace(/^Bearer\s+/i, '')), sourceIp);
    } catch {
      return new Error('Unauthorized');
    }
  }
  return headers.get('x-api-key') === config.apiKey ? null : new Error('Unauthorized');
}

const yoga = createYoga<{ req: IncomingMessage }, PeerContext>({
  schema,
  graphqlEndpoint: '/graphql',
  logging: false,
  maskedErrors: false,
  landingPage: false,
  graphiql: false,
  context: async ({ request, req }) => {
    const identity = await identityOf(request.headers, req.socket.remoteAddress ?? '127.0.0.1');
    if (identity instanceof Error)
      throw new GraphQLError('You are not authorized to make this call.', { extensions: { http: { status: 401 } } });
    return { identity, headers: Object.fromEntries(request.headers), batches: new Map() };
  },
});

const server = createServer(yoga);
serveRequests({
  invocations: () => ({ ...invocations }),
  stop: () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  sendReady<YogaServerInfo>({ pid: process.pid, nodeVersion: process.version, graphqlUrl: `http://127.0.0.1:${address.port}/graphql` });
});

import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { api, lambdaAuthorizerOf } from '../declarations/api.js';
import { buildAppSyncSchema } from '../declarations/schema.js';
import { bundleFunctions, type FunctionBundle } from '../build/bundle.js';
import { functionEnvironment } from '../declarations/function-environment.js';
import type { PartnerCredentials } from '../lib/partner-tokens.js';
import type { TableName } from '../declarations/tables.js';
import { functionNames, functions, type FunctionName } from '../declarations/functions.js';
import { fieldRoutes, type Declarations } from '../declarations/check.js';
import { RequestAuthenticator } from './appsync/authentication.js';
import { AppSyncExecutor, type Invoke, type RequestContext } from './appsync/execute.js';
import { FieldAuthorization } from './appsync/field-authorization.js';
import { LambdaAuthorizer } from './appsync/lambda-authorizer.js';
import { createGraphiQLRoutes } from './appsync/graphiql.js';
import { createHttpServer, listen } from './appsync/http-server.js';
import { createDevRoutes, type HealthReport } from './dev-routes.js';
import { createTables } from './dynamodb/create-tables.js';
import { dynamoDbClientConfig, startDynamoDBLocal, type DynamoDBLocalHandle } from './dynamodb/dynamodb-local.js';
import { ensureDevCertificates, type DevCertificates } from './https/dev-certificate.js';
import { createCognitoEndpoint, devUsers, type DevUser } from './identity/cognito-endpoint.js';
import type { DevUserPool } from './identity/dev-user-pool.js';
import type { IamPrincipal } from './identity/sigv4.js';
import { LocalFunction } from './lambda/function-runtime.js';
import { attachRealtime, type RealtimeEndpoint } from './realtime/realtime-server.js';
import { DeadLetterStore, type DeadLetter } from './streams/dead-letters.js';
import type { EventSourceMappingStats } from './streams/event-source-mapping.js';
import { startStreamMappings, type StreamMappings, type StreamMappingsOptions } from './streams/start.js';
import { startRedisServer, type RedisServerHandle } from './redis/redis-server.js';
import { StackRecovery } from './process/recovery.js';
import { LOCAL_ACCOUNT_ID, localCredentials } from './identity/local-credentials.js';
import { healthReport } from './health.js';

export interface LocalStackOptions {
  /** HTTP port on 127.0.0.1; 0 picks a free one. */
  readonly port?: number;
  /** Keep DynamoDB data in this directory; in memory when unset. */
  readonly persistDir?: string;
  readonly tablePrefix?: string;
  /** Fixed API key (e.g. from APPSYNC_API_KEY); a fresh `da2-` key otherwise. */
  readonly apiKey?: string;
  /** Execution environments per function; defaults to the declaration's reservedConcurrency or 10. */
  readonly maxConcurrency?: number;
  /** Where function bundles go; a private temporary directory when unset. */
  readonly bundleDir?: string;
  /** Signing key file of the dev user pool; a fresh key per start when unset. */
  readonly userPoolKeyFile?: string;
  /** The IAM principal trusted for AWS_IAM (SigV4) requests; a fresh key pair when unset. */
  readonly iamPrincipal?: IamPrincipal;
  /** The one partner the Lambda authorizer admits (its hash is the local PARTNER_TOKENS_SHA256); a fresh secret when unset. */
  readonly partner?: { readonly partnerId: string; readonly secret?: string };
  /** Platform log lines (REPORT etc.); silent when unset. */
  readonly log?: (line: string) => void;
  /**
   * Serve HTTPS/WSS instead of HTTP/WS on the same port, with a server certificate from a local
   * development CA (created on first use in `certificateDir`, default `.local/certs`, then reused).
   * AppSync clients such as aws-amplify v6 always open `wss://<endpoint>/realtime`, even for an
   * `http://` endpoint, so their subscriptions need this.
   */
  readonly https?: { readonly certificateDir?: string } | boolean;
  /** Also append stream dead letters as JSON lines to `<dir>/<function>.jsonl` (e.g. `.local/dlq`); in memory only when unset. */
  readonly deadLetterDir?: string;
  /**
   * `redis` (default): a real redis-server on a free loopback port backs the functions' read cache
   * (without the binary: said once, then as `none`); `none`: no cache, every read goes to DynamoDB.
   */
  readonly cache?: 'redis' | 'none';
  /** The secret POST /dev/token requires (header x-dev-secret, or Authorization: Bearer); a fresh one per start when unset. */
  readonly devSecret?: string;
  /** The declarations to check at start (a test's altered copy); the project's own when unset. */
  readonly declarations?: Declarations;
  /** Who can sign in at the local Cognito endpoint (/cognito/); alice and admin with fresh random passwords when unset. */
  readonly devUsers?: readonly DevUser[];
  /**
   * DynamoDB Local died and cannot be restarted (crash loop, its port taken): without it no request can
   * succeed. `npm run dev` exits; unset, the stack only says so (console.error, /health 503).
   */
  readonly onFatal?: (error: Error) => void;
  /** Runs after an in-memory DynamoDB Local restarted empty and its tables were recreated (e.g. to seed again). */
  readonly afterDataLoss?: () => Promise<void>;
}

export interface LocalStack {
  /** `https://…` when the `https` option is on, else `http://…`. */
  readonly url: string;
  readonly graphqlUrl: string;
  /** AppSync's real-time WebSocket endpoint (subprotocol graphql-ws). */
  readonly realtimeUrl: string;
  readonly realtime: RealtimeEndpoint;
  readonly apiKey: string;
  readonly dynamoDbEndpoint: string;
  readonly tables: Readonly<Record<TableName, string>>;
  readonly userPool: DevUserPool;
  /** Sign backend requests with these credentials (region us-east-1, service appsync). */
  readonly iamPrincipal: IamPrincipal;
  /** The local partner: send `partner.token` as the Authorization header (AWS_LAMBDA mode). */
  readonly partner: PartnerCredentials;
  /** This API's id and account, as the authorizer's requestContext and field ARNs carry them. */
  readonly apiId: string;
  readonly accountId: string;
  readonly functions: ReadonlyMap<FunctionName, LocalFunction>;
  readonly bundles: readonly FunctionBundle[];
  /** Environment a script needs to reach the local tables with the same code as the functions. */
  readonly clientEnvironment: Readonly<Record<string, string>>;
  /** The full environment each function's execution environments get. */
  readonly functionEnvironments: Readonly<Record<FunctionName, Readonly<Record<string, string>>>>;
  /** With `https`: the development CA that signed the server certificate; clients trust it (e.g. `ca` options). */
  readonly caCertificatePem?: string;
  /** With `https`: the CA certificate's file, for `NODE_EXTRA_CA_CERTS` or a trust store. */
  readonly caFile?: string;
  /** Stream batches that exhausted their retries (the on-failure destination; also `GET /dev/dlq`). */
  deadLetters(): readonly DeadLetter[];
  /** The cache's redis-server (undefined when running without the cache); stop()/start() simulate an outage, kill() a crash. */
  readonly redis?: RedisServerHandle;
  /** The DynamoDB Local process: kill() simulates a crash (it is restarted on the same port). */
  readonly dynamodb: DynamoDBLocalHandle;
  /** What POST /dev/token requires, as `x-dev-secret: <secret>` or `Authorization: Bearer <secret>`. */
  readonly devSecret: string;
  /** `<url>/cognito/`: the local Cognito user-pool API, Amplify's `Auth.Cognito.userPoolEndpoint`. */
  readonly userPoolEndpoint: string;
  /** The users who can sign in there (username, password, groups). */
  readonly devUsers: readonly DevUser[];
  /** GET /health's answer: every dependency's state, 503 while one is not up. */
  health(): HealthReport;
  /** The running DynamoDB stream event source mappings, with their counters (also in `GET /health`). */
  eventSourceMappings(): readonly EventSourceMappingStats[];
  stop(): Promise<void>;
}

/** The local API's identity in authorizer events and field ARNs (AppSync API ids are 26 lowercase letters and digits). */
const LOCAL_API_ID = 'storefrontlocalapi00000000';

/**
 * The API's Lambda authorizer (AWS_LAMBDA), invoked through its LocalFunction
 * like any other function, so it runs isolated, with its declared timeout and
 * environment; undefined when the API has no such mode.
 */
function localLambdaAuthorizer(
  localFunctions: ReadonlyMap<FunctionName, LocalFunction>,
  region: string,
  log: (line: string) => void,
): LambdaAuthorizer | undefined {
  const declaration = lambdaAuthorizerOf(api);
  if (!declaration) return undefined;
  const name = functionNames.find((candidate) => candidate === declaration.function);
  const fn = name && functions[name].kind === 'authorizer' ? localFunctions.get(name) : undefined;
  if (!fn)
    throw new Error(
      `declarations/api.ts names ${declaration.function} as the Lambda authorizer, but the function map has no such authorizer`,
    );
  return new LambdaAuthorizer({
    declaration,
    apiId: LOCAL_API_ID,
    accountId: LOCAL_ACCOUNT_ID,
    region,
    log,
    // A LocalFunction's result is an InvokeResult (plus its REPORT figures).
    invoke: (event) => fn.invoke(event),
  });
}

/**
 * Starts the whole local stack: DynamoDB Local with the declared tables, every
 * function of the function map in its own Lambda-like environments, and the
 * AppSync-compatible HTTP endpoint. `stop()` tears all of it down.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error(error));
    cleanups.length = 0;
  };
  try {
    // The one checker (declarations/check.ts): a bad route, batch size or group fails here, before anything starts.
    const routes = fieldRoutes(options.declarations);
    const schema = buildAppSyncSchema(options.declarations?.schemaSDL);

    const bundleDir = options.bundleDir ?? (await mkdtemp(join(tmpdir(), 'storefront-functions-')));
    if (!options.bundleDir) cleanups.push(() => rm(bundleDir, { recursive: true, force: true }));
    const bundlesPromise = bundleFunctions(bundleDir);

    // Both are restarted on their port if they die (README "Local faults"; recovery in local/process/recovery.ts).
    const dynamodb: DynamoDBLocalHandle = await startDynamoDBLocal({ persistDir: options.persistDir, restart: true });
    cleanups.push(() => dynamodb.stop());
    const redis = options.cache === 'none' ? undefined : await startRedisServer({ log: (line) => console.warn(line) });
    if (redis) cleanups.push(() => redis.stop());
    const client = new DynamoDBClient(dynamoDbClientConfig(dynamodb.endpoint));
    cleanups.push(async () => client.destroy());
    const tablePrefix = options.tablePrefix ?? 'storefront-local';
    const tables = await createTables(client, tablePrefix);
    const bundles = await bundlesPromise;

    const clientConfig = dynamoDbClientConfig(dynamodb.endpoint);
    const clientEnvironment: Record<string, string> = {
      DYNAMODB_ENDPOINT: dynamodb.endpoint,
      AWS_REGION: String(clientConfig.region),
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    const log = options.log ?? (() => undefined);
    const { apiKey, apiKeys, userPool, iamPrincipal, partner, devSecret } = localCredentials(options);
    // Values of the functions' declared parameters: locally, the hash of the one partner whose token we hand out.
    const parameterValues = {
      PARTNER_TOKENS_SHA256: partner.hashEntry,
      // Functions reading a cached table get these (declarations/function-environment.ts). The command timeout is
      // looser than AWS's 50 ms: here the whole stack (and often a test suite) shares two cores, where a
      // thread starved for a few hundred ms is scheduling, not a slow Redis.
      ...(redis ? { CACHE_BACKEND: 'redis', REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '1000' } : {}),
    };
    const environments = {} as Record<FunctionName, Record<string, string>>;
    const localFunctions = new Map<FunctionName, LocalFunction>();
    for (const bundle of bundles) {
      const declaration = functions[bundle.name];
      environments[bundle.name] = {
        ...functionEnvironment(bundle.name, declaration, tables, parameterValues),
        ...clientEnvironment,
        POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
        // The functions stand in for the nodejs22.x runtime; the host's own Node version is
        // reported once by the server process, not again by every execution environment.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      };
      const fn = new LocalFunction({
        name: bundle.name,
        bundlePath: bundle.file,
        environment: environments[bundle.name],
        memoryMb: declaration.memoryMb,
        timeoutSeconds: declaration.timeoutSeconds,
        maxConcurrency: options.maxConcurrency ?? ('reservedConcurrency' in declaration ? Number(declaration.reservedConcurrency) : 10),
        log: (line) => log(`[${bundle.name}] ${line}`),
      });
      localFunctions.set(bundle.name, fn);
      cleanups.push(() => fn.close());
    }

    // Event source mappings on the declared streams; stopped (by the reversed cleanups) before the functions they invoke.
    const deadLetters = new DeadLetterStore(options.deadLetterDir);
    const mappingOptions: StreamMappingsOptions = {
      dynamoDbEndpoint: dynamodb.endpoint,
      dynamodb: client,
      tables,
      functions: localFunctions,
      deadLetters,
      region: String(clientConfig.region),
      accountId: LOCAL_ACCOUNT_ID,
      log,
    };
    let streamMappings: StreamMappings = await startStreamMappings(mappingOptions);
    let stopping = false;
    cleanups.push(async () => {
      stopping = true;
      await streamMappings.stop();
      await deadLetters.flush();
    });

    const recovery = new StackRecovery({
      dynamodb,
      redis,
      recreateTables: async () => void (await createTables(client, tablePrefix)),
      flushCache: () => (redis ? flushRedis(redis) : Promise.resolve()),
      restartStreams: async () => {
        if (stopping) return;
        await streamMappings.stop();
        if (stopping) return;
        streamMappings = await startStreamMappings(mappingOptions);
      },
      ...(options.afterDataLoss ? { afterDataLoss: options.afterDataLoss } : {}),
      alert: (line) => console.error(`[local stack] ${line}`),
      inform: (line) => console.warn(`[local stack] ${line}`),
      ...(options.onFatal ? { onFatal: options.onFatal } : {}),
    });
    // Runs before the processes stop (cleanups run in reverse): deliberate stops are not deaths to recover from.
    cleanups.push(async () => {
      recovery.dispose();
      await recovery.settled().catch(() => undefined);
    });

    const invoke: Invoke = (functionName, payload) => {
      const fn = localFunctions.get(functionName as FunctionName);
      if (!fn) return Promise.reject(new Error(`No local function ${functionName}`));
      return fn.invoke(payload);
    };
    const authorization = new FieldAuthorization(schema, api.defaultAuthMode);
    const executor = new AppSyncExecutor({ schema, routes, authorization, invoke });

    const region = String(clientConfig.region);
    const lambdaAuthorizer = localLambdaAuthorizer(localFunctions, region, log);
    const authenticator = new RequestAuthenticator({ api, apiKeys, userPool, iamPrincipals: [iamPrincipal], region, lambdaAuthorizer });

    // The page gets these only for the developer's own visit (local/dev-request-guard.ts).
    const graphiql = createGraphiQLRoutes({
      endpoint: '/graphql',
      defaultApiKey: apiKey,
      devSecret,
      iamPrincipal,
      region,
      partnerToken: partner.token,
    });
    const health = (): HealthReport =>
      healthReport({
        recovery,
        functions: localFunctions,
        mappings: streamMappings.stats(),
        stopping,
      });
    const devRoutes = createDevRoutes({ health, deadLetters: () => deadLetters.list(), userPool, graphiql, devSecret });

    // With https the one server speaks TLS, so /graphql is https:// and the real-time upgrade on it is wss://.
    const certificates: DevCertificates | undefined = options.https
      ? await ensureDevCertificates({ directory: options.https === true ? undefined : options.https.certificateDir })
      : undefined;
    const tls = certificates && { key: certificates.keyPem, cert: certificates.certificatePem };
    // Sign-in as a web app does it: Amplify Auth against a Cognito-compatible endpoint (local/identity/cognito-endpoint.ts).
    const users = options.devUsers ?? devUsers();
    const cognito = createCognitoEndpoint({ userPool, users });
    const httpRoutes = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> =>
      (await cognito(req, res, url)) || devRoutes(req, res, url);
    const server: Server = createHttpServer({ executor, authenticator, routes: httpRoutes, tls });
    const realtime = attachRealtime({
      server,
      schema,
      authorization,
      // One document cache for /graphql and for start messages; each mutation the executor runs is
      // published to subscribers after its response (the real-time side undoes aliases and fans out).
      documents: executor.documents,
      mutations: executor,
      // For IAM, AppSync's real-time handshake signs POST <graphql endpoint>/connect with body {}.
      // For IAM, AppSync signs the handshake over POST <graphql endpoint>/connect with body {}, and each
      // start over POST <graphql endpoint> with the start's data string (as aws-amplify v6 does).
      authenticate: (headers, sourceIp, startData) =>
        authenticator.authenticate(
          headers,
          sourceIp,
          startData === undefined
            ? { method: 'POST', path: '/graphql/connect', body: '{}' }
            : { method: 'POST', path: '/graphql', body: startData },
        ),
      onSubscribe: ({ fieldName, arguments: args, variables, caller, identity, headers }) =>
        executor.subscribe(fieldName, args, variables, { caller, identity: identity as RequestContext['identity'], headers }),
      log,
    });
    const port = await listen(server, options.port ?? 0);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    cleanups.push(() => realtime.close());
    const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return {
      url,
      graphqlUrl: `${url}/graphql`,
      realtimeUrl: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/graphql/realtime`,
      ...(certificates ? { caCertificatePem: certificates.caCertificatePem, caFile: certificates.caFile } : {}),
      realtime,
      apiKey,
      dynamoDbEndpoint: dynamodb.endpoint,
      tables,
      userPool,
      iamPrincipal,
      partner,
      apiId: LOCAL_API_ID,
      accountId: LOCAL_ACCOUNT_ID,
      functions: localFunctions,
      bundles,
      clientEnvironment,
      functionEnvironments: environments,
      deadLetters: () => deadLetters.list(),
      eventSourceMappings: () => streamMappings.stats(),
      ...(redis ? { redis } : {}),
      dynamodb,
      devSecret,
      userPoolEndpoint: `${url}/cognito/`,
      devUsers: users,
      health,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Empties the local cache: after DynamoDB Local lost its data, cached items would outlive the items themselves. */
async function flushRedis(redis: RedisServerHandle): Promise<void> {
  if (!redis.running()) return; // a restarting or stopped redis-server comes back empty anyway
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  client.on('error', () => undefined); // the command reports its own failure
  try {
    await client.connect();
    await client.flushall();
  } finally {
    client.disconnect();
  }
}

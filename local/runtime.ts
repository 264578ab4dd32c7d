import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { api, openIdConnectOf } from '../declarations/api.js';
import { buildAppSyncSchema } from '../declarations/schema.js';
import { bundleFunctions, type FunctionBundle } from '../build/bundle.js';
import type { PartnerCredentials } from '../lib/partner-tokens.js';
import type { TableName } from '../declarations/tables.js';
import type { FunctionName } from '../declarations/functions.js';
import { fieldRoutes, type Declarations } from '../declarations/check.js';
import { RequestAuthenticator } from './appsync/authentication.js';
import { AppSyncExecutor, type Invoke } from './appsync/execute.js';
import { FieldAuthorization } from './appsync/field-authorization.js';
import { createGraphiQLRoutes } from './appsync/graphiql.js';
import { createDevRoutes, type HealthReport } from './dev-routes.js';
import { createTables } from './dynamodb/create-tables.js';
import { dynamoDbClientConfig, dynamoDbClientEnvironment, type DynamoDBLocalHandle } from './dynamodb/dynamodb-local.js';
import { ensureDevCertificates, type DevCertificates } from './https/dev-certificate.js';
import { createCognitoEndpoint, devUsers, type DevUser } from './identity/cognito-endpoint.js';
import type { DevOidcIssuer } from './identity/dev-oidc-issuer.js';
import type { DevUserPool } from './identity/dev-user-pool.js';
import type { IamPrincipal } from './identity/sigv4.js';
import type { LocalFunction } from './lambda/function-runtime.js';
import type { RealtimeEndpoint } from './realtime/realtime-server.js';
import { DeadLetterStore, type DeadLetter } from './streams/dead-letters.js';
import type { EventSourceMappingStats } from './streams/event-source-mapping.js';
import type { RedisServerHandle } from './redis/redis-server.js';
import { LOCAL_ACCOUNT_ID, localCredentials } from './identity/local-credentials.js';
import { healthReport } from './health.js';
import { Cleanups } from './stack/cleanups.js';
import { StartupTimings } from './stack/startup-timings.js';
import { localParameterValues, startLocalFunctions } from './stack/functions.js';
import { startHttpEndpoint } from './stack/http-endpoint.js';
import { LOCAL_API_ID, localLambdaAuthorizer } from './stack/lambda-authorizer.js';
import { startStackProcesses } from './stack/processes.js';
import { superviseStack } from './stack/recovery.js';
import { RestartableStreamMappings } from './stack/stream-mappings.js';

export interface LocalStackOptions {
  /** HTTP port on 127.0.0.1; 0 picks a free one. */
  readonly port?: number;
  /** Keep DynamoDB data in this directory; in memory when unset. */
  readonly persistDir?: string;
  readonly tablePrefix?: string;
  /** Fixed API key (e.g. from APPSYNC_API_KEY); a fresh `da2-` key otherwise. */
  readonly apiKey?: string;
  /** Execution environments per function; defaults to the declaration's reservedConcurrency, else one per CPU core (local/stack/functions.ts). */
  readonly maxConcurrency?: number;
  /** Where function bundles go; a private temporary directory when unset. */
  readonly bundleDir?: string;
  /** Signing key file of the dev user pool; a fresh key per start when unset. */
  readonly userPoolKeyFile?: string;
  /** Signing key file of the dev OIDC issuer (`npm run token -- --oidc` signs with it too); a fresh key per start when unset. */
  readonly oidcIssuerKeyFile?: string;
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
  /**
   * The data a fresh database starts with (`npm run dev --seed`: the sample catalog). Loaded as soon as the
   * tables exist, alongside the rest of the start, and the endpoint listens only once it is in: no client
   * ever sees the stack without it, and no early request slows the load down. Loaded again whenever an
   * in-memory DynamoDB Local restarted empty and its tables were recreated.
   */
  readonly initialData?: (database: InitialDataTarget) => Promise<unknown>;
  /**
   * Start DynamoDB Local's JVM for a quick start (C1 JIT only, serial GC) rather than peak throughput:
   * `npm run dev` does; a benchmark should not.
   */
  readonly quickStart?: boolean;
  /** DynamoDB Local already being started (local/stack/processes.ts, `startStackDynamoDBLocal`): npm run dev spawns its JVM first thing. */
  readonly dynamodb?: Promise<DynamoDBLocalHandle>;
}

/** Where `initialData` loads: DynamoDB Local's endpoint and the physical table names. */
export interface InitialDataTarget {
  readonly dynamoDbEndpoint: string;
  readonly tables: Readonly<Record<TableName, string>>;
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
  /** The dev OpenID Connect provider of the OPENID_CONNECT mode (staff), published at `<url>/oidc`: `mint` staff tokens. */
  readonly oidcIssuer: DevOidcIssuer;
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
  /** When each start-up step finished, in ms after startLocalStack was called (`npm run dev` prints them). */
  readonly startupTimings: StartupTimings;
  /** The running DynamoDB stream event source mappings, with their counters (also in `GET /health`). */
  eventSourceMappings(): readonly EventSourceMappingStats[];
  stop(): Promise<void>;
}

/**
 * Starts the whole local stack: DynamoDB Local with the declared tables, every
 * function of the function map in its own Lambda-like environments, and the
 * AppSync-compatible HTTP endpoint. `stop()` tears all of it down.
 *
 * What does not depend on each other starts at the same time: the bundles, both
 * server processes and (with https) the certificates.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const timings = new StartupTimings();
  const cleanups = new Cleanups();
  const stop = (): Promise<void> => cleanups.run();
  try {
    // The one checker (declarations/check.ts): a bad route, batch size or group fails here, before anything starts.
    const routes = fieldRoutes(options.declarations);
    const schema = buildAppSyncSchema(options.declarations?.schemaSDL);

    const bundleDir = options.bundleDir ?? (await mkdtemp(join(tmpdir(), 'storefront-functions-')));
    if (!options.bundleDir) cleanups.add(() => rm(bundleDir, { recursive: true, force: true }));
    const bundlesPromise = bundleFunctions(bundleDir, { cacheBackend: options.cache ?? 'redis' });
    const certificatesPromise: Promise<DevCertificates | undefined> = options.https
      ? ensureDevCertificates({ directory: options.https === true ? undefined : options.https.certificateDir })
      : Promise.resolve(undefined);
    // Awaited below; until then a failure elsewhere must not turn these into unhandled rejections.
    for (const pending of [bundlesPromise, certificatesPromise]) pending.catch(() => undefined);
    timings.markWhenDone('bundles', bundlesPromise);
    if (options.https) timings.markWhenDone('certificates', certificatesPromise);

    const processes = await startStackProcesses({ ...options, ready: (name) => timings.mark(name) }, cleanups);
    const { dynamodb, redis } = processes;
    const client = new DynamoDBClient(dynamoDbClientConfig(dynamodb.endpoint));
    cleanups.add(async () => client.destroy());
    const tablePrefix = options.tablePrefix ?? 'storefront-local';
    const tables = await createTables(client, tablePrefix);
    timings.mark('tables');
    const { initialData } = options;
    const loadInitialData = initialData && (async () => void (await initialData({ dynamoDbEndpoint: dynamodb.endpoint, tables })));
    const initialDataLoaded = loadInitialData?.();
    if (initialDataLoaded) {
      // Awaited before the endpoint listens; until then a failure elsewhere must not make it an unhandled rejection.
      initialDataLoaded.catch(() => undefined);
      timings.markWhenDone('initial data', initialDataLoaded);
    }
    const bundles = await bundlesPromise;

    const clientEnvironment = dynamoDbClientEnvironment(dynamodb.endpoint);
    const region = clientEnvironment.AWS_REGION!;
    const log = options.log ?? (() => undefined);
    const { apiKey, apiKeys, userPool, oidcIssuer, iamPrincipal, partner, devSecret } = localCredentials(options);
    const { functions: localFunctions, environments } = startLocalFunctions(
      {
        bundles,
        tables,
        clientEnvironment,
        parameterValues: localParameterValues(partner.hashEntry, redis),
        maxConcurrency: options.maxConcurrency,
        log,
      },
      cleanups,
    );

    // Event source mappings on the declared streams; stopped (cleanups run newest first) before the functions they invoke.
    const deadLetters = new DeadLetterStore(options.deadLetterDir);
    const streams = await RestartableStreamMappings.start({
      dynamoDbEndpoint: dynamodb.endpoint,
      dynamodb: client,
      tables,
      functions: localFunctions,
      deadLetters,
      region,
      accountId: LOCAL_ACCOUNT_ID,
      log,
    });
    timings.mark('streams');
    cleanups.add(async () => {
      await streams.stop();
      await deadLetters.flush();
    });
    const recovery = superviseStack(
      {
        processes,
        dynamodb: client,
        tablePrefix,
        streams,
        afterDataLoss: loadInitialData,
        onFatal: options.onFatal,
      },
      cleanups,
    );

    const invoke: Invoke = (functionName, payload, lane) => {
      const fn = localFunctions.get(functionName as FunctionName);
      if (!fn) return Promise.reject(new Error(`No local function ${functionName}`));
      return fn.invoke(payload, lane);
    };
    const authorization = new FieldAuthorization(schema, api.defaultAuthMode);
    const executor = new AppSyncExecutor({ schema, routes, authorization, invoke });
    const lambdaAuthorizer = localLambdaAuthorizer(localFunctions, region, log);
    const oidc = openIdConnectOf(api);
    const authenticator = new RequestAuthenticator({
      api,
      apiKeys,
      userPool,
      iamPrincipals: [iamPrincipal],
      region,
      lambdaAuthorizer,
      oidc: oidc && { provider: oidcIssuer, declaration: oidc },
    });

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
      healthReport({ recovery, functions: localFunctions, mappings: streams.stats(), stopping: streams.stopping });
    const devRoutes = createDevRoutes({ health, deadLetters: () => deadLetters.list(), userPool, graphiql, devSecret });
    // Sign-in as a web app does it: Amplify Auth against a Cognito-compatible endpoint (local/identity/cognito-endpoint.ts).
    const users = options.devUsers ?? devUsers();
    const cognito = createCognitoEndpoint({ userPool, users });

    const certificates = await certificatesPromise;
    await initialDataLoaded;
    const endpoint = await startHttpEndpoint(
      {
        schema,
        executor,
        authenticator,
        authorization,
        routes: async (req, res, url) =>
          (await cognito(req, res, url)) || (await oidcIssuer.routes(req, res, url)) || devRoutes(req, res, url),
        tls: certificates && { key: certificates.keyPem, cert: certificates.certificatePem },
        port: options.port ?? 0,
        log,
      },
      cleanups,
    );
    // The issuer's URL is the stack's own: known now that it listens.
    oidcIssuer.publishAt(endpoint.url);
    timings.mark('listening');
    return {
      url: endpoint.url,
      graphqlUrl: endpoint.graphqlUrl,
      realtimeUrl: endpoint.realtimeUrl,
      ...(certificates ? { caCertificatePem: certificates.caCertificatePem, caFile: certificates.caFile } : {}),
      realtime: endpoint.realtime,
      apiKey,
      dynamoDbEndpoint: dynamodb.endpoint,
      tables,
      userPool,
      oidcIssuer,
      iamPrincipal,
      partner,
      apiId: LOCAL_API_ID,
      accountId: LOCAL_ACCOUNT_ID,
      functions: localFunctions,
      bundles,
      clientEnvironment,
      functionEnvironments: environments,
      deadLetters: () => deadLetters.list(),
      eventSourceMappings: () => streams.stats(),
      ...(redis ? { redis } : {}),
      dynamodb,
      devSecret,
      userPoolEndpoint: `${endpoint.url}/cognito/`,
      devUsers: users,
      health,
      startupTimings: timings,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

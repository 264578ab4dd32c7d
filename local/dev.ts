/**
 * `npm run dev`: the local AppSync stack in the foreground.
 *   --port N        HTTP port (default 4000, or $PORT)
 *   --persist DIR   keep DynamoDB data in DIR (default: in memory)
 *   --seed          load the sample catalog after start
 *   --quiet         hide per-invocation REPORT lines
 *   --https         serve HTTPS/WSS with a local development CA's certificate
 *                   (.local/certs/, created on first use); aws-amplify v6 subscriptions need it
 *
 * Prints, among the endpoints and credentials, the dev secret POST /dev/token
 * requires (a new one every start, or $LOCAL_DEV_SECRET). If DynamoDB Local
 * dies it is restarted (README "Local faults"); if it cannot be, this process
 * exits with the reason rather than serve nothing but errors.
 *
 * Run by build/dev-launch.mjs from a cached bundle (no TypeScript loader); `node --import tsx local/dev.ts`
 * runs it from source as well.
 *
 * Start-up does only what changed: codegen runs when its inputs did (build/codegen.ts), the function
 * bundles are kept in node_modules/.cache/storefront/functions and rebuilt only for changed inputs
 * (build/bundle.ts), and the stack starts its independent parts at the same time (local/runtime.ts).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { join, relative } from 'node:path';
import { cacheRoot, repositoryRoot } from '../declarations/paths.js';
import { ensureCodegen, type CodegenOutcome } from '../build/codegen.js';
import { devUsers } from './identity/cognito-endpoint.js';
import type { LocalStack } from './runtime.js';
import { startStackDynamoDBLocal } from './stack/processes.js';
import { seedCatalog } from './seed.js';
import { api } from '../declarations/api.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '4000' },
    persist: { type: 'string' },
    seed: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    https: { type: 'boolean', default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be a port number, got ${values.port}`);
  process.exit(2);
}

/** Where `npm run dev` keeps its bundles between starts (not dist/: `npm run build` may build other variants there). */
const DEV_BUNDLE_DIR = join(cacheRoot, 'functions');

const started = Date.now();
// generated/ is for the resolvers' types and clients, not for anything this process runs: refresh it
// alongside the stack's start rather than before it.
const codegen: Promise<CodegenOutcome | Error> = ensureCodegen().catch((error: unknown) =>
  error instanceof Error ? error : new Error(String(error)),
);
/** Set once started: a fatal error may come before (then exiting kills the child processes). */
let running: LocalStack | undefined;
let stopping = false;
// DynamoDB Local's JVM is the slowest part of the start: spawn it before loading the stack's code (the AWS SDK, graphql).
const dynamodb = startStackDynamoDBLocal({ persistDir: values.persist, quickStart: true });
const { startLocalStack } = await import('./runtime.js');
const stack = await startLocalStack({
  dynamodb,
  port,
  persistDir: values.persist,
  apiKey: process.env.APPSYNC_API_KEY,
  devUsers: devUsers({ password: process.env.LOCAL_DEV_USER_PASSWORD }),
  iamPrincipal:
    process.env.LOCAL_IAM_ACCESS_KEY_ID && process.env.LOCAL_IAM_SECRET_ACCESS_KEY
      ? {
          accessKeyId: process.env.LOCAL_IAM_ACCESS_KEY_ID,
          secretAccessKey: process.env.LOCAL_IAM_SECRET_ACCESS_KEY,
          accountId: '000000000000',
          userArn: 'arn:aws:iam::000000000000:user/local-backend',
        }
      : undefined,
  bundleDir: DEV_BUNDLE_DIR,
  // A developer's stack serves a few requests at a time: start-up time matters more than DynamoDB Local's peak speed.
  quickStart: true,
  userPoolKeyFile: join(repositoryRoot, '.local', 'dev-user-pool-key.pem'),
  // npm run token -- --oidc signs staff tokens with the same key (local/token.ts).
  oidcIssuerKeyFile: join(repositoryRoot, '.local', 'dev-oidc-issuer-key.pem'),
  log: values.quiet ? undefined : (line) => console.log(line),
  https: values.https,
  deadLetterDir: join(repositoryRoot, '.local', 'dlq'),
  devSecret: process.env.LOCAL_DEV_SECRET || randomBytes(24).toString('base64url'),
  onFatal: (error) => void shutdown('The API cannot work without DynamoDB Local', error),
  // In before the endpoint listens, and again if an in-memory DynamoDB Local restarts empty.
  ...(values.seed ? { initialData: async (database) => console.log(`Seeded ${await seedCatalog(database)} products.`) } : {}),
});
running = stack;

const codegenOutcome = await codegen;
if (codegenOutcome instanceof Error) {
  console.error(`npm run codegen failed: ${codegenOutcome.message}`);
  await shutdown('Codegen failed (fix schema/ or operations/, then run npm run dev again)', codegenOutcome);
}
const reusedBundles = stack.bundles.filter((bundle) => bundle.reused).length;

const adminToken = stack.userPool.mint({ username: 'admin', sub: 'admin', groups: [api.adminGroup], expiresInSeconds: 12 * 3600 });
console.log(`
Local AppSync stack ready in ${Date.now() - started} ms (${Math.round(process.uptime() * 1000)} ms since the process started; \
codegen ${codegenOutcome === 'unchanged' ? 'skipped, inputs unchanged' : 'ran'}; \
${reusedBundles === stack.bundles.length ? 'bundles unchanged' : `${stack.bundles.length - reusedBundles} of ${stack.bundles.length} bundles rebuilt`})
  Start-up    ${stack.startupTimings}   (finish times)
  GraphQL     POST ${stack.graphqlUrl}
  Real-time   ${stack.realtimeUrl}   (AppSync WebSocket protocol, subprotocol graphql-ws)
  GraphiQL    ${stack.url}/
  Health      ${stack.url}/health
  Streams     ${stack
    .eventSourceMappings()
    .map((m) => `${m.table} → ${m.functionName}`)
    .join(', ')}
              dead letters: GET ${stack.url}/dev/dlq (also .local/dlq/<function>.jsonl)
  API key     ${stack.apiKey}            (header x-api-key)
  Admin token ${adminToken}
              (header Authorization; mint others: npm run token -- --username alice [--group admin])
  Cognito     ${stack.userPoolEndpoint}   (Amplify Auth.Cognito.userPoolEndpoint; pool ${stack.userPool.userPoolId}, client ${stack.userPool.clientId})
  Users       ${stack.devUsers.map((user) => `${user.username} / ${user.password}${user.groups?.length ? ` (${user.groups.join(', ')})` : ''}`).join('   ')}
              (Amplify signIn; new passwords every start, fixed with LOCAL_DEV_USER_PASSWORD)
  OIDC        ${stack.oidcIssuer.issuer}   (staff: OPENID_CONNECT, client ${stack.oidcIssuer.clientId}; discovery: <issuer>/.well-known/openid-configuration)
              (mint a staff token: npm run token -- --oidc --subject jane [--url ${stack.url}])
  Dev secret  ${stack.devSecret}   (POST ${stack.url}/dev/token needs it as header x-dev-secret;
              new every start, fixed with LOCAL_DEV_SECRET; never give it to a web page)
  IAM         access key ${stack.iamPrincipal.accessKeyId} / secret ${stack.iamPrincipal.secretAccessKey}
              (SigV4, region us-east-1, service appsync; fixed with LOCAL_IAM_ACCESS_KEY_ID / LOCAL_IAM_SECRET_ACCESS_KEY)
  Partner     ${stack.partner.token}
              (header Authorization; AWS_LAMBDA authorizer: catalog reads, stock denied; new secret every start)
  DynamoDB    ${stack.dynamoDbEndpoint} ${values.persist ? `(persisted in ${values.persist})` : '(in memory)'}
  Cache       ${stack.redis ? `${stack.redis.url} (redis-server, in memory; counters in /health)` : 'none (no redis-server installed)'}
  Functions   ${stack.bundles.map((b) => `${b.name} ${(b.bytes / 1024).toFixed(0)} KiB`).join(', ')}${trustHint()}
Press Ctrl+C to stop.`);

/** The server certificate is signed by a local CA nothing trusts yet: say how to trust it. */
function trustHint(): string {
  if (!stack.caFile) return '';
  const caFile = relative(process.cwd(), stack.caFile) || stack.caFile;
  return `
  TLS CA      ${caFile}   (local development CA that signed the server certificate; never commit it)
              Node clients: NODE_EXTRA_CA_CERTS=${caFile} node app.js   curl: --cacert ${caFile}
              Browsers (GraphiQL): import it as a trusted authority, or accept the warning once`;
}

/** Ctrl+C, SIGTERM, or a dependency the stack cannot do without (then exit code 1, with the reason). */
async function shutdown(reason: string, fatal?: Error): Promise<void> {
  if (stopping) return;
  stopping = true;
  // The cause itself was just printed by the stack (console.error); say what happens now.
  if (fatal) console.error(`\n${reason}: stopping the local stack (exit code 1). Fix the cause above, then run npm run dev again.`);
  else console.log(`\n${reason}: stopping functions, HTTP server and DynamoDB Local...`);
  await running?.stop();
  process.exit(fatal ? 1 : 0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

/**
 * `npm run dev`: the local AppSync stack in the foreground.
 *   --port N        HTTP port (default 4000, or $PORT)
 *   --persist DIR   keep DynamoDB data in DIR (default: in memory)
 *   --seed          load the sample catalog after start
 *   --quiet         hide per-invocation REPORT lines
 *   --https         serve HTTPS/WSS with a local development CA's certificate
 *                   (.local/certs/, created on first use); aws-amplify v6 subscriptions need it
 */
import { parseArgs } from 'node:util';
import { join, relative } from 'node:path';
import { repositoryRoot } from '../lib/paths.js';
import { startLocalStack } from './runtime.js';
import { seedCatalog } from './seed.js';

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

const started = Date.now();
const stack = await startLocalStack({
  port,
  persistDir: values.persist,
  apiKey: process.env.APPSYNC_API_KEY,
  iamPrincipal:
    process.env.LOCAL_IAM_ACCESS_KEY_ID && process.env.LOCAL_IAM_SECRET_ACCESS_KEY
      ? {
          accessKeyId: process.env.LOCAL_IAM_ACCESS_KEY_ID,
          secretAccessKey: process.env.LOCAL_IAM_SECRET_ACCESS_KEY,
          accountId: '000000000000',
          userArn: 'arn:aws:iam::000000000000:user/local-backend',
        }
      : undefined,
  bundleDir: join(repositoryRoot, 'dist', 'functions'),
  userPoolKeyFile: join(repositoryRoot, '.local', 'dev-user-pool-key.pem'),
  log: values.quiet ? undefined : (line) => console.log(line),
  https: values.https,
  deadLetterDir: join(repositoryRoot, '.local', 'dlq'),
});

if (values.seed) {
  const count = await seedCatalog(stack);
  console.log(`Seeded ${count} products.`);
}

const adminToken = stack.userPool.mint({ username: 'admin', sub: 'admin', groups: ['admin'], expiresInSeconds: 12 * 3600 });
console.log(`
Local AppSync stack ready in ${Date.now() - started} ms
  GraphQL     POST ${stack.graphqlUrl}
  Real-time   ${stack.realtimeUrl}   (AppSync WebSocket protocol, subprotocol graphql-ws)
  GraphiQL    ${stack.url}/
  Health      ${stack.url}/health
  Streams     ${stack.eventSourceMappings().map((m) => `${m.table} → ${m.functionName}`).join(', ')}
              dead letters: GET ${stack.url}/dev/dlq (also .local/dlq/<function>.jsonl)
  API key     ${stack.apiKey}            (header x-api-key)
  Admin token ${adminToken}
              (header Authorization; mint others: npm run token -- --username alice [--group admin])
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

let stopping = false;
const shutdown = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping functions, HTTP server and DynamoDB Local...`);
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

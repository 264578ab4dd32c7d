/**
 * The local runtime for the load comparison, in a process of its own: a fresh
 * stack (DynamoDB Local, redis-server, the function bundles; loopback only,
 * a free port) seeded with the bench's data (bench/setup.ts). It hands the
 * bench the URL, credentials, data, and the bundles and functions'
 * environments the yoga peer needs to serve the same code against the same
 * tables and cache. Started by bench/peer/compare.ts.
 *   --products N --order-lines N --distinct-products N
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalStack, type LocalStack } from '../../local/runtime.js';
import { prepareData } from '../setup.js';
import type { InvocationCounts, RuntimeServerInfo } from './protocol.js';
import { sendReady, serveRequests } from './server-process.js';

const { values } = parseArgs({
  options: {
    products: { type: 'string', default: '200' },
    'order-lines': { type: 'string', default: '100' },
    'distinct-products': { type: 'string', default: '50' },
  },
  strict: true,
});

let stack: LocalStack | undefined;
const keyDirectory = await mkdtemp(join(tmpdir(), 'bench-user-pool-'));
serveRequests({
  invocations: (): InvocationCounts =>
    Object.fromEntries([...(stack?.functions ?? [])].map(([name, fn]) => [name, fn.stats().invocations])),
  handOffMs: () => [...(stack?.functions.values() ?? [])].reduce((sum, fn) => sum + fn.stats().handOffMs, 0),
  stop: async () => {
    await stack?.stop();
    await rm(keyDirectory, { recursive: true, force: true });
  },
});

try {
  const userPoolKeyFile = join(keyDirectory, 'user-pool-key.pem');
  stack = await startLocalStack({ port: 0, cache: 'redis', userPoolKeyFile });
  const data = await prepareData(stack, {
    products: Number(values.products),
    orderLines: Number(values['order-lines']),
    distinctProducts: Number(values['distinct-products']),
  });
  sendReady<RuntimeServerInfo>({
    pid: process.pid,
    nodeVersion: process.version,
    graphqlUrl: stack.graphqlUrl,
    apiKey: stack.apiKey,
    productIds: data.productIds,
    orderId: data.orderId,
    orderItems: data.orderItems,
    ownerToken: data.ownerToken,
    userPoolKeyFile,
    bundles: stack.bundles.map(({ name, file }) => ({ name, file })),
    functionEnvironments: stack.functionEnvironments,
  });
} catch (error) {
  console.error('The runtime server did not start:', error);
  await stack?.stop().catch(() => undefined);
  await rm(keyDirectory, { recursive: true, force: true });
  process.exit(1);
}

/**
 * The local stack's server processes: DynamoDB Local (a JVM, the slow one) and redis-server, started at
 * the same time since neither needs the other. Both are supervised and restarted on their port if they
 * die (README "Local faults"; what the stack then does is in local/stack/recovery.ts). A caller that can
 * spawn the JVM before it loads the stack's code (npm run dev) starts it with `startStackDynamoDBLocal`
 * and hands it over as `dynamodb`.
 */
import { startDynamoDBLocal, type DynamoDBLocalHandle } from '../dynamodb/dynamodb-local.js';
import { startRedisServer, type RedisServerHandle } from '../redis/redis-server.js';
import type { Cleanups } from './cleanups.js';

export interface StackProcesses {
  readonly dynamodb: DynamoDBLocalHandle;
  /** Undefined with `cache: 'none'`, or when no redis-server is installed (said once on the console). */
  readonly redis: RedisServerHandle | undefined;
}

export interface StackProcessesOptions {
  /** Keep DynamoDB data in this directory; in memory when unset. */
  readonly persistDir?: string | undefined;
  readonly cache?: 'redis' | 'none' | undefined;
  /** Start DynamoDB Local's JVM for start-up time rather than peak throughput (local/dynamodb/dynamodb-local.ts). */
  readonly quickStart?: boolean | undefined;
  /** DynamoDB Local already being started by `startStackDynamoDBLocal` (then `persistDir` and `quickStart` were given there). */
  readonly dynamodb?: Promise<DynamoDBLocalHandle> | undefined;
  /** Called with `dynamodb` and `redis` as each is ready (start-up timings). */
  readonly ready?: ((process: 'dynamodb' | 'redis') => void) | undefined;
}

/**
 * Starts the stack's DynamoDB Local (restarted on its port if it dies). For a caller that spawns the JVM first
 * thing and passes the promise on as `dynamodb`: a failure surfaces where startStackProcesses awaits it,
 * not as an unhandled rejection while the caller is still loading the rest of the stack.
 */
export function startStackDynamoDBLocal(options: Pick<StackProcessesOptions, 'persistDir' | 'quickStart'>): Promise<DynamoDBLocalHandle> {
  const starting = startDynamoDBLocal({ persistDir: options.persistDir, restart: true, quickStart: options.quickStart ?? false });
  starting.catch(() => undefined);
  return starting;
}

/**
 * Starts both (or takes over `dynamodb`) and registers their stops with `cleanups` as each comes up; if either fails, the other is
 * still stopped by the caller's cleanups, and the first failure is thrown.
 */
export async function startStackProcesses(options: StackProcessesOptions, cleanups: Cleanups): Promise<StackProcesses> {
  const [dynamodb, redis] = await Promise.allSettled([
    (options.dynamodb ?? startStackDynamoDBLocal(options)).then((handle) => {
      options.ready?.('dynamodb');
      return handle;
    }),
    options.cache === 'none'
      ? Promise.resolve(undefined)
      : startRedisServer({ log: (line) => console.warn(line) }).then((handle) => {
          options.ready?.('redis');
          return handle;
        }),
  ]);
  if (dynamodb.status === 'fulfilled') cleanups.add(() => dynamodb.value.stop());
  if (redis.status === 'fulfilled' && redis.value) {
    const server = redis.value;
    cleanups.add(() => server.stop());
  }
  if (dynamodb.status === 'rejected') throw dynamodb.reason;
  if (redis.status === 'rejected') throw redis.reason;
  return { dynamodb: dynamodb.value, redis: redis.value };
}

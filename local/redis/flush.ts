import type { RedisServerHandle } from './redis-server.js';

/** Empties the local cache: after DynamoDB Local lost its data, cached items would outlive the items themselves. */
export async function flushRedis(redis: RedisServerHandle): Promise<void> {
  if (!redis.running()) return; // a restarting or stopped redis-server comes back empty anyway
  // Loaded here, not with the stack: only a recovery flushes, and ioredis takes ~0.1 s to load.
  const { Redis } = await import('ioredis');
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  client.on('error', () => undefined); // the command reports its own failure
  try {
    await client.connect();
    await client.flushall();
  } finally {
    client.disconnect();
  }
}

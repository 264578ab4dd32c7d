import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { backend as dax } from '../../lib/cache/backends/dax.js';
import { backend as none } from '../../lib/cache/backends/none.js';
import { backend as redis } from '../../lib/cache/backends/redis.js';
import { backend as selected } from '../../lib/cache/backends/selected.js';
import { cacheBackendFromEnv, RedisStore, servedBackend } from '../../lib/cache/index.js';

const writes = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
afterAll(() => writes.destroy());

const redisConfig = cacheBackendFromEnv({ CACHE_BACKEND: 'redis', REDIS_URL: 'redis://127.0.0.1:1' });
const daxConfig = cacheBackendFromEnv({ CACHE_BACKEND: 'dax', DAX_ENDPOINT: 'dax://cluster.example' });

describe('cache backend modules (lib/cache/backends/)', () => {
  it('each serves its own backend; the unbundled module serves them all', () => {
    expect(none.serves).toEqual([]);
    expect(redis.serves).toEqual(['redis']);
    expect(dax.serves).toEqual(['dax']);
    expect([...selected.serves].sort()).toEqual(['dax', 'redis']);
  });

  it('give a Redis store only for redis, and the write client itself for reads outside DAX', async () => {
    const store = redis.store(redisConfig);
    expect(store).toBeInstanceOf(RedisStore);
    await store?.close();
    expect(none.store(redisConfig)).toBeUndefined();
    expect(dax.store(daxConfig)).toBeUndefined();
    expect(await none.readsClient(writes, { kind: 'none' })).toBe(writes);
    expect(await redis.readsClient(writes, redisConfig)).toBe(writes);
    expect(await dax.readsClient(writes, { kind: 'none' })).toBe(writes);
  });
});

describe('servedBackend', () => {
  it('passes a backend the bundle serves, and none always', () => {
    expect(servedBackend(redisConfig, ['redis'])).toBe(redisConfig);
    expect(servedBackend({ kind: 'none' }, [])).toEqual({ kind: 'none' });
    expect(servedBackend({ kind: 'none' }, ['dax'])).toEqual({ kind: 'none' });
  });

  it('refuses, as a deployment mismatch, a backend the bundle was not built with', () => {
    expect(() => servedBackend(redisConfig, [])).toThrow(
      'CACHE_BACKEND=redis, but this function was bundled with cache backend none: a deployment mismatch',
    );
    expect(() => servedBackend(daxConfig, ['redis'])).toThrow(/CACHE_BACKEND=dax, but this function was bundled with cache backend redis/);
  });
});

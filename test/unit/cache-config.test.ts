import { describe, expect, it } from 'vitest';
import { tokenFromSecretString } from '../../lib/cache/auth-token.js';
import { cacheBackendFromEnv, cachePolicy } from '../../lib/cache/index.js';
import { decodeEntry, encodeEntry, entryKey } from '../../lib/cache/entity-cache.js';
import { functionEnvironment, usesCache } from '../../declarations/function-environment.js';
import { countMetric, metricNames, parseEmfLine, takeMetrics } from '../../lib/metrics.js';
import { tables } from '../../declarations/tables.js';
import { findRedisServer, REDIS_MISSING_MESSAGE, reportRedisMissing, startRedisServer } from '../../local/redis/redis-server.js';
import { functions } from '../../declarations/functions.js';

const env = (values: Record<string, string>): NodeJS.ProcessEnv => values;

describe('cacheBackendFromEnv', () => {
  it('defaults to no cache, and treats blank values as unset', () => {
    expect(cacheBackendFromEnv(env({}))).toEqual({ kind: 'none' });
    expect(cacheBackendFromEnv(env({ CACHE_BACKEND: '' }))).toEqual({ kind: 'none' });
    expect(cacheBackendFromEnv(env({ CACHE_BACKEND: 'none', REDIS_URL: 'redis://x:1' }))).toEqual({ kind: 'none' });
  });

  it('reads a standalone Redis with TLS and AUTH', () => {
    expect(cacheBackendFromEnv(env({ CACHE_BACKEND: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' }))).toEqual({
      kind: 'redis',
      url: 'redis://127.0.0.1:6379',
      tls: false,
      commandTimeoutMs: 50,
    });
    expect(
      cacheBackendFromEnv(
        env({
          CACHE_BACKEND: 'redis',
          REDIS_URL: 'rediss://primary.example:6379',
          REDIS_AUTH_TOKEN: 't0k',
          REDIS_COMMAND_TIMEOUT_MS: '80',
        }),
      ),
    ).toEqual({ kind: 'redis', url: 'rediss://primary.example:6379', tls: true, authToken: 't0k', commandTimeoutMs: 80 });
  });

  it('reads cluster mode, which wins over REDIS_URL, with the AUTH token in Secrets Manager', () => {
    expect(
      cacheBackendFromEnv(
        env({
          CACHE_BACKEND: 'redis',
          REDIS_URL: 'redis://ignored:1',
          REDIS_CLUSTER_NODES: 'a.example:6379, b.example:6380',
          REDIS_TLS: 'true',
          REDIS_AUTH_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:redis',
        }),
      ),
    ).toEqual({
      kind: 'redis',
      clusterNodes: [
        { host: 'a.example', port: 6379 },
        { host: 'b.example', port: 6380 },
      ],
      tls: true,
      authSecretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:redis',
      commandTimeoutMs: 50,
    });
  });

  it('reads DAX', () => {
    expect(cacheBackendFromEnv(env({ CACHE_BACKEND: 'dax', DAX_ENDPOINT: 'daxs://c.abc.dax-clusters.us-east-1.amazonaws.com' }))).toEqual({
      kind: 'dax',
      endpoint: 'daxs://c.abc.dax-clusters.us-east-1.amazonaws.com',
    });
  });

  it('refuses configurations that would silently run without the cache they name', () => {
    expect(() => cacheBackendFromEnv(env({ CACHE_BACKEND: 'redis' }))).toThrow(/REDIS_URL or REDIS_CLUSTER_NODES/);
    expect(() => cacheBackendFromEnv(env({ CACHE_BACKEND: 'dax' }))).toThrow(/DAX_ENDPOINT/);
    expect(() => cacheBackendFromEnv(env({ CACHE_BACKEND: 'memcached' }))).toThrow(/redis, dax or none/);
    expect(() => cacheBackendFromEnv(env({ CACHE_BACKEND: 'redis', REDIS_CLUSTER_NODES: 'nohostport' }))).toThrow(/host:port/);
    expect(() => cacheBackendFromEnv(env({ CACHE_BACKEND: 'redis', REDIS_URL: 'redis://x:1', REDIS_COMMAND_TIMEOUT_MS: '0' }))).toThrow(
      /positive/,
    );
  });

  it('takes the AUTH token from a plain or JSON secret', () => {
    expect(tokenFromSecretString(' plain-token\n')).toBe('plain-token');
    expect(tokenFromSecretString('{"authToken":"a"}')).toBe('a');
    expect(tokenFromSecretString('{"password":"p"}')).toBe('p');
    expect(() => tokenFromSecretString('{"user":"x"}')).toThrow(/authToken/);
  });
});

describe('cache policy and environment', () => {
  it('declares the product policy next to the products table', () => {
    expect(cachePolicy('product')).toBe(tables.products.cache);
    expect(cachePolicy('product')).toMatchObject({ keyPrefix: 'product:v1:', pages: { keyPrefix: 'products-page:v1:' } });
    // The bound for writes that bypass write-through must cover the backstop's path: entries expire later than it.
    expect(cachePolicy('product').ttlSeconds * 1000).toBeGreaterThan(cachePolicy('product').maxStalenessMs);
  });

  it('gives every function touching a cached table the cache variables, and only those', () => {
    const physical = { products: 'p', orders: 'o', reviews: 'r' } as const;
    expect(usesCache(functions.catalog)).toBe(true);
    expect(usesCache(functions.orders)).toBe(true);
    expect(usesCache(functions.authorizer)).toBe(false);
    const values = { CACHE_BACKEND: 'redis', REDIS_URL: 'redis://127.0.0.1:1', REDIS_TLS: '', PARTNER_TOKENS_SHA256: 'x:y' };
    const catalog = functionEnvironment('catalog', functions.catalog, physical, values);
    expect(catalog).toMatchObject({ CACHE_BACKEND: 'redis', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(catalog).not.toHaveProperty('REDIS_TLS');
    expect(catalog).not.toHaveProperty('PARTNER_TOKENS_SHA256');
    expect(functionEnvironment('orders', functions.orders, physical)).toMatchObject({ CACHE_BACKEND: 'none' });
    expect(functionEnvironment('authorizer', functions.authorizer, physical, values)).not.toHaveProperty('CACHE_BACKEND');
  });
});

describe('cache entries', () => {
  it('encode the version ahead of the item, absence as version 0, and keep entry and lock in one cluster slot', () => {
    const item = { id: 'a', version: 12, name: 'pipe | and } brace' };
    expect(encodeEntry(item)).toBe(`12|${JSON.stringify(item)}`);
    expect(decodeEntry(encodeEntry(item))).toEqual({ kind: 'value', value: item });
    expect(encodeEntry(undefined)).toBe('0|');
    expect(decodeEntry('0|')).toEqual({ kind: 'absent' });
    expect(decodeEntry('~')).toEqual({ kind: 'fenced' });
    expect(decodeEntry(null)).toEqual({ kind: 'none' });
    expect(entryKey({ keyPrefix: 'product:v1:' }, 'abc')).toBe('product:v1:{abc}');
  });
});

describe('metrics', () => {
  it('publishes every counter as one EMF document that the local runtime parses back', () => {
    takeMetrics('reset');
    countMetric('CacheHits', 3);
    countMetric('DynamoDBReadCalls');
    const document = takeMetrics('catalog');
    expect(document._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Storefront', Dimensions: [['service']] });
    expect(document).toMatchObject({ service: 'catalog', CacheHits: 3, DynamoDBReadCalls: 1, CacheMisses: 0 });
    const parsed = parseEmfLine(JSON.stringify(document));
    expect(Object.keys(parsed ?? {}).sort()).toEqual([...metricNames].sort());
    expect(parsed).toMatchObject({ CacheHits: 3, DynamoDBReadCalls: 1 });
    expect(takeMetrics('catalog')).toMatchObject({ CacheHits: 0 });
    expect(parseEmfLine('{"level":"WARN","message":"x"}')).toBeUndefined();
    expect(parseEmfLine('START RequestId: 1')).toBeUndefined();
  });
});

describe('local redis-server', () => {
  it('without the binary, says so once and starts nothing', async () => {
    const lines: string[] = [];
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(findRedisServer()).toBeUndefined();
      expect(await startRedisServer({ log: (line) => lines.push(line) })).toBeUndefined();
      expect(await startRedisServer({ log: (line) => lines.push(line) })).toBeUndefined();
      reportRedisMissing((line) => lines.push(line));
    } finally {
      process.env.PATH = path;
    }
    expect(lines).toEqual([REDIS_MISSING_MESSAGE]);
    expect(REDIS_MISSING_MESSAGE).toBe('redis-server not found: running without the cache (apt-get install -y redis-server)');
  });
});

/**
 * The Redis/Valkey side of the cache (ElastiCache or a local redis-server),
 * through ioredis, tuned to fail fast rather than wait: a down or slow Redis
 * must cost a request at most one short timeout, never an error.
 *
 * - the store is created at module load (outside the handler); ioredis is imported, the
 *   client created and connected on first use;
 * - enableOfflineQueue false + maxRetriesPerRequest 1: while disconnected a command is
 *   rejected at once instead of queueing behind the reconnect;
 * - commandTimeout (50 ms by default): a slow answer is an error too;
 * - a breaker: after an error every command is skipped for BREAKER_OPEN_MS, so an
 *   outage costs one failed command per second per execution environment, not one per read;
 * - reconnection continues in the background (retryStrategy never gives up), so the
 *   cache comes back by itself when Redis does.
 * Errors are logged once per burst (on the first failure and on recovery), never thrown
 * to resolvers: the entity cache turns them into DynamoDB reads.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { resolveAuthToken } from './auth-token.js';
import { deferredLogger, type DeferredLogger } from '../logger.js';
import type { RedisBackendConfig } from './config.js';
import { CacheBypassed, FENCE, type CacheStore, type StoreOutcome } from './store.js';

export { CacheBypassed, FENCE, type CacheStore, type StoreOutcome } from './store.js';

/** How long the cache is skipped after a failed command. */
export const BREAKER_OPEN_MS = 1_000;
const CONNECT_TIMEOUT_MS = 1_000;
// Stores an entry only if it is newer than the cached one (compare-and-set by
// version, atomic because a script runs alone), never over a fence, with
// ARGV[5] = '1' only over an existing entry, and in the same step releases the
// loader's lock when the caller still holds it.
// KEYS[1] entry, KEYS[2] optional lock; ARGV version, encoded entry, TTL ms (0: store nothing), lock token, only-if-cached.
const STORE_VERSIONED = `
local outcome = 1
local current = redis.call('GET', KEYS[1])
if current == '${FENCE}' then
  outcome = -1
elseif current then
  local sep = string.find(current, '|', 1, true)
  local cached = sep and tonumber(string.sub(current, 1, sep - 1))
  if cached and cached >= tonumber(ARGV[1]) then outcome = 0 end
elseif ARGV[5] == '1' then
  outcome = 0
end
if outcome == 1 and tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
if KEYS[2] and redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
return outcome`;

const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// Renews a loader's lease only while the caller still holds it: a lapsed lock may already be someone else's.
const EXTEND_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const BUMP_GENERATION = `
local generation = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return generation`;

interface ScriptCommands {
  storeVersioned(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
  releaseLock(lockKey: string, token: string): Promise<number>;
  extendLock(lockKey: string, token: string, ttlMs: number): Promise<number>;
  bumpGeneration(key: string, ttlSeconds: number): Promise<number>;
}

type Client = (Redis | Cluster) & ScriptCommands;

function defineScripts(client: Redis | Cluster): Client {
  client.defineCommand('storeVersioned', { lua: STORE_VERSIONED });
  client.defineCommand('releaseLock', { lua: RELEASE_LOCK, numberOfKeys: 1 });
  client.defineCommand('extendLock', { lua: EXTEND_LOCK, numberOfKeys: 1 });
  client.defineCommand('bumpGeneration', { lua: BUMP_GENERATION, numberOfKeys: 1 });
  return client as Client;
}

/**
 * ioredis is imported on first cache use, not at module load: it is a separate
 * chunk of the bundle (build/bundle.ts), so an execution environment's init
 * does not pay for it (README "Function artifacts" has the figures).
 */
async function createClient(config: RedisBackendConfig, password: string | undefined): Promise<Client> {
  const ioredis = await import('ioredis');
  // Imported natively (tests, tsx) the named exports exist; in a bundle's chunk, esbuild exposes the
  // CommonJS package's module.exports as `default` only, and it carries Redis and Cluster as properties.
  const { Cluster, Redis } = (typeof ioredis.Redis === 'function' ? ioredis : ioredis.default) as typeof ioredis;
  const common: RedisOptions = {
    lazyConnect: true,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    ...(password ? { password } : {}),
    ...(config.tls ? { tls: {} } : {}),
  };
  // Keep trying to reconnect, quickly at first, at most every half second.
  const retry = (times: number): number => Math.min(50 * times, 500);
  if (config.clusterNodes) {
    return defineScripts(
      new Cluster([...config.clusterNodes], {
        lazyConnect: true,
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        clusterRetryStrategy: retry,
        // ElastiCache's TLS certificates name the configuration endpoint, not the node IPs.
        ...(config.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
        redisOptions: common,
      }),
    );
  }
  return defineScripts(new Redis(config.url ?? 'redis://127.0.0.1:6379', { ...common, enableOfflineQueue: false, retryStrategy: retry }));
}

export class RedisStore implements CacheStore {
  readonly #config: RedisBackendConfig;
  /**
   * Created on the first failure: most environments never log from here, and init need not load a logger.
   * Deferred (lib/logger.ts): the handlers wait for its lines (`logsWritten`) before they answer.
   */
  #logger: Logger | DeferredLogger | undefined;
  #client: Promise<Client> | undefined;
  #connecting: Promise<void> | undefined;
  #openUntil = 0;
  #failures = 0;

  constructor(config: RedisBackendConfig, logger?: Logger) {
    this.#config = config;
    this.#logger = logger;
  }

  available(): boolean {
    return Date.now() >= this.#openUntil;
  }

  get(key: string): Promise<string | null> {
    return this.#run('read', (client) => client.get(key));
  }

  mget(keys: readonly string[]): Promise<Array<string | null>> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.#run('read', (client) =>
      this.#config.clusterNodes ? Promise.all(keys.map((key) => client.get(key))) : client.mget(...keys),
    );
  }

  async storeVersioned(
    key: string,
    version: number,
    encoded: string,
    ttlMs: number,
    options: { lock?: { key: string; token: string }; onlyIfCached?: boolean } = {},
  ): Promise<StoreOutcome> {
    const { lock, onlyIfCached = false } = options;
    const keys = lock ? [key, lock.key] : [key];
    const ttl = Math.max(0, Math.round(ttlMs));
    const outcome = await this.#run('write', (client) =>
      client.storeVersioned(keys.length, ...keys, version, encoded, ttl, lock?.token ?? '', onlyIfCached ? '1' : '0'),
    );
    return outcome === 1 ? 'stored' : outcome === 0 ? 'not-newer' : 'fenced';
  }

  async tryLock(lockKey: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.#run('read', (client) => client.set(lockKey, token, 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async releaseLock(lockKey: string, token: string): Promise<void> {
    await this.#run('write', (client) => client.releaseLock(lockKey, token));
  }

  async extendLock(lockKey: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.#run('write', (client) => client.extendLock(lockKey, token, ttlMs))) === 1;
  }

  async fence(key: string, ttlMs: number): Promise<void> {
    await this.#run('write', (client) => client.set(key, FENCE, 'PX', ttlMs));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#run('write', (client) => client.set(key, value, 'PX', ttlMs));
  }

  async bumpGeneration(key: string, ttlSeconds: number): Promise<void> {
    await this.#run('write', (client) => client.bumpGeneration(key, ttlSeconds));
  }

  async close(): Promise<void> {
    const client = await this.#client?.catch(() => undefined);
    client?.disconnect();
  }

  #log(): Logger | DeferredLogger {
    this.#logger ??= deferredLogger();
    return this.#logger;
  }

  async #ready(): Promise<Client> {
    this.#client ??= resolveAuthToken(this.#config).then((token) => createClient(this.#config, token));
    const client = await this.#client.catch((error: unknown) => {
      this.#client = undefined; // a failed secret read (or import) is retried after the breaker
      throw error;
    });
    if (client.status === 'wait') {
      client.on('error', () => undefined); // failures surface on the commands; ioredis would otherwise print each one
      this.#connecting ??= client.connect().finally(() => {
        this.#connecting = undefined;
      });
    }
    if (this.#connecting) await this.#connecting;
    return client;
  }

  async #run<T>(kind: 'read' | 'write', command: (client: Client) => Promise<T>): Promise<T> {
    if (kind === 'read' && !this.available()) throw new CacheBypassed();
    try {
      const result = await command(await this.#ready());
      this.#openUntil = 0; // an answer, e.g. to a write attempted while reads were skipped, proves Redis is back
      if (this.#failures > 0) {
        this.#log().info('Cache reachable again', { failedCommands: this.#failures });
        this.#failures = 0;
      }
      return result;
    } catch (error) {
      this.#openUntil = Date.now() + BREAKER_OPEN_MS;
      if (this.#failures++ === 0) {
        this.#log().warn('Cache unreachable: reading DynamoDB directly until it answers again', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
      throw error;
    }
  }
}

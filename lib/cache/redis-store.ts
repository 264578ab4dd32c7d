/**
 * The Redis/Valkey side of the cache (ElastiCache or a local redis-server),
 * through ioredis, tuned to fail fast rather than wait: a down or slow Redis
 * must cost a request at most one short timeout, never an error.
 *
 * - lazyConnect: created at module load (outside the handler), connected on first use;
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
import { Logger } from '@aws-lambda-powertools/logger';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { resolveAuthToken } from './auth-token.js';
import type { RedisBackendConfig } from './config.js';

/** How long the cache is skipped after a failed command. */
export const BREAKER_OPEN_MS = 1_000;
const CONNECT_TIMEOUT_MS = 1_000;
/** Entries are `<version>|<json>`; this marks a fenced (just invalidated) key that takes no fill. */
export const FENCE = '~';

/** Outcome of a versioned store: stored, refused (the cache holds the same or a newer version, or nothing to refresh), or fenced. */
export type StoreOutcome = 'stored' | 'not-newer' | 'fenced';

/** Thrown instead of calling Redis while the breaker is open; not an error of its own. */
export class CacheBypassed extends Error {
  constructor() {
    super('cache skipped after a recent error');
    this.name = 'CacheBypassed';
  }
}

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

/**
 * What the entity and page caches need from a key-value store. Every method may reject; callers fall back.
 * Reads (get, mget, tryLock) are skipped while the breaker is open; writes are always attempted, because a
 * write-through that lands spares readers a stale entry, and while Redis is really down it fails at once.
 */
export interface CacheStore {
  /** False while the breaker is open: callers skip the cache without trying. */
  available(): boolean;
  get(key: string): Promise<string | null>;
  /** One MGET on a standalone server; per-key GETs (auto-pipelined per node) in cluster mode, where MGET must not span slots. */
  mget(keys: readonly string[]): Promise<Array<string | null>>;
  storeVersioned(
    key: string,
    version: number,
    encoded: string,
    ttlMs: number,
    options?: { lock?: { key: string; token: string }; onlyIfCached?: boolean },
  ): Promise<StoreOutcome>;
  /** SET NX PX: true when this caller now holds the lock. */
  tryLock(lockKey: string, token: string, ttlMs: number): Promise<boolean>;
  releaseLock(lockKey: string, token: string): Promise<void>;
  /** Renews a held lock for another `ttlMs`: false when the caller no longer holds it. */
  extendLock(lockKey: string, token: string, ttlMs: number): Promise<boolean>;
  /** Replaces the entry with a fence for `ttlMs`: no fill or put lands until it expires. */
  fence(key: string, ttlMs: number): Promise<void>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  bumpGeneration(key: string, ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}

function defineScripts(client: Redis | Cluster): Client {
  client.defineCommand('storeVersioned', { lua: STORE_VERSIONED });
  client.defineCommand('releaseLock', { lua: RELEASE_LOCK, numberOfKeys: 1 });
  client.defineCommand('extendLock', { lua: EXTEND_LOCK, numberOfKeys: 1 });
  client.defineCommand('bumpGeneration', { lua: BUMP_GENERATION, numberOfKeys: 1 });
  return client as Client;
}

function createClient(config: RedisBackendConfig, password: string | undefined): Client {
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
  readonly #logger: Logger;
  #client: Promise<Client> | undefined;
  #connecting: Promise<void> | undefined;
  #openUntil = 0;
  #failures = 0;

  constructor(config: RedisBackendConfig, logger: Logger = new Logger()) {
    this.#config = config;
    this.#logger = logger;
    // Without a secret to read, the client exists from module load on; with one, on first use.
    if (!config.authSecretArn || config.authToken) this.#client = Promise.resolve(createClient(config, config.authToken));
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
      client instanceof Cluster ? Promise.all(keys.map((key) => client.get(key))) : client.mget(...keys),
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

  async #ready(): Promise<Client> {
    this.#client ??= resolveAuthToken(this.#config).then((token) => createClient(this.#config, token));
    const client = await this.#client.catch((error: unknown) => {
      this.#client = undefined; // a failed secret read is retried after the breaker
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
        this.#logger.info('Cache reachable again', { failedCommands: this.#failures });
        this.#failures = 0;
      }
      return result;
    } catch (error) {
      this.#openUntil = Date.now() + BREAKER_OPEN_MS;
      if (this.#failures++ === 0) {
        this.#logger.warn('Cache unreachable: reading DynamoDB directly until it answers again', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
      throw error;
    }
  }
}

/**
 * Which cache backend a function uses, from its environment. Pure parsing, no
 * client: the stacks and the local runtime import the variable list below
 * without pulling in ioredis.
 */

/** The cache variables a function reading a cached table gets (lib/function-environment.ts). */
export const cacheEnvironmentVariables = {
  CACHE_BACKEND: '`redis`, `dax` or `none` (the default: no cache)',
  REDIS_URL: 'redis:// or rediss:// URL of a standalone/primary endpoint (ElastiCache, Valkey, redis-server)',
  REDIS_CLUSTER_NODES: 'host:port list, comma-separated: cluster mode (ElastiCache cluster mode enabled); wins over REDIS_URL',
  REDIS_TLS: '`true` for in-transit encryption (ElastiCache TLS)',
  REDIS_AUTH_SECRET_ARN: 'Secrets Manager secret holding the AUTH token, read once on first use',
  REDIS_AUTH_TOKEN: 'The AUTH token itself (where no secret is used; prefer the secret in AWS)',
  REDIS_COMMAND_TIMEOUT_MS: 'Per-command timeout; default 50. A slower answer counts as a cache error and the read goes to DynamoDB',
  DAX_ENDPOINT: 'DAX cluster discovery endpoint (dax:// or daxs://) for CACHE_BACKEND=dax',
} as const;

export type CacheEnvironmentVariable = keyof typeof cacheEnvironmentVariables;

export const DEFAULT_COMMAND_TIMEOUT_MS = 50;

export interface RedisBackendConfig {
  readonly kind: 'redis';
  /** Standalone (or primary endpoint) URL; unset in cluster mode. */
  readonly url?: string;
  /** Cluster mode seed nodes. */
  readonly clusterNodes?: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  readonly tls: boolean;
  readonly authToken?: string;
  readonly authSecretArn?: string;
  readonly commandTimeoutMs: number;
}

export type CacheBackendConfig =
  | { readonly kind: 'none' }
  | RedisBackendConfig
  | { readonly kind: 'dax'; readonly endpoint: string };

/** Empty strings count as unset: deployments pass every declared variable, some of them blank. */
function value(env: NodeJS.ProcessEnv, name: CacheEnvironmentVariable): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

function parseNodes(list: string): Array<{ host: string; port: number }> {
  return list.split(',').map((entry) => {
    const match = /^\s*([^\s:]+):(\d+)\s*$/.exec(entry);
    if (!match) throw new Error(`REDIS_CLUSTER_NODES: "${entry}" is not host:port`);
    return { host: match[1]!, port: Number(match[2]) };
  });
}

/**
 * The backend selected by `CACHE_BACKEND` (`redis` | `dax` | `none`, default
 * `none`). A misconfiguration (redis without an address, dax without an
 * endpoint, an unknown backend) throws at init: a function must not run with
 * a cache it was told to use silently missing.
 */
export function cacheBackendFromEnv(env: NodeJS.ProcessEnv = process.env): CacheBackendConfig {
  const backend = value(env, 'CACHE_BACKEND') ?? 'none';
  switch (backend) {
    case 'none':
      return { kind: 'none' };
    case 'dax': {
      const endpoint = value(env, 'DAX_ENDPOINT');
      if (!endpoint) throw new Error('CACHE_BACKEND=dax needs DAX_ENDPOINT (the cluster discovery endpoint)');
      return { kind: 'dax', endpoint };
    }
    case 'redis': {
      const nodes = value(env, 'REDIS_CLUSTER_NODES');
      const url = value(env, 'REDIS_URL');
      if (!nodes && !url) throw new Error('CACHE_BACKEND=redis needs REDIS_URL or REDIS_CLUSTER_NODES');
      const timeout = Number(value(env, 'REDIS_COMMAND_TIMEOUT_MS') ?? DEFAULT_COMMAND_TIMEOUT_MS);
      if (!(Number.isInteger(timeout) && timeout > 0)) throw new Error('REDIS_COMMAND_TIMEOUT_MS must be a positive integer');
      const authToken = value(env, 'REDIS_AUTH_TOKEN');
      const authSecretArn = value(env, 'REDIS_AUTH_SECRET_ARN');
      return {
        kind: 'redis',
        ...(nodes ? { clusterNodes: parseNodes(nodes) } : { url }),
        tls: value(env, 'REDIS_TLS') === 'true' || (!nodes && url?.startsWith('rediss://') === true),
        ...(authToken ? { authToken } : {}),
        ...(authSecretArn ? { authSecretArn } : {}),
        commandTimeoutMs: timeout,
      };
    }
    default:
      throw new Error(`CACHE_BACKEND must be redis, dax or none, not "${backend}"`);
  }
}

/**
 * Which cache backend a function uses, from its environment (the variables are
 * declared in declarations/cache-environment.ts). Pure parsing, no client.
 */

export { cacheEnvironmentVariables, type CacheEnvironmentVariable } from '../../declarations/cache-environment.js';
import type { CacheEnvironmentVariable } from '../../declarations/cache-environment.js';

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

export type CacheBackendConfig = { readonly kind: 'none' } | RedisBackendConfig | { readonly kind: 'dax'; readonly endpoint: string };

/** `CACHE_BACKEND`'s values; also the build-time choice of which client a function bundle contains (build/cache-backend.ts). */
export type CacheBackendKind = CacheBackendConfig['kind'];

export const cacheBackendKinds: readonly CacheBackendKind[] = ['none', 'redis', 'dax'];

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

/**
 * The variables through which a deployment tells a function how to reach its
 * cache: set by the stacks and the local runtime (./function-environment.ts),
 * read by lib/cache/config.ts inside the functions.
 */

/** The cache variables a function reading a cached table gets (declarations/function-environment.ts). */
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

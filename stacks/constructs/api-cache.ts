import { AppsyncApiCache } from '@cdktf/provider-aws/lib/appsync-api-cache/index.js';
import type { AppsyncResolverCachingConfig } from '@cdktf/provider-aws/lib/appsync-resolver/index.js';
import { Construct } from 'constructs';
import type { FieldCachingConfig } from '../../declarations/functions.js';
import type { AppSyncCacheConfig } from '../config.js';

export interface ApiResponseCacheProps {
  readonly apiId: string;
  readonly config: AppSyncCacheConfig;
}

/**
 * AppSync's server-side cache (an ElastiCache instance AppSync runs), in one of
 * its three behaviours:
 * - `PER_RESOLVER_CACHING`: only the fields declaring `cachingConfig` in the
 *   function map are cached, each with its TTL and keys (`resolverCachingConfig`);
 * - `FULL_REQUEST_CACHING`: every resolver's result, keyed on its arguments and
 *   the caller's identity, for `ttlSeconds`;
 * - `OPERATION_LEVEL_CACHING`: whole query responses, returned without running
 *   any resolver, for `ttlSeconds`.
 * Encrypted at rest and in transit (neither can change after creation).
 */
export class ApiResponseCache extends Construct {
  readonly cache: AppsyncApiCache;

  constructor(scope: Construct, id: string, props: ApiResponseCacheProps) {
    super(scope, id);
    this.cache = new AppsyncApiCache(this, 'cache', {
      apiId: props.apiId,
      type: props.config.type,
      apiCachingBehavior: props.config.behavior,
      ttl: props.config.ttlSeconds,
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
    });
  }
}

/**
 * The resolver's `caching_config` for a field that declares one, where the
 * environment caches per resolver. Under the other behaviours AppSync decides
 * what is cached and for how long, and without a cache there is nothing to
 * configure, so the field's declaration is not used there.
 */
export function resolverCachingConfig(
  declared: FieldCachingConfig | undefined,
  cache: AppSyncCacheConfig | undefined,
): AppsyncResolverCachingConfig | undefined {
  if (!declared || cache?.behavior !== 'PER_RESOLVER_CACHING') return undefined;
  return { ttl: declared.ttlSeconds, cachingKeys: [...declared.cachingKeys] };
}

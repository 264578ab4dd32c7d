import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CacheBackendConfig, CacheBackendKind } from '../config.js';
import type { CacheStore } from '../store.js';

/**
 * What lib/cache/index.ts needs from the cache clients. Each module of this
 * folder implements it for one backend; a function bundle contains exactly one
 * of them (build/cache-backend.ts resolves `selected.ts` to it), unbundled code
 * gets `selected.ts`, which serves them all.
 */
export interface CacheBackendModule {
  /** The backends this module's clients serve; `none` needs no client and is always served. */
  readonly serves: readonly Exclude<CacheBackendKind, 'none'>[];
  /** The key-value store behind the entity and page caches: Redis only (DAX caches inside the read client). */
  store(config: CacheBackendConfig): CacheStore | undefined;
  /** The client for GetItem/BatchGetItem: `writes` itself, except in DAX mode. */
  readsClient(writes: DynamoDBDocumentClient, config: CacheBackendConfig): Promise<DynamoDBDocumentClient>;
}

/** Redis (ElastiCache, Valkey, redis-server): the entity and page caches' store; reads go to DynamoDB on a miss. */
import { RedisStore } from '../redis-store.js';
import type { CacheBackendModule } from './contract.js';

export const backend: CacheBackendModule = {
  serves: ['redis'],
  store: (config) => (config.kind === 'redis' ? new RedisStore(config) : undefined),
  readsClient: async (writes) => writes,
};

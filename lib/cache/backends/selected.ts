/**
 * The cache backend module of this code. Unbundled (tests, scripts) it serves
 * every backend, as here. In a function bundle it is never this file:
 * build/cache-backend.ts resolves it to `none.ts`, `redis.ts` or `dax.ts`,
 * whichever the function's environment uses, so a bundle contains one client
 * or none.
 */
import type { CacheBackendModule } from './contract.js';
import { backend as dax } from './dax.js';
import { backend as redis } from './redis.js';

export const backend: CacheBackendModule = {
  serves: [...redis.serves, ...dax.serves],
  store: (config) => redis.store(config),
  readsClient: (writes, config) => dax.readsClient(writes, config),
};

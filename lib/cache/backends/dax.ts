/** DAX: no store; item reads go through the DAX client (lib/cache/dax.ts), which caches them. */
import { documentClientForReads } from '../dax.js';
import type { CacheBackendModule } from './contract.js';

export const backend: CacheBackendModule = {
  serves: ['dax'],
  store: () => undefined,
  readsClient: (writes, config) => documentClientForReads(writes, config),
};

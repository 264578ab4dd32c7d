/** No cache client at all: the module a bundle gets when its environment's backend is `none`. */
import type { CacheBackendModule } from './contract.js';

export const backend: CacheBackendModule = {
  serves: [],
  store: () => undefined,
  readsClient: async (writes) => writes,
};

/**
 * Cached list pages (e.g. `products(category, limit, nextToken)`): only the
 * ids and the nextToken are stored, and the caller resolves the ids through
 * the entity cache, so a page never carries stale item fields; only its
 * membership can age, by at most the page TTL.
 *
 * Invalidation is per partition through a generation counter: the page entry
 * records the generation current when its load began, and a write that
 * changes the partition's membership increments it, which orphans every page
 * of that partition at once (whatever its limit or token) without listing
 * them. Key and generation share a hash tag, so one MGET reads both, in
 * cluster mode too.
 */
import type { CachePolicy } from '../../declarations/tables.js';
import { CacheBypassed, type CacheStore } from './store.js';

export interface CachedPage {
  readonly ids: readonly string[];
  readonly nextToken: string | null;
}

export interface PageLookup {
  /** The page, when cached and current. */
  readonly page: CachedPage | undefined;
  /** Stores a freshly loaded page under the generation read before the load (a no-op after a hit or without a cache). */
  fill(page: CachedPage): Promise<void>;
}

export interface PageCache {
  lookup(partition: string, variant: string): Promise<PageLookup>;
  /** The partition's membership changed (an item was added, or moved in or out). */
  invalidate(partition: string): Promise<void>;
}

/** Generations outlive any page by far; they expire only so abandoned partitions don't accumulate. */
const GENERATION_TTL_SECONDS = 86_400;

const noFill = async (): Promise<void> => undefined;

export function createPageCache(
  policy: NonNullable<CachePolicy['pages']>,
  store: CacheStore | undefined,
  onError: (error: unknown) => void,
): PageCache {
  const generationKey = (partition: string): string => `${policy.keyPrefix}{${partition}}:gen`;
  const pageKey = (partition: string, variant: string): string => `${policy.keyPrefix}{${partition}}:${variant}`;
  const failed = (error: unknown): void => {
    if (!(error instanceof CacheBypassed)) onError(error);
  };

  return {
    async lookup(partition, variant) {
      if (!store?.available()) return { page: undefined, fill: noFill };
      const key = pageKey(partition, variant);
      let generation: string;
      let raw: string | null;
      try {
        const [gen = null, page = null] = await store.mget([generationKey(partition), key]);
        generation = gen ?? '0';
        raw = page;
      } catch (error) {
        failed(error);
        return { page: undefined, fill: noFill };
      }
      const sep = raw?.indexOf('|') ?? -1;
      if (raw && sep > 0 && raw.slice(0, sep) === generation) {
        return { page: JSON.parse(raw.slice(sep + 1)) as CachedPage, fill: noFill };
      }
      return {
        page: undefined,
        fill: (page) => store.set(key, `${generation}|${JSON.stringify(page)}`, policy.ttlSeconds * 1000).catch(failed),
      };
    },

    async invalidate(partition) {
      if (!store) return;
      await store.bumpGeneration(generationKey(partition), GENERATION_TTL_SECONDS).catch(failed);
    },
  };
}

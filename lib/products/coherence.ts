import { entityCache, pageCache, type CacheWriteOutcome, type EntityCache, type PageCache } from '../cache/index.js';
import type { ProductItem } from '../model.js';

/**
 * The product cache's coherence (README "Caching"), in one place: every write
 * to the product cache and to the category page generations goes through
 * here, called by the product data module after its own writes and by the
 * stream function for writes made around the API.
 *
 * - `written`: a committed write whose new item is known is written through
 *   (a versioned put: only a newer version replaces the cached one), and a
 *   category the product joined (created in it, moved to it) has its pages
 *   orphaned. Both never reject.
 * - `afterTransaction`: TransactWriteItems returns no items, so the products
 *   it changed are read back (consistently: at least the versions just
 *   committed) and written through. Writing the new items rather than dropping
 *   the entries keeps hot products cached and leaves no empty key for a
 *   lagging change feed to refill with an older image. If the read-back fails,
 *   the entries are invalidated instead (fenced, so no earlier read refills them).
 * - `refresh` / `invalidate`: for change feeds (the stream function), which
 *   may replay older images: refresh only replaces an existing entry, and
 *   invalidate drops it behind a short fence. Their outcome says whether the
 *   change reached the cache.
 */
export interface ProductCoherence {
  /** False without a cache store (CACHE_BACKEND none or dax): every operation is then a no-op. */
  readonly enabled: boolean;
  written(item: ProductItem, options?: { readonly joinedCategory?: string | undefined }): Promise<void>;
  afterTransaction(ids: readonly string[], readBack: (ids: string[]) => Promise<ReadonlyMap<string, ProductItem>>): Promise<void>;
  refresh(id: string, item: ProductItem): Promise<CacheWriteOutcome>;
  invalidate(id: string): Promise<CacheWriteOutcome>;
}

export function createProductCoherence(cache: EntityCache<ProductItem>, pages: PageCache | undefined): ProductCoherence {
  return {
    enabled: cache.enabled,

    async written(item, { joinedCategory } = {}) {
      // Write-through (replaces a cached "no such product" too), and the category's pages now list one more.
      await Promise.all([cache.put(item.id, item), joinedCategory !== undefined ? pages?.invalidate(joinedCategory) : undefined]);
    },

    async afterTransaction(ids, readBack) {
      if (!cache.enabled) return;
      const unique = [...new Set(ids)];
      let current: ReadonlyMap<string, ProductItem>;
      try {
        current = await readBack(unique);
      } catch {
        await Promise.all(unique.map((id) => cache.invalidate(id)));
        return;
      }
      await Promise.all(
        unique.map((id) => {
          const item = current.get(id);
          return item ? cache.put(id, item) : cache.invalidate(id);
        }),
      );
    },

    refresh: (id, item) => cache.refresh(id, item),
    invalidate: (id) => cache.invalidate(id),
  };
}

/** This execution environment's product cache coherence (the shared `entityCache('product')` and its pages). */
export function productCacheCoherence(): ProductCoherence {
  return createProductCoherence(entityCache<ProductItem>('product'), pageCache('product'));
}

import type { GraphQLSchema } from 'graphql';
import { api, apiLimitsOf, type ApiLimits } from '../../declarations/api.js';
import { prepareQuery, type Preparation } from './document-limits.js';

/**
 * Values by text key, least recently used out first, bounded by the total
 * length of the keys it holds as well as by entries: a stream of distinct
 * 1 MB documents evicts earlier ones instead of piling up. (The parser's
 * token cap bounds each document's AST, so text length is a fair proxy for
 * what an entry costs.)
 */
export class TextKeyedLru<V> {
  readonly #entries = new Map<string, V>();
  readonly #maxChars: number;
  readonly #maxEntries: number;
  #chars = 0;

  constructor(options: { readonly maxChars?: number; readonly maxEntries?: number } = {}) {
    this.#maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      // Re-inserting moves the entry to the young end of the Map's order.
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    if (this.#entries.has(key)) this.delete(key);
    if (key.length > this.#maxChars || this.#maxEntries < 1) return;
    this.#entries.set(key, value);
    this.#chars += key.length;
    for (const oldest of this.#entries.keys()) {
      if (this.#chars <= this.#maxChars && this.#entries.size <= this.#maxEntries) break;
      this.delete(oldest);
    }
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Total length of the keys held. */
  get chars(): number {
    return this.#chars;
  }

  delete(key: string): void {
    if (this.#entries.delete(key)) this.#chars -= key.length;
  }
}

/** 16 MB of query text. */
const DEFAULT_MAX_CHARS = 16 * 1024 * 1024;
const DEFAULT_MAX_ENTRIES = 1000;

export interface DocumentCacheOptions {
  readonly schema: GraphQLSchema;
  /** Introspection on or off, and the depth limit readers derive from `depths` (declarations/api.ts's `limits` by default). */
  readonly limits?: ApiLimits;
  readonly maxEntries?: number;
  /** Bound on the total length of the cached query texts (16 MB by default). */
  readonly maxChars?: number;
}

/**
 * The one place a document text becomes something that can run: parsed,
 * checked against the request limits and validated (`prepareQuery`), once per
 * distinct text, refusals included. The executor and the real-time endpoint
 * share one (local/runtime.ts hands the executor's to attachRealtime), so a
 * document both see is prepared once. What a reader derives from a
 * preparation (e.g. a subscription's root field) it may key on the
 * `PreparedQuery` object, which stays the same while the entry is cached.
 */
export class DocumentCache {
  readonly schema: GraphQLSchema;
  readonly limits: ApiLimits;
  readonly #entries: TextKeyedLru<Preparation>;

  constructor(options: DocumentCacheOptions) {
    this.schema = options.schema;
    this.limits = apiLimitsOf({ limits: options.limits ?? api.limits });
    this.#entries = new TextKeyedLru({ maxEntries: options.maxEntries, maxChars: options.maxChars });
  }

  /** The document's preparation (limits checked, validated), from the cache when the same text came before. */
  prepare(query: string): Preparation {
    const cached = this.#entries.get(query);
    if (cached) return cached;
    const prepared = prepareQuery(query, { schema: this.schema, limits: this.limits });
    this.#entries.set(query, prepared);
    return prepared;
  }

  /** Documents held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Total length of the query texts held. */
  get chars(): number {
    return this.#entries.chars;
  }
}

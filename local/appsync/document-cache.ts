/**
 * Prepared (parsed, checked, validated) documents by query text, least
 * recently used out first, bounded by the total length of the texts it holds
 * as well as by entries: a stream of distinct 1 MB documents evicts earlier
 * ones instead of piling up. (The parser's token cap bounds each document's
 * AST, so text length is a fair proxy for what an entry costs.)
 */
export class DocumentCache<V> {
  readonly #entries = new Map<string, V>();
  readonly #maxChars: number;
  readonly #maxEntries: number;
  #chars = 0;

  constructor(options: { readonly maxChars?: number; readonly maxEntries?: number } = {}) {
    this.#maxChars = options.maxChars ?? 16 * 1024 * 1024;
    this.#maxEntries = options.maxEntries ?? 1000;
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
    if (this.#entries.has(key)) this.#delete(key);
    if (key.length > this.#maxChars || this.#maxEntries < 1) return;
    this.#entries.set(key, value);
    this.#chars += key.length;
    for (const oldest of this.#entries.keys()) {
      if (this.#chars <= this.#maxChars && this.#entries.size <= this.#maxEntries) break;
      this.#delete(oldest);
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

  #delete(key: string): void {
    if (this.#entries.delete(key)) this.#chars -= key.length;
  }
}

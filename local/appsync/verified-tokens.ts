import { TextKeyedLru } from '../graphql/document-cache.js';

/**
 * JWTs already verified, so that a client sending the same token with every
 * request costs one signature check, not one per request. A token's signature
 * and issuer, audience and client id checks never change their answer; what
 * does is time: `exp`, and for OIDC the iat/auth_time TTLs. So each entry is
 * kept only until the first moment one of those would refuse the token
 * (`validUntilMs`); at or past it, the entry is dropped and the token is
 * verified in full again (and refused). Only successes are kept. Bounded
 * like the document cache (the same TextKeyedLru): past `maxEntries`, or
 * 16 MB of token text, the least recently used token goes first.
 *
 * On the server's main thread a user-pool RS256 check (decode, JSON, RSA
 * verify) was about a tenth of the CPU of a 100-line order request.
 */
export class VerifiedTokens<T> {
  readonly #maxEntries: number;
  #entries: TextKeyedLru<{ readonly value: T; readonly validUntilMs: number }>;

  constructor(options: { readonly maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#entries = new TextKeyedLru({ maxEntries: this.#maxEntries });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** What `token` verified to, while it still holds at `nowMs`. */
  get(token: string, nowMs = Date.now()): T | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (nowMs >= entry.validUntilMs) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps what `token` verified to until `validUntilMs` (exclusive; epoch ms). */
  set(token: string, value: T, validUntilMs: number, nowMs = Date.now()): void {
    if (validUntilMs > nowMs) this.#entries.set(token, { value, validUntilMs });
  }

  clear(): void {
    this.#entries = new TextKeyedLru({ maxEntries: this.#maxEntries });
  }
}

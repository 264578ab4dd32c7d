/**
 * Moved to local/graphql/document-cache.ts, where `DocumentCache` is now the
 * one preparing cache (parse, limits, validate) the executor and the
 * real-time endpoint share, built on this bounded map (`TextKeyedLru`).
 * This name stays until test/unit/query-limits.test.ts imports from there.
 * @deprecated Import `TextKeyedLru` from local/graphql/document-cache.ts.
 */
export { TextKeyedLru as DocumentCache } from '../graphql/document-cache.js';

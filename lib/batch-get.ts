import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** BatchGetItem accepts at most 100 keys per request. */
export const BATCH_GET_LIMIT = 100;
const MAX_ATTEMPTS = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads items by a single-attribute key with BatchGetItem: keys deduplicated,
 * chunked by 100, `UnprocessedKeys` retried with jittered exponential backoff
 * (DynamoDB returns them under throttling or the 16 MB response cap).
 * Returns a map from key value to item; absent items are simply missing.
 * `consistentRead` for reads that fill a cache (see lib/cache/entity-cache.ts).
 */
export async function batchGetByKey<T extends object>(
  client: DynamoDBDocumentClient,
  table: string,
  keyName: string,
  keyValues: readonly string[],
  options: { readonly consistentRead?: boolean } = {},
): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  const unique = [...new Set(keyValues)];
  for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
    let keys: Record<string, unknown>[] = unique.slice(start, start + BATCH_GET_LIMIT).map((v) => ({ [keyName]: v }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new Error(`BatchGetItem left ${keys.length} keys unprocessed after ${MAX_ATTEMPTS} attempts`);
      if (attempt > 0) await sleep(Math.random() * 25 * 2 ** attempt);
      const response = await client.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ...(options.consistentRead ? { ConsistentRead: true } : {}) } } }),
      );
      for (const item of response.Responses?.[table] ?? []) found.set(String(item[keyName]), item as unknown as T);
      keys = response.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return found;
}

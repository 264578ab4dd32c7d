import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { GetProductDocument } from '../../generated/client/graphql.js';
import { dynamoDbClientConfig } from '../../local/dynamodb/dynamodb-local.js';
import type { LocalStack } from '../../local/runtime.js';
import type { ApiClient } from './local-stack.js';

/**
 * Shared pieces of the hostile-input suites (`test/hostile/`): every case there
 * asserts the error type a client sees, that nothing was written, and that an
 * ordinary request sent at the same moment is still answered.
 */

/**
 * A liveness bound, not a speed target: an ordinary `product(id)` takes a few
 * milliseconds here; the stalls these suites guard against took 6–45 s. The
 * bound is wide enough for a loaded 2-core CI machine and still catches a stall.
 */
export const ORDINARY_REQUEST_BOUND_MS = 2_000;

/** Products are created as in every suite: see ./fixtures.ts (returns the created product; `.id` for its id). */
export { createProduct } from './fixtures.js';

/**
 * Runs `hostile` and, at the same moment, an ordinary `product(id)` read of
 * `probeId`. Asserts the ordinary read answers with its product and within
 * ORDINARY_REQUEST_BOUND_MS; returns the hostile result for the caller's own
 * assertions.
 */
export async function alongsideOrdinaryRequest<T>(api: ApiClient, probeId: string, hostile: () => Promise<T>): Promise<T> {
  const hostileRun = hostile();
  const started = performance.now();
  const ordinary = await api.request(GetProductDocument, { id: probeId }, api.asApiKey);
  const elapsed = performance.now() - started;
  expect(ordinary.errors).toBeUndefined();
  expect(ordinary.data?.product?.id).toBe(probeId);
  expect(elapsed, 'an ordinary request stalled behind a hostile one').toBeLessThan(ORDINARY_REQUEST_BOUND_MS);
  return hostileRun;
}

/** Every item of every table, straight from DynamoDB Local (bypassing the API and its cache). */
export async function tableSnapshot(stack: LocalStack): Promise<Record<string, unknown[]>> {
  const client = new DynamoDBClient(dynamoDbClientConfig(stack.dynamoDbEndpoint));
  try {
    const snapshot: Record<string, unknown[]> = {};
    for (const [name, table] of Object.entries(stack.tables)) {
      const items: unknown[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start as never }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      snapshot[name] = items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    }
    return snapshot;
  } finally {
    client.destroy();
  }
}

/** Runs `work` and asserts that no table changed across it. */
export async function expectNothingWritten<T>(stack: LocalStack, work: () => Promise<T>): Promise<T> {
  const before = await tableSnapshot(stack);
  const result = await work();
  expect(await tableSnapshot(stack), 'a refused request changed stored data').toEqual(before);
  return result;
}

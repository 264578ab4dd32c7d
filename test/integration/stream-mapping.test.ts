import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { tables } from '../../declarations/tables.js';
import type { StreamEventSource } from '../../declarations/functions.js';
import { ensureTable } from '../../local/dynamodb/create-tables.js';
import { dynamoDbClientConfig, type DynamoDBLocalHandle } from '../../local/dynamodb/dynamodb-local.js';
import type { InvocationResult } from '../../local/streams/batch-delivery.js';
import { DeadLetterStore } from '../../local/streams/dead-letters.js';
import { EventSourceMapping } from '../../local/streams/event-source-mapping.js';
import { workerOrOwnDynamoDB } from '../support/worker-dynamodb.js';

/**
 * The event source mapping against DynamoDB Local's real Streams API, with a
 * stand-in function: shard discovery, iterators, batching and stopping.
 */

let ddb: DynamoDBLocalHandle;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let streams: DynamoDBStreamsClient;
let tablePrefix: string;

beforeAll(async () => {
  ({ handle: ddb, tablePrefix } = await workerOrOwnDynamoDB('mapping'));
  client = new DynamoDBClient(dynamoDbClientConfig(ddb.endpoint));
  doc = DynamoDBDocumentClient.from(client);
  streams = new DynamoDBStreamsClient(dynamoDbClientConfig(ddb.endpoint));
});
afterAll(async () => {
  streams?.destroy();
  client?.destroy();
  await ddb?.stop();
});

const source: StreamEventSource = {
  table: 'products',
  startingPosition: 'TRIM_HORIZON',
  batchSize: 2,
  maximumBatchingWindowInSeconds: 0,
  maximumRetryAttempts: 1,
  bisectBatchOnFunctionError: true,
  functionResponseTypes: ['ReportBatchItemFailures'],
  deadLetter: true,
};

let tableCount = 0;
async function newTable(): Promise<{ name: string; streamArn: string }> {
  const name = `${tablePrefix}-${++tableCount}`;
  await ensureTable(client, name, tables.products);
  const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
  return { name, streamArn: Table!.LatestStreamArn! };
}

function mappingFor(
  streamArn: string,
  invoke: (event: DynamoDBStreamEvent) => Promise<InvocationResult>,
  change: Partial<StreamEventSource> = {},
) {
  const deadLetters = new DeadLetterStore();
  const mapping = new EventSourceMapping({
    functionName: 'fake',
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fake',
    table: 'products',
    streamArn,
    source: { ...source, ...change },
    client: streams,
    invoke,
    deadLetters,
    region: 'us-east-1',
    pollIntervalMs: 50,
    retryBaseDelayMs: 10,
  });
  mapping.start();
  return { mapping, deadLetters };
}

const ids = (event: DynamoDBStreamEvent): string[] => event.Records.map((r) => r.dynamodb?.Keys?.id?.S ?? '?');
const ok = (): Promise<InvocationResult> => Promise.resolve({ ok: true, requestId: 'r', payload: null });

/** How long a test waits for the mapping to deliver (vi.waitFor). */
const DELIVERED = { timeout: 10_000, interval: 20 };

describe('local event source mapping on DynamoDB Local', () => {
  it("delivers every record once, in order, in batches of at most batchSize, with Lambda's record fields", async () => {
    const { name, streamArn } = await newTable();
    const batches: DynamoDBStreamEvent[] = [];
    // Started before the first write: the iterator is taken on an empty shard (DynamoDB Local's trimmed-iterator quirk).
    const { mapping } = mappingFor(streamArn, (event) => {
      batches.push(event);
      return ok();
    });
    try {
      await doc.send(
        new BatchWriteCommand({
          RequestItems: { [name]: ['a', 'b', 'c', 'd', 'e'].map((id) => ({ PutRequest: { Item: { id, version: 1 } } })) },
        }),
      );
      await vi.waitFor(() => expect(batches.flatMap(ids).length).toBeGreaterThanOrEqual(5), DELIVERED);
      expect(batches.flatMap(ids)).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(batches.every((batch) => batch.Records.length <= 2)).toBe(true);
      expect(batches[0]?.Records[0]).toMatchObject({
        eventName: 'INSERT',
        eventSource: 'aws:dynamodb',
        eventSourceARN: streamArn,
        dynamodb: {
          Keys: { id: { S: 'a' } },
          NewImage: { id: { S: 'a' }, version: { N: '1' } },
          StreamViewType: 'NEW_AND_OLD_IMAGES',
          ApproximateCreationDateTime: expect.any(Number),
        },
      });
      expect(mapping.snapshot()).toMatchObject({ recordsRead: 5, deadLetters: 0, shards: 1 });
    } finally {
      await mapping.stop();
    }
  });

  it('waits up to the batching window to fill a batch', async () => {
    const { name, streamArn } = await newTable();
    const batches: string[][] = [];
    const { mapping } = mappingFor(
      streamArn,
      (event) => {
        batches.push(ids(event));
        return ok();
      },
      { batchSize: 100, maximumBatchingWindowInSeconds: 1 },
    );
    try {
      await doc.send(new PutCommand({ TableName: name, Item: { id: 'w1', version: 1 } }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await doc.send(new PutCommand({ TableName: name, Item: { id: 'w2', version: 1 } }));
      await vi.waitFor(() => expect(batches.length).toBeGreaterThan(0), DELIVERED);
      expect(batches).toEqual([['w1', 'w2']]);
    } finally {
      await mapping.stop();
    }
  });

  it('from LATEST, skips what was written before it started', async () => {
    const { name, streamArn } = await newTable();
    await doc.send(new PutCommand({ TableName: name, Item: { id: 'old', version: 1 } }));
    const seen: string[] = [];
    // The mapping's own GetShardIterator answer is the moment "LATEST" is fixed: write only after it.
    const send = vi.spyOn(streams, 'send') as unknown as MockInstance<(command: unknown) => Promise<unknown>>;
    const iteratorTaken = () =>
      send.mock.calls.some(
        ([command], i) =>
          command instanceof GetShardIteratorCommand &&
          command.input.StreamArn === streamArn &&
          send.mock.settledResults[i]?.type === 'fulfilled',
      );
    const { mapping } = mappingFor(
      streamArn,
      (event) => {
        seen.push(...ids(event));
        return ok();
      },
      { startingPosition: 'LATEST' },
    );
    try {
      await vi.waitFor(() => expect(iteratorTaken(), 'the mapping took its LATEST iterator').toBe(true), DELIVERED);
      send.mockRestore();
      await doc.send(new PutCommand({ TableName: name, Item: { id: 'new', version: 1 } }));
      await vi.waitFor(() => expect(seen.length).toBeGreaterThan(0), DELIVERED);
      expect(seen).toEqual(['new']);
    } finally {
      send.mockRestore();
      await mapping.stop();
    }
  });

  it('dead-letters what keeps failing and goes on with the shard', async () => {
    const { name, streamArn } = await newTable();
    const delivered: string[] = [];
    const { mapping, deadLetters } = mappingFor(streamArn, async (event) => {
      const failed = event.Records.filter((r) => r.dynamodb?.Keys?.id?.S === 'bad');
      delivered.push(...ids(event).filter((id) => id !== 'bad'));
      return {
        ok: true,
        requestId: 'r',
        payload: { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber! })) },
      };
    });
    try {
      for (const id of ['x', 'bad', 'y']) await doc.send(new PutCommand({ TableName: name, Item: { id, version: 1 } }));
      await vi.waitFor(() => {
        expect(deadLetters.list()).toHaveLength(1);
        expect(delivered).toContain('y');
      }, DELIVERED);
      expect(deadLetters.list()[0]?.records.map((r) => r.dynamodb?.Keys?.id?.S)).toContain('bad');
      expect(deadLetters.list()[0]?.message.DDBStreamBatchInfo.streamArn).toBe(streamArn);
    } finally {
      await mapping.stop();
    }
  });

  it('stops at once, even with an invocation that never answers', async () => {
    const { name, streamArn } = await newTable();
    let invoked = false;
    const { mapping } = mappingFor(streamArn, () => {
      invoked = true;
      return new Promise<InvocationResult>(() => undefined);
    });
    await doc.send(new PutCommand({ TableName: name, Item: { id: 'hang', version: 1 } }));
    await vi.waitFor(() => expect(invoked).toBe(true), DELIVERED);
    const started = Date.now();
    await mapping.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AddReviewDocument, GetProductDocument } from '../../generated/client/graphql.js';
import { dynamoDbClientConfig } from '../../local/dynamodb/dynamodb-local.js';
import { lambdaRecordFor } from '../../local/streams/lambda-event.js';
import { functions } from '../../declarations/functions.js';
import { createProduct } from '../support/fixtures.js';
import { useLocalStack } from '../support/local-stack.js';

/**
 * The stream function behind the real local stack: DynamoDB Local's streams,
 * the local event source mappings and the function's own execution
 * environments. "Within the bound" means: observed before the declared
 * `freshnessBoundSeconds` elapsed; nothing here asserts a speed beyond that.
 */

const local = useLocalStack();
const BOUND_MS = functions.stream.freshnessBoundSeconds * 1000;
let db: DynamoDBDocumentClient;

beforeAll(() => {
  db = DynamoDBDocumentClient.from(new DynamoDBClient(dynamoDbClientConfig(local.stack.dynamoDbEndpoint)));
});
afterAll(() => db?.destroy());

/** Polls `probe` (vi.waitFor) until it returns a value or the bound elapses; resolves with the value and how long it took. */
async function withinBound<T>(probe: () => Promise<T | undefined>, boundMs = BOUND_MS): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now();
  const value = await vi.waitFor(
    async () => {
      const value = await probe();
      if (value === undefined) throw new Error(`not observed within the declared bound of ${boundMs} ms`);
      return value;
    },
    { timeout: boundMs, interval: 50 },
  );
  return { value, elapsedMs: Date.now() - started };
}

const getProduct = async (id: string) => (await local.api.request(GetProductDocument, { id }, local.api.asApiKey)).data?.product;
// Through GetProduct, not a review listing: the poison review would fail the listing's Int rating.
const ratingOf = async (id: string) => (await getProduct(id))?.rating;
const streamMapping = (table: string) => local.stack.eventSourceMappings().find((m) => m.table === table)!;

describe('coherence through DynamoDB streams', () => {
  it('makes a write made outside the API visible through the API within the declared bound', async () => {
    const { id } = await createProduct(local.api, { name: 'Before', category: 'streams' });
    // Read it through the API first, so a cache (when one runs) holds the old version.
    expect(await getProduct(id)).toMatchObject({ name: 'Before', version: 1 });
    expect(await getProduct(id)).toMatchObject({ name: 'Before', version: 1 });
    const invocationsBefore = streamMapping('products').invocations;

    // A script's write: straight to the table, bumping the version as every product write must.
    await db.send(
      new UpdateCommand({
        TableName: local.stack.tables.products,
        Key: { id },
        UpdateExpression: 'SET #name = :name, version = version + :one',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':name': 'After', ':one': 1 },
      }),
    );
    const { value, elapsedMs } = await withinBound(async () => {
      const product = await getProduct(id);
      return product?.name === 'After' ? product : undefined;
    });
    expect(value.version).toBe(2);
    // The stream function saw the change (and refreshed the cache with it, when one runs).
    await withinBound(async () => (streamMapping('products').invocations > invocationsBefore ? true : undefined));
    console.info(`direct UpdateItem visible through the API after ${elapsedMs} ms (bound ${BOUND_MS} ms)`);
  });

  it('updates the rating summary from reviews added through the API within the bound, each counted once', async () => {
    const { id } = await createProduct(local.api, { name: 'Rated', category: 'streams' });
    for (const [i, rating] of [4, 5, 3].entries()) {
      const res = await local.api.request(AddReviewDocument, { input: { productId: id, rating } }, local.api.user(`rater-${i}`));
      expect(res.errors).toBeUndefined();
    }
    const { value, elapsedMs } = await withinBound(async () => {
      const rating = await ratingOf(id);
      return rating?.count === 3 ? rating : undefined;
    });
    expect(value).toEqual({ count: 3, average: 4 });
    console.info(`rating summary complete ${elapsedMs} ms after the last addReview`);
  });

  it('does not count a redelivered review INSERT twice', async () => {
    const { id } = await createProduct(local.api, { name: 'Redelivered', category: 'streams' });
    const added = await local.api.request(AddReviewDocument, { input: { productId: id, rating: 2 } }, local.api.user('once'));
    const review = added.data!.addReview;
    await withinBound(async () => ((await ratingOf(id))?.count === 1 ? true : undefined));

    // The same record again, twice, as a retried batch would deliver it.
    const { Item } = await db.send(new GetCommand({ TableName: local.stack.tables.reviews, Key: { productId: id, id: review.id } }));
    const { ratingApplied, ...inserted } = Item!;
    expect(ratingApplied).toBe(true);
    const record = lambdaRecordFor({
      streamArn: streamMapping('reviews').streamArn,
      eventName: 'INSERT',
      keys: { productId: id, id: review.id },
      newImage: inserted,
      sequenceNumber: '900000000000000000001',
    });
    const stream = local.stack.functions.get('stream')!;
    for (let i = 0; i < 2; i++) {
      const result = await stream.invoke({ Records: [record] });
      expect(result.ok && result.payload).toEqual({ batchItemFailures: [] });
    }
    expect(await ratingOf(id)).toEqual({ count: 1, average: 2 });
  });

  it("sends a poison record to the dead letters with AWS's on-failure message, and processes the rest of its batch", async () => {
    const { id: first } = await createProduct(local.api, { name: 'Poison neighbour 1', category: 'streams' });
    const { id: second } = await createProduct(local.api, { name: 'Poison neighbour 2', category: 'streams' });
    const review = (productId: string, id: string, rating: unknown) => ({
      PutRequest: { Item: { productId, id, rating, authorId: 'script', createdAt: new Date().toISOString(), title: null, body: null } },
    });
    // One write, so the three records reach the stream together and are read as one batch.
    await db.send(
      new BatchWriteCommand({
        RequestItems: {
          [local.stack.tables.reviews]: [review(first, 'r-good-1', 5), review(first, 'r-poison', 'five'), review(second, 'r-good-2', 3)],
        },
      }),
    );

    const declared = functions.stream.eventSources.find((s) => s.table === 'reviews')!;
    // Retries with backoff (0.2 + 0.4 + 0.8 s) come on top of the freshness bound for a failing record.
    const { value: letter } = await withinBound(
      async () => local.stack.deadLetters().find((l) => l.records.some((r) => r.dynamodb?.Keys?.id?.S === 'r-poison')),
      BOUND_MS + 5_000,
    );
    expect(letter.functionName).toBe('stream');
    expect(letter.records[0]?.dynamodb?.NewImage?.rating).toEqual({ S: 'five' });
    const poisonSequence = letter.records[0]!.dynamodb!.SequenceNumber!;
    expect(letter.message).toEqual({
      requestContext: {
        requestId: expect.any(String),
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:stream',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: expect.any(Number),
      },
      responseContext: expect.objectContaining({ statusCode: 200, executedVersion: '$LATEST' }),
      version: '1.0',
      timestamp: expect.any(String),
      DDBStreamBatchInfo: {
        shardId: expect.stringMatching(/^shardId-/),
        startSequenceNumber: poisonSequence,
        endSequenceNumber: letter.records.at(-1)!.dynamodb!.SequenceNumber,
        approximateArrivalOfFirstRecord: expect.stringMatching(/Z$/),
        approximateArrivalOfLastRecord: expect.stringMatching(/Z$/),
        batchSize: letter.records.length,
        streamArn: streamMapping('reviews').streamArn,
      },
    });
    expect(letter.message.requestContext.approximateInvokeCount).toBe(declared.maximumRetryAttempts + 1);

    // The other records of the batch took effect, each exactly once, even those redelivered with the poison.
    // Their rating reaches the API through a second stream hop (the product change), so wait within the bound.
    const settled = async (id: string) =>
      (await withinBound(async () => ((await ratingOf(id))?.count === 1 ? ratingOf(id) : undefined))).value;
    expect(await settled(first)).toEqual({ count: 1, average: 5 });
    expect(await settled(second)).toEqual({ count: 1, average: 3 });
    const poison = await db.send(new GetCommand({ TableName: local.stack.tables.reviews, Key: { productId: first, id: 'r-poison' } }));
    expect(poison.Item?.ratingApplied).toBeUndefined();

    // Inspectable over HTTP as well.
    const listed = (await (await fetch(`${local.stack.url}/dev/dlq`)).json()) as {
      deadLetters: Array<{ message: { DDBStreamBatchInfo: { startSequenceNumber: string } } }>;
    };
    expect(listed.deadLetters.map((l) => l.message.DDBStreamBatchInfo.startSequenceNumber)).toContain(poisonSequence);
  });
});

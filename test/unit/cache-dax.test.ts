import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DaxDocument } from '@amazon-dax-sdk/lib-dax';
import { describe, expect, it } from 'vitest';
import { documentClientForReads, readThroughDax, type DaxReads } from '../../lib/cache/dax.js';
import { takeMetrics } from '../../lib/metrics.js';

/** Records what reached "DynamoDB" and answers every command with a marker. */
function dynamoDb(): { client: DynamoDBDocumentClient; sent: string[] } {
  const sent: string[] = [];
  const client = {
    send: async (command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      return { Item: { from: 'dynamodb' }, Responses: {} };
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, sent };
}

describe('DAX mode reads', () => {
  it('serves GetItem and BatchGetItem from DAX (its method API: DaxDocument refuses send) and everything else from DynamoDB', async () => {
    const calls: string[] = [];
    const dax = {
      get: async (input: unknown) => (calls.push(`get ${JSON.stringify(input)}`), { Item: { from: 'dax' } }),
      batchGet: async (input: unknown) => (calls.push(`batchGet ${JSON.stringify(input)}`), { Responses: { t: [{ from: 'dax' }] } }),
    } as unknown as DaxReads;
    const db = dynamoDb();
    const reads = readThroughDax(dax, db.client);
    expect(await reads.send(new GetCommand({ TableName: 't', Key: { id: 'a' } }))).toEqual({ Item: { from: 'dax' } });
    expect(await reads.send(new BatchGetCommand({ RequestItems: { t: { Keys: [{ id: 'a' }] } } }))).toEqual({
      Responses: { t: [{ from: 'dax' }] },
    });
    await reads.send(new QueryCommand({ TableName: 't', KeyConditionExpression: 'id = :id', ExpressionAttributeValues: { ':id': 'a' } }));
    await reads.send(new PutCommand({ TableName: 't', Item: { id: 'a' } }));
    expect(calls).toEqual(['get {"TableName":"t","Key":{"id":"a"}}', 'batchGet {"RequestItems":{"t":{"Keys":[{"id":"a"}]}}}']);
    expect(db.sent).toEqual(['QueryCommand', 'PutCommand']);
  });

  it('falls back to DynamoDB when DAX throws, even synchronously, and then leaves DAX alone for a while', async () => {
    takeMetrics('reset');
    let daxCalls = 0;
    const dax = {
      get: () => {
        daxCalls += 1;
        throw new Error('send operation is not supported for DAX');
      },
    } as unknown as DaxReads;
    const db = dynamoDb();
    const reads = readThroughDax(dax, db.client);
    expect(await reads.send(new GetCommand({ TableName: 't', Key: { id: 'a' } }))).toMatchObject({ Item: { from: 'dynamodb' } });
    expect(await reads.send(new GetCommand({ TableName: 't', Key: { id: 'b' } }))).toMatchObject({ Item: { from: 'dynamodb' } });
    expect(daxCalls).toBe(1);
    expect(takeMetrics('t')).toMatchObject({ CacheErrors: 1 });
  });

  it('with the real DAX client and an unreachable cluster, reads still answer (from DynamoDB)', async () => {
    const dax = new DaxDocument({
      endpoint: 'dax://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const db = dynamoDb();
      const reads = readThroughDax(dax, db.client);
      expect(await reads.send(new GetCommand({ TableName: 't', Key: { id: 'a' } }))).toMatchObject({ Item: { from: 'dynamodb' } });
      expect(db.sent).toEqual(['GetCommand']);
    } finally {
      (dax as unknown as { shutdown(): void }).shutdown();
    }
  });

  it('is selected only by CACHE_BACKEND=dax', async () => {
    const db = dynamoDb();
    expect(await documentClientForReads(db.client, { kind: 'none' })).toBe(db.client);
    expect(await documentClientForReads(db.client, { kind: 'redis', url: 'redis://127.0.0.1:1', tls: false, commandTimeoutMs: 50 })).toBe(
      db.client,
    );
  });
});

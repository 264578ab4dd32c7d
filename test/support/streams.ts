import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { expect, vi } from 'vitest';
import type { TableName } from '../../declarations/tables.js';
import { dynamoDbClientConfig } from '../../local/dynamodb/dynamodb-local.js';
import type { LocalStack } from '../../local/runtime.js';

/** Where one stream record sits: its shard and sequence number. */
export interface StreamPosition {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/**
 * The newest record of `table`'s stream for the item whose partition key `keyName` is `keyValue`,
 * read from the stream itself (every shard, from its oldest record), so a test knows exactly which
 * record to wait for instead of waiting for a quiet period.
 */
export async function latestStreamRecord(stack: LocalStack, table: TableName, keyName: string, keyValue: string): Promise<StreamPosition> {
  const mapping = stack.eventSourceMappings().find((m) => m.table === table);
  if (!mapping) throw new Error(`No stream mapping reads the ${table} table`);
  const client = new DynamoDBStreamsClient(dynamoDbClientConfig(stack.dynamoDbEndpoint));
  try {
    const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn: mapping.streamArn }));
    let found: StreamPosition | undefined;
    for (const { ShardId: shardId } of StreamDescription?.Shards ?? []) {
      if (!shardId) continue;
      let { ShardIterator: iterator } = await client.send(
        new GetShardIteratorCommand({ StreamArn: mapping.streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      // An open shard always hands out a next iterator; an empty page means its end for now.
      while (iterator) {
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        for (const record of page.Records ?? []) {
          const sequenceNumber = record.dynamodb?.SequenceNumber;
          if (record.dynamodb?.Keys?.[keyName]?.S === keyValue && sequenceNumber) found = { shardId, sequenceNumber };
        }
        if (!page.Records?.length) break;
        iterator = page.NextShardIterator;
      }
    }
    if (!found) throw new Error(`No record of ${keyName}=${keyValue} in the ${table} stream`);
    return found;
  } finally {
    client.destroy();
  }
}

/**
 * Resolves once `table`'s event source mapping has handed the record at `position` to its function
 * and that invocation has finished (the mapping checkpoints a batch only after its delivery).
 */
export async function streamRecordDelivered(
  stack: LocalStack,
  table: TableName,
  position: StreamPosition,
  timeoutMs: number,
): Promise<void> {
  await vi.waitFor(
    () => {
      const mapping = stack.eventSourceMappings().find((m) => m.table === table)!;
      const checkpoint = mapping.checkpoints[position.shardId];
      expect(checkpoint, `${table} stream checkpoint of shard ${position.shardId}`).toBeDefined();
      expect(BigInt(checkpoint!) >= BigInt(position.sequenceNumber), `${table} stream delivered ${position.sequenceNumber}`).toBe(true);
    },
    { timeout: timeoutMs, interval: 20 },
  );
}

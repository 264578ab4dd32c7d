import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type DynamoDBStreamsClient,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { deliverBatch, type DeliveryPolicy, type DeliveryStats, type DeliveryTarget } from './batch-delivery.js';
import { toLambdaRecord } from './lambda-event.js';

/**
 * Reads one shard of a stream from its starting position to its end (a
 * closed shard's last record) or until stopped, gathering records into
 * batches of up to `batchSize` or `maximumBatchingWindowMs`, and delivers each
 * batch before reading on (one batch in flight per shard, as Lambda's
 * ParallelizationFactor 1): records of an item reach the function in order.
 */

export interface ShardReaderOptions {
  readonly client: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly shardId: string;
  readonly start: 'TRIM_HORIZON' | 'LATEST';
  readonly batchSize: number;
  readonly maximumBatchingWindowMs: number;
  /** Wait between empty GetRecords calls (Lambda polls a shard about four times a second). */
  readonly pollIntervalMs: number;
  readonly region: string;
  readonly policy: DeliveryPolicy;
  readonly target: DeliveryTarget;
  readonly stats: ShardStats;
  /** Told after every GetRecords round: undefined when it answered, else the error (for health reporting). */
  readonly onReadOutcome?: (error: unknown) => void;
}

export interface ShardStats extends DeliveryStats {
  recordsRead: number;
  batches: number;
  /** Sequence number of the last record handed over (processed or dead-lettered), per shard. */
  readonly checkpoints: Map<string, string>;
}

/** GetRecords returns at most 1,000 records per call. */
const GET_RECORDS_LIMIT = 1000;
/** Back-off after a failed GetRecords/GetShardIterator call that is not about the iterator. */
const READ_ERROR_DELAY_MS = 1000;

export async function readShard(options: ShardReaderOptions, signal: AbortSignal): Promise<void> {
  const { client, streamArn, shardId, target } = options;
  /** Last record taken from the shard: where to resume when the iterator must be replaced. */
  let lastRead: string | undefined;
  let buffer: DynamoDBRecord[] = [];
  let windowOpenedAt = 0;

  const iteratorAt = async (type: ShardIteratorType): Promise<string | undefined> => {
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: type,
        ...(type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: lastRead } : {}),
      }),
      { abortSignal: signal },
    );
    return ShardIterator;
  };
  /**
   * A replacement iterator after ExpiredIterator/TrimmedDataAccess: just after
   * the last record read, or the oldest retained one if that is gone too. (DynamoDB Local also
   * answers TrimmedDataAccess to any iterator taken while the shard was still
   * empty, once its first record arrives; resuming from TRIM_HORIZON then loses nothing.)
   */
  const resume = async (): Promise<string | undefined> => {
    if (lastRead !== undefined) {
      try {
        return await iteratorAt('AFTER_SEQUENCE_NUMBER');
      } catch (error) {
        if (!(error instanceof TrimmedDataAccessException)) throw error;
        target.log(`${shardId}: records after ${lastRead} were trimmed before they were read`);
      }
    }
    return iteratorAt('TRIM_HORIZON');
  };

  const flush = async (): Promise<void> => {
    while (buffer.length > 0 && !signal.aborted) {
      const batch = buffer.slice(0, options.batchSize);
      buffer = buffer.slice(batch.length);
      options.stats.batches += 1;
      await deliverBatch(batch, options.policy, target, signal, options.stats);
      const last = batch.at(-1)?.dynamodb?.SequenceNumber;
      if (!signal.aborted && last !== undefined) options.stats.checkpoints.set(shardId, last);
    }
  };

  let iterator: string | undefined;
  let replaceIterator = false;
  while (!signal.aborted) {
    try {
      if (replaceIterator) {
        iterator = await resume();
        replaceIterator = false;
      }
      iterator ??= await iteratorAt(options.start);
      if (iterator === undefined) break;
      const limit = Math.max(1, Math.min(GET_RECORDS_LIMIT, options.batchSize - buffer.length));
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }), { abortSignal: signal });
      const records = page.Records ?? [];
      if (records.length > 0 && buffer.length === 0) windowOpenedAt = Date.now();
      for (const record of records) buffer.push(toLambdaRecord(record, streamArn, options.region));
      options.stats.recordsRead += records.length;
      lastRead = records.at(-1)?.dynamodb?.SequenceNumber ?? lastRead;
      iterator = page.NextShardIterator;
      options.onReadOutcome?.(undefined);

      // No next iterator: the shard is closed and fully read.
      const ended = iterator === undefined;
      const windowElapsed = Date.now() - windowOpenedAt >= options.maximumBatchingWindowMs;
      if (buffer.length > 0 && (ended || buffer.length >= options.batchSize || windowElapsed)) await flush();
      if (ended) break;
      // A full page means more is waiting: read on at once. Otherwise wait for the next poll or the window's end.
      if (records.length < limit) {
        const untilWindowEnd = buffer.length > 0 ? windowOpenedAt + options.maximumBatchingWindowMs - Date.now() : Number.POSITIVE_INFINITY;
        await target.sleep(Math.max(0, Math.min(options.pollIntervalMs, untilWindowEnd)), signal);
      }
    } catch (error) {
      if (signal.aborted) break;
      if ((error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) && !replaceIterator) {
        replaceIterator = true;
        continue;
      }
      options.onReadOutcome?.(error);
      target.log(
        `${shardId}: reading failed, retrying in ${READ_ERROR_DELAY_MS} ms: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      );
      await target.sleep(READ_ERROR_DELAY_MS, signal);
    }
  }
  // A closed shard's buffered tail is delivered above; on stop, undelivered records are simply
  // read again by the next mapping (at-least-once, as on Lambda).
}

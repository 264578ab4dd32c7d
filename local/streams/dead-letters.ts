import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DynamoDBRecord } from 'aws-lambda';

/**
 * Where a local event source mapping puts batches that exhausted their
 * retries: the stand-in for the SQS queue that is the mapping's on-failure
 * destination on AWS. Each entry carries the exact message body AWS would send.
 */

/** `DDBStreamBatchInfo`: which part of which shard failed (AWS sends no record data). */
export interface StreamBatchInfo {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  /** ISO-8601, seconds precision, from the records' ApproximateCreationDateTime. */
  readonly approximateArrivalOfFirstRecord: string;
  readonly approximateArrivalOfLastRecord: string;
  readonly batchSize: number;
  readonly streamArn: string;
}

/** The message Lambda sends to a stream mapping's on-failure destination (SQS/SNS). */
export interface StreamFailureMessage {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetryAttemptsExhausted';
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: string;
    /** `Unhandled` when the last invocation failed; absent when it answered with batchItemFailures. */
    readonly functionError?: string;
  };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: StreamBatchInfo;
}

export interface DeadLetter {
  /** The on-failure message, as AWS would deliver it (in the SQS message body). */
  readonly message: StreamFailureMessage;
  /**
   * Local convenience only: the failed records themselves. On AWS they stay in
   * the stream (24 hours) and are read back with GetShardIterator
   * AT_SEQUENCE_NUMBER startSequenceNumber.
   */
  readonly records: readonly DynamoDBRecord[];
  /** The function whose mapping gave up on the batch. */
  readonly functionName: string;
}

/** Dead letters kept in memory; older ones are dropped (and counted), the files under `directory` keep them all. */
export const MAX_DEAD_LETTERS_IN_MEMORY = 1_000;

export class DeadLetterStore {
  private readonly entries: DeadLetter[] = [];
  /** Entries dropped from memory to stay within MAX_DEAD_LETTERS_IN_MEMORY. */
  dropped = 0;
  /** Appends run one after another so lines keep the order of `add`. */
  private writes: Promise<void> = Promise.resolve();

  /** @param directory when set, each entry is also appended as a JSON line to `<directory>/<function>.jsonl`. */
  constructor(private readonly directory?: string) {}

  add(entry: DeadLetter): void {
    this.entries.push(entry);
    if (this.entries.length > MAX_DEAD_LETTERS_IN_MEMORY) {
      this.entries.shift();
      this.dropped += 1;
    }
    const directory = this.directory;
    if (directory === undefined) return;
    this.writes = this.writes
      .then(async () => {
        await mkdir(directory, { recursive: true });
        await appendFile(join(directory, `${entry.functionName}.jsonl`), `${JSON.stringify(entry)}\n`);
      })
      // The in-memory copy stays authoritative; a failing disk must not break the mapping.
      .catch((error: unknown) => console.error(`Could not write a dead letter to ${directory}:`, error));
  }

  list(): readonly DeadLetter[] {
    return [...this.entries];
  }

  /** Resolves once every entry added so far is on disk. */
  flush(): Promise<void> {
    return this.writes;
  }
}

import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { DeadLetter, StreamFailureMessage } from './dead-letters.js';
import { compareSequenceNumbers } from './lambda-event.js';
import type { InvokeResult } from '../lambda/invoke-result.js';

/**
 * Delivers one batch of a shard to the function the way Lambda's event source
 * mapping does, and returns only when every record of it is either processed
 * or dead-lettered (or the mapping is stopping): the shard waits meanwhile,
 * which is what keeps records of one item in order.
 *
 * - Success: the function returns without error and, with
 *   ReportBatchItemFailures, reports no failure.
 * - Partial failure (`batchItemFailures`): Lambda checkpoints before the
 *   lowest reported sequence number and retries from there, so records after
 *   it are delivered again even if they succeeded: handlers must be idempotent.
 *   A malformed report (empty, null or unknown identifier) fails the whole batch.
 * - Function error (throw, timeout, crash): the whole batch failed. With
 *   bisectBatchOnFunctionError it is split in two and each half is retried on
 *   its own; a split is not a retry, so a poison record is isolated whatever
 *   the retry budget (our reading of "split the batch in two and retry").
 * - Each retry waits an exponential backoff; after `maximumRetryAttempts`
 *   retries (-1: never give up) the still-failing records become a dead
 *   letter with AWS's on-failure message, and the shard moves on.
 */

export interface DeliveryPolicy {
  readonly maximumRetryAttempts: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly reportBatchItemFailures: boolean;
  /** First retry delay; doubles per retry up to `retryMaxDelayMs`. */
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
}

/** What one invocation gave back: the executor's InvokeResult, with the invocation's request id. */
export type InvocationResult = InvokeResult & { readonly requestId: string };

export interface DeliveryTarget {
  readonly functionName: string;
  readonly functionArn: string;
  readonly streamArn: string;
  readonly shardId: string;
  invoke(event: DynamoDBStreamEvent): Promise<InvocationResult>;
  deadLetter(entry: DeadLetter): void;
  /** Abortable wait; resolves early (without throwing) when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  log(line: string): void;
}

export interface DeliveryStats {
  invocations: number;
  retries: number;
  bisections: number;
  deadLetters: number;
}

type Verdict =
  | { readonly kind: 'success' }
  /** `from`: index of the checkpoint (lowest failed record) within the batch. */
  | { readonly kind: 'partial'; readonly from: number }
  | { readonly kind: 'failure'; readonly functionError: boolean; readonly reason: string };

/** How Lambda reads a stream function's answer. */
export function judge(result: InvocationResult, batch: readonly DynamoDBRecord[], reportBatchItemFailures: boolean): Verdict {
  if (!result.ok) return { kind: 'failure', functionError: true, reason: `${result.error.errorType}: ${result.error.errorMessage}` };
  if (!reportBatchItemFailures) return { kind: 'success' };
  const payload = result.payload;
  // null, {}, { batchItemFailures: null } and { batchItemFailures: [] } all mean success.
  if (typeof payload !== 'object' || payload === null || !('batchItemFailures' in payload)) return { kind: 'success' };
  const failures: unknown = payload.batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'failure', functionError: false, reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };
  let from = Number.POSITIVE_INFINITY;
  for (const failure of failures as unknown[]) {
    const identifier = typeof failure === 'object' && failure !== null && 'itemIdentifier' in failure ? failure.itemIdentifier : undefined;
    const index =
      typeof identifier === 'string' && identifier !== '' ? batch.findIndex((r) => r.dynamodb?.SequenceNumber === identifier) : -1;
    if (index === -1) return { kind: 'failure', functionError: false, reason: `invalid batch item failure ${JSON.stringify(failure)}` };
    from = Math.min(from, index);
  }
  return { kind: 'partial', from };
}

export function retryDelayMs(policy: Pick<DeliveryPolicy, 'retryBaseDelayMs' | 'retryMaxDelayMs'>, retry: number): number {
  return Math.min(policy.retryMaxDelayMs, policy.retryBaseDelayMs * 2 ** (retry - 1));
}

export async function deliverBatch(
  records: readonly DynamoDBRecord[],
  policy: DeliveryPolicy,
  target: DeliveryTarget,
  signal: AbortSignal,
  stats: DeliveryStats,
): Promise<void> {
  const pending: Array<{ records: readonly DynamoDBRecord[]; retries: number }> = [{ records, retries: 0 }];
  while (pending.length > 0 && !signal.aborted) {
    const next = pending.shift()!;
    let batch = next.records;
    let retries = next.retries;
    for (;;) {
      stats.invocations += 1;
      let result: InvocationResult;
      try {
        result = await target.invoke({ Records: [...batch] });
      } catch (error) {
        // The Invoke call itself failed (e.g. the function was closed): no function ran.
        if (signal.aborted) return;
        result = { ok: false, requestId: 'none', error: { errorType: 'ServiceException', errorMessage: String(error) } };
      }
      if (signal.aborted) return;
      const verdict = judge(result, batch, policy.reportBatchItemFailures);
      if (verdict.kind === 'success') break;

      const failed = verdict.kind === 'partial' ? batch.slice(verdict.from) : batch;
      const exhausted = policy.maximumRetryAttempts !== -1 && retries >= policy.maximumRetryAttempts;
      if (exhausted) {
        stats.deadLetters += 1;
        target.deadLetter({
          functionName: target.functionName,
          message: failureMessage(target, failed, result, retries + 1),
          records: failed,
        });
        target.log(
          `${target.shardId}: ${failed.length} record(s) from ${failed[0]?.dynamodb?.SequenceNumber} sent to the dead letters after ${retries} retries`,
        );
        break;
      }
      if (verdict.kind === 'failure' && verdict.functionError && policy.bisectBatchOnFunctionError && failed.length > 1) {
        stats.bisections += 1;
        const middle = Math.ceil(failed.length / 2);
        pending.unshift({ records: failed.slice(0, middle), retries: 0 }, { records: failed.slice(middle), retries: 0 });
        break;
      }
      retries += 1;
      stats.retries += 1;
      const reason = verdict.kind === 'partial' ? `batch item failure at ${failed[0]?.dynamodb?.SequenceNumber}` : verdict.reason;
      target.log(`${target.shardId}: retry ${retries} of ${failed.length} record(s) (${reason})`);
      await target.sleep(retryDelayMs(policy, retries), signal);
      if (signal.aborted) return;
      batch = failed;
    }
  }
}

function arrival(record: DynamoDBRecord | undefined): string {
  const seconds = record?.dynamodb?.ApproximateCreationDateTime;
  // AWS writes these without fractional seconds, e.g. 2019-11-14T00:13:19Z.
  return seconds === undefined ? '' : new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function failureMessage(
  target: DeliveryTarget,
  failed: readonly DynamoDBRecord[],
  last: InvocationResult,
  invocations: number,
): StreamFailureMessage {
  const sequenceNumbers = failed.map((r) => r.dynamodb?.SequenceNumber ?? '0').sort(compareSequenceNumbers);
  return {
    requestContext: {
      requestId: last.requestId,
      functionArn: target.functionArn,
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: invocations,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: '$LATEST',
      ...(last.ok ? {} : { functionError: 'Unhandled' }),
    },
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId: target.shardId,
      startSequenceNumber: sequenceNumbers[0] ?? '',
      endSequenceNumber: sequenceNumbers.at(-1) ?? '',
      approximateArrivalOfFirstRecord: arrival(failed[0]),
      approximateArrivalOfLastRecord: arrival(failed.at(-1)),
      batchSize: failed.length,
      streamArn: target.streamArn,
    },
  };
}

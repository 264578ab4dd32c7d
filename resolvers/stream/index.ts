import { BatchProcessor, EventType, FullBatchFailureError, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, DynamoDBStreamHandler } from 'aws-lambda';
import { createDocumentClient, tableName } from '../../lib/dynamodb.js';
import { deferredLogger, logsWritten } from '../../lib/logger.js';
import type { ProductItem } from '../../lib/model.js';
import { tableEnvVar, type TableName } from '../../declarations/tables.js';
import { functions } from '../../declarations/functions.js';
import { CacheHold, CacheUnreachableError } from './cache-hold.js';
import { productImage, keyOf, reviewImage } from './images.js';
import { productCache } from './product-cache.js';
import { applyReviewRating } from './ratings.js';

/**
 * The stream function: Lambda's event source mappings (locally
 * `local/streams/`) hand it batches of DynamoDB stream records from the tables
 * declared in its `eventSources`.
 *
 * - products: every change reaches the product cache, whoever wrote it.
 *   INSERT/MODIFY put the new image (a versioned put: an older image never
 *   replaces a newer one, so redelivery and reordering are harmless); REMOVE
 *   invalidates. While the cache is unreachable these records wait for it
 *   within the invocation and then apply in order (cache-hold.ts): an outage
 *   is not a bad record, and must not fill the dead letters.
 * - reviews: an INSERT adds the review's rating to its product's summary,
 *   exactly once however often the record is delivered (see ratings.ts).
 *
 * Records are processed one after another, in stream order, and each one
 * that fails is reported in `batchItemFailures` (Powertools' batch
 * processor), so the mapping retries from the first failure only; when every
 * record fails, the processor throws, the mapping sees a function error and
 * can bisect the batch (unless they all failed for the unreachable cache:
 * halves would fail the same way).
 */

// Loaded when there is a line to write (lib/logger.ts): most batches log nothing.
const logger = deferredLogger({ serviceName: 'stream' });
const db = createDocumentClient();
const TABLES = { products: tableName('products'), reviews: tableName('reviews') } as const;
const processor = new BatchProcessor(EventType.DynamoDBStreams);

/** Which declared table a record comes from: its stream ARN names the table (`…:table/<name>/stream/<label>`). */
const physicalToLogical = new Map<string, TableName>(
  functions.stream.eventSources.map(({ table }) => [process.env[tableEnvVar(table)] ?? table, table]),
);
function sourceTable(record: DynamoDBRecord): TableName {
  const physical = /:table\/([^/]+)\/stream\//.exec(record.eventSourceARN ?? '')?.[1];
  const table = physical === undefined ? undefined : physicalToLogical.get(physical);
  if (!table)
    throw new Error(`Record ${record.eventID ?? '?'} comes from ${record.eventSourceARN ?? 'an unknown source'}, not a declared stream`);
  return table;
}

async function processRecord(record: DynamoDBRecord, hold: CacheHold): Promise<void> {
  const table = sourceTable(record);
  if (table === 'products') {
    const id = keyOf(record, 'id');
    if (record.eventName === 'REMOVE') {
      await productCache.invalidate(id, hold);
      return;
    }
    let item: ProductItem;
    try {
      item = productImage(record);
    } catch (error) {
      // Drop whatever is cached: readers go to the table rather than keep a copy this write replaced.
      await productCache.invalidate(id, hold);
      throw error;
    }
    await productCache.refresh(id, item, hold);
    return;
  }
  if (table === 'reviews' && record.eventName === 'INSERT') {
    const outcome = await applyReviewRating(db, TABLES, reviewImage(record));
    if (outcome === 'no-product')
      logger.warn('Review of a product that no longer exists; no summary to update', { key: record.dynamodb?.Keys });
    if (outcome === 'count-at-maximum')
      logger.error('Rating count of the product is at its maximum; review not counted', { key: record.dynamodb?.Keys });
  }
  // Review MODIFY/REMOVE: the summary counts reviews as they are added (the API neither edits nor deletes reviews).
}

async function recordHandler(record: DynamoDBRecord, hold: CacheHold): Promise<void> {
  try {
    await processRecord(record, hold);
  } catch (error) {
    // A cache outage is logged by the hold, once, not per record (cache-hold.ts).
    if (error instanceof CacheUnreachableError) throw error;
    // Powertools collects failures silently; each one is logged here with what identifies it in the stream.
    logger.error('Stream record failed', {
      sequenceNumber: record.dynamodb?.SequenceNumber,
      eventName: record.eventName,
      source: record.eventSourceARN,
      error: error as Error,
    });
    throw error;
  }
}

/** Every record failed, each only because the cache stayed unreachable: report them, not a function error. */
function heldBatch(event: DynamoDBStreamEvent, error: unknown): DynamoDBBatchResponse | undefined {
  if (!(error instanceof FullBatchFailureError) || !error.recordErrors.every((e) => e instanceof CacheUnreachableError)) return undefined;
  // A function error would make the mapping bisect the batch, i.e. invoke (and hold) once per half, for no gain.
  return { batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' })) };
}

export const handler: DynamoDBStreamHandler = async (event, context) => {
  // The wait for an unreachable cache is bounded by this invocation (cache-hold.ts).
  const hold = CacheHold.forInvocation(context.getRemainingTimeInMillis(), logger);
  try {
    // In order, not in parallel: records of one item must apply in stream order, and
    // concurrent rating updates of one product would only conflict with each other.
    return await processPartialResponse(event, (record: DynamoDBRecord) => recordHandler(record, hold), processor, {
      context,
      processInParallel: false,
    });
  } catch (error) {
    const held = heldBatch(event, error);
    if (held) return held;
    throw error;
  } finally {
    // The batch's log lines are written before the invocation ends (the Logger may still be loading).
    const writing = logsWritten();
    if (writing) await writing;
  }
};

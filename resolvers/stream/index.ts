import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBRecord, DynamoDBStreamHandler } from 'aws-lambda';
import { createDocumentClient, tableName } from '../../lib/dynamodb.js';
import type { ProductItem } from '../../lib/model.js';
import { tableEnvVar, type TableName } from '../../lib/tables.js';
import { functions } from '../functions.js';
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
 *   invalidates.
 * - reviews: an INSERT adds the review's rating to its product's summary,
 *   exactly once however often the record is delivered (see ratings.ts).
 *
 * Records are processed one after another, in stream order, and each one
 * that fails is reported in `batchItemFailures` (Powertools' batch
 * processor), so the mapping retries from the first failure only; when every
 * record fails, the processor throws, the mapping sees a function error and
 * can bisect the batch.
 */

const logger = new Logger({ serviceName: 'stream' });
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
  if (!table) throw new Error(`Record ${record.eventID ?? '?'} comes from ${record.eventSourceARN ?? 'an unknown source'}, not a declared stream`);
  return table;
}

async function processRecord(record: DynamoDBRecord): Promise<void> {
  const table = sourceTable(record);
  if (table === 'products') {
    const id = keyOf(record, 'id');
    if (record.eventName === 'REMOVE') {
      await productCache.invalidate(id);
      return;
    }
    let item: ProductItem;
    try {
      item = productImage(record);
    } catch (error) {
      // Drop whatever is cached: readers go to the table rather than keep a copy this write replaced.
      await productCache.invalidate(id);
      throw error;
    }
    await productCache.refresh(id, item);
    return;
  }
  if (table === 'reviews' && record.eventName === 'INSERT') {
    const outcome = await applyReviewRating(db, TABLES, reviewImage(record));
    if (outcome === 'no-product') logger.warn('Review of a product that no longer exists; no summary to update', { key: record.dynamodb?.Keys });
  }
  // Review MODIFY/REMOVE: the summary counts reviews as they are added (the API neither edits nor deletes reviews).
}

async function recordHandler(record: DynamoDBRecord): Promise<void> {
  try {
    await processRecord(record);
  } catch (error) {
    // Powertools collects failures silently; each one is logged here with what identifies it in the stream.
    logger.error('Stream record failed', { sequenceNumber: record.dynamodb?.SequenceNumber, eventName: record.eventName, source: record.eventSourceARN, error: error as Error });
    throw error;
  }
}

export const handler: DynamoDBStreamHandler = async (event, context) =>
  // In order, not in parallel: records of one item must apply in stream order, and
  // concurrent rating updates of one product would only conflict with each other.
  processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });

import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MAX_RATING_COUNT } from '../../declarations/bounds.js';
import type { ReviewItem } from '../../lib/model.js';

/**
 * The product rating summary (ratingCount/ratingTotal on the product item),
 * maintained from review INSERT records.
 *
 * Stream records arrive at least once (a retried batch redelivers records
 * that had succeeded), so the increment is made idempotent by recording it on
 * the review itself: one transaction sets `ratingApplied` on the review, on
 * the condition that it is not set yet, and increments the product's
 * counters. A redelivery finds the flag and changes nothing; no separate
 * dedup table, no TTL window to outlive.
 *
 * The product's `version` is bumped too: the summary is part of the product,
 * and the product cache only accepts a newer version (so the cached copy
 * moves to the new summary, and an older image can never replace it).
 *
 * `RatingSummary.count` is a GraphQL Int: the increment is conditioned on the
 * count being below MAX_RATING_COUNT, so no delivery (or race between two)
 * can store a count the API could no longer return. (ratingTotal is at most 5×
 * that, well within a double's exact range, and only ever divided.)
 */

export type RatingOutcome =
  /** Counted now. */
  | 'applied'
  /** Already counted (a redelivery), or the review has since been deleted. */
  | 'already-applied'
  /** The product no longer exists: there is no summary to maintain. */
  | 'no-product'
  /** The product's count is at MAX_RATING_COUNT: this review is not counted (retrying cannot help). */
  | 'count-at-maximum';

/** TransactionConflict (a concurrent transaction on the same product) is worth a quick retry here, not a batch retry. */
const CONFLICT_ATTEMPTS = 4;

export async function applyReviewRating(
  db: DynamoDBDocumentClient,
  tables: { readonly reviews: string; readonly products: string },
  review: Pick<ReviewItem, 'productId' | 'id' | 'rating'>,
): Promise<RatingOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: tables.reviews,
                Key: { productId: review.productId, id: review.id },
                UpdateExpression: 'SET ratingApplied = :true',
                ConditionExpression: 'attribute_exists(id) AND attribute_not_exists(ratingApplied)',
                ExpressionAttributeValues: { ':true': true },
              },
            },
            {
              Update: {
                TableName: tables.products,
                Key: { id: review.productId },
                UpdateExpression: 'SET version = version + :one ADD ratingCount :one, ratingTotal :rating',
                ConditionExpression: 'attribute_exists(id) AND (attribute_not_exists(ratingCount) OR ratingCount < :maxCount)',
                ExpressionAttributeValues: { ':one': 1, ':rating': review.rating, ':maxCount': MAX_RATING_COUNT },
                // Tells a missing product from one whose count is at the maximum.
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      );
      return 'applied';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [onReview, onProduct] = (error.CancellationReasons ?? []).map((reason) => reason.Code);
      if (onReview === 'ConditionalCheckFailed') return 'already-applied';
      if (onProduct === 'ConditionalCheckFailed') return error.CancellationReasons?.[1]?.Item ? 'count-at-maximum' : 'no-product';
      const conflict = onReview === 'TransactionConflict' || onProduct === 'TransactionConflict';
      if (!conflict || attempt >= CONFLICT_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * 2 ** attempt));
    }
  }
}

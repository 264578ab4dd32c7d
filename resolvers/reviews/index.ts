import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_RATING, MAX_REVIEW_BODY_LENGTH, MAX_REVIEW_TITLE_LENGTH, MIN_RATING } from '../../declarations/bounds.js';
import { createDocumentClient, tableName } from '../../lib/dynamodb.js';
import { notFound } from '../../lib/errors.js';
import { callerSub } from '../../lib/identity.js';
import type { ReviewItem } from '../../lib/model.js';
import { decodeNextToken, encodeNextToken } from '../../lib/pagination.js';
// Only the check, not the whole products module: this function changes no product and needs no cache.
import { productChecks } from '../../lib/products/checks.js';
import { createResolverHandler } from '../../lib/resolver-handler.js';
import { optionalText, pageSize, requireId, requireInt } from '../../lib/validation.js';
import { functions } from '../../declarations/functions.js';

const db = createDocumentClient();
const REVIEWS = tableName('reviews');
const products = productChecks();

/** Sort keys that order reviews by time, newest first when read backwards. */
const reviewId = (createdAt: string): string => `${createdAt}#${randomUUID().slice(0, 8)}`;

export const handler = createResolverHandler(functions.reviews, {
  'Product.reviews': async ({ limit, nextToken }, event) => {
    const productId = event.source.id;
    const { Items, LastEvaluatedKey } = await db.send(
      new QueryCommand({
        TableName: REVIEWS,
        KeyConditionExpression: 'productId = :productId',
        ExpressionAttributeValues: { ':productId': productId },
        ScanIndexForward: false,
        Limit: pageSize(limit),
        ExclusiveStartKey: decodeNextToken(nextToken, {
          attributes: ['productId', 'id'],
          partition: { name: 'productId', value: productId },
        }),
      }),
    );
    return { items: (Items ?? []) as ReviewItem[], nextToken: encodeNextToken(LastEvaluatedKey) };
  },

  'Mutation.addReview': async ({ input }, event) => {
    const authorId = callerSub(event.identity);
    const createdAt = new Date().toISOString();
    const review: ReviewItem = {
      productId: requireId('productId', input.productId),
      id: reviewId(createdAt),
      authorId,
      rating: requireInt('rating', input.rating, MIN_RATING, MAX_RATING),
      title: optionalText('title', input.title, MAX_REVIEW_TITLE_LENGTH),
      body: optionalText('body', input.body, MAX_REVIEW_BODY_LENGTH),
      createdAt,
    };
    try {
      // Only the review is written, and only for a product that exists. The rating summary
      // follows from its stream record (resolvers/stream): eventually consistent, within the
      // stream function's freshnessBoundSeconds, and the product item is not a hot spot every
      // review of it must contend for.
      await db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: REVIEWS, Item: review, ConditionExpression: 'attribute_not_exists(id)' } },
            products.exists(review.productId),
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed') {
        throw notFound('Product', input.productId);
      }
      throw error;
    }
    return review;
  },
});

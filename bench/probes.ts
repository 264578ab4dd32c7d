import type { AppSyncAuthorizerEvent, DynamoDBStreamEvent } from 'aws-lambda';
import type { ResolverEvent } from '../lib/appsync/resolver-event.js';
import { unwrapFieldResult } from '../lib/lambda-response.js';
import { toProduct } from '../lib/model.js';
import type { LocalStack } from '../local/runtime.js';
import { lambdaRecordFor } from '../local/streams/lambda-event.js';
import { sampleProducts } from '../local/seed.js';
import type { FunctionName } from '../declarations/functions.js';
import { GetOrderWithProductsDocument, GetProductDocument, ProductWithReviewsDocument } from '../generated/client/graphql.js';
import { cognitoIdentity, fieldEvent } from './events.js';

/**
 * One representative invocation per function, for the cold-start and
 * warm-duration measurements. Which functions exist comes from the bundles
 * (the function map); this table only says how to call each one, and its
 * `Record<FunctionName, …>` type makes `tsc` fail when a function is added to
 * the map without a probe here.
 */

export interface Probe {
  /** A resolver's field event, the Lambda authorizer's request event, or a stream function's batch. */
  readonly event: ResolverEvent | AppSyncAuthorizerEvent | DynamoDBStreamEvent;
  /** What the event exercises, for the report: `Type.field`, or `AWS_LAMBDA` for the authorizer. */
  readonly target: string;
  /** Checks the function's response payload; returns a problem description or null. */
  readonly check: (payload: unknown) => string | null;
}

/** A resolver probe: the payload must be a FieldResult with data, which `checkData` then judges. */
function fieldProbe(event: ResolverEvent, checkData: (data: unknown) => string | null): Probe {
  return {
    event,
    target: `${event.info.parentTypeName}.${event.info.fieldName}`,
    check: (payload) => {
      const field = unwrapFieldResult(payload);
      return field.ok ? checkData(field.data) : `field error ${field.errorType}: ${field.message}`;
    },
  };
}

export interface ProbeContext {
  readonly stack: LocalStack;
  /** A seeded product id. */
  readonly productId: string;
  /** The 100-item order and its owner (username = sub). */
  readonly orderId: string;
  readonly orderItems: number;
  readonly owner: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

export function probes(context: ProbeContext): Record<FunctionName, Probe> {
  const { stack, productId, orderId, orderItems, owner } = context;
  // The parent value Product.reviews gets is what catalog returned for the
  // product: the stored seed item mapped through toProduct.
  const product = sampleProducts(Number(productId.replace(/\D/g, ''))).find((p) => p.id === productId);
  if (!product) throw new Error(`${productId} is not a seeded product id`);

  return {
    catalog: fieldProbe(
      fieldEvent({
        document: GetProductDocument,
        path: ['product'],
        parentTypeName: 'Query',
        arguments: { id: productId },
        variables: { id: productId },
        identity: null, // API key caller
      }),
      (data) =>
        isRecord(data) && data.id === productId ? null : `expected product ${productId}, got ${JSON.stringify(data)?.slice(0, 200)}`,
    ),
    orders: fieldProbe(
      fieldEvent({
        document: GetOrderWithProductsDocument,
        path: ['order'],
        parentTypeName: 'Query',
        arguments: { id: orderId },
        variables: { id: orderId },
        identity: cognitoIdentity(stack.userPool, owner),
      }),
      (data) =>
        isRecord(data) && data.id === orderId && Array.isArray(data.items) && data.items.length === orderItems
          ? null
          : `expected order ${orderId} with ${orderItems} items, got ${JSON.stringify(data)?.slice(0, 200)}`,
    ),
    reviews: fieldProbe(
      fieldEvent({
        document: ProductWithReviewsDocument,
        path: ['product', 'reviews'],
        parentTypeName: 'Product',
        arguments: { limit: 20 },
        variables: { id: productId, limit: 20 },
        identity: null,
        source: toProduct(product),
      }),
      (data) => (isRecord(data) && Array.isArray(data.items) ? null : `expected a review page, got ${JSON.stringify(data)?.slice(0, 200)}`),
    ),
    // On the path of every partner request whose decision is not cached.
    authorizer: {
      event: {
        authorizationToken: stack.partner.token,
        requestContext: {
          apiId: stack.apiId,
          accountId: stack.accountId,
          requestId: 'bench-authorizer-probe',
          queryString: 'query GetProduct($id: ID!) { product(id: $id) { id } }',
          operationName: 'GetProduct',
          variables: { id: productId },
        },
        requestHeaders: { authorization: stack.partner.token },
      },
      target: 'AWS_LAMBDA',
      check: (payload) =>
        isRecord(payload) &&
        payload.isAuthorized === true &&
        isRecord(payload.resolverContext) &&
        payload.resolverContext.partnerId === stack.partner.partnerId
          ? null
          : `expected the local partner to be authorized, got ${JSON.stringify(payload)?.slice(0, 200)}`,
    },
    // One product change as its stream delivers it (the seeded item, re-put): the cache refresh path.
    stream: {
      event: {
        Records: [
          lambdaRecordFor({
            streamArn: `arn:aws:dynamodb:ddblocal:${stack.accountId}:table/${stack.tables.products}/stream/bench`,
            eventName: 'MODIFY',
            keys: { id: product.id },
            newImage: { ...product },
            oldImage: { ...product },
            sequenceNumber: '100000000000000000001',
          }),
        ],
      },
      target: 'DynamoDB stream',
      check: (payload) =>
        isRecord(payload) && Array.isArray(payload.batchItemFailures) && payload.batchItemFailures.length === 0
          ? null
          : `expected no batch item failures, got ${JSON.stringify(payload)?.slice(0, 200)}`,
    },
  };
}

import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetByKey } from '../../lib/batch-get.js';
import { createDocumentClient, tableName } from '../../lib/dynamodb.js';
import { DomainError, notFound, validationError } from '../../lib/errors.js';
import { requirePrivileged } from '../../lib/identity.js';
import { toProduct, type ProductItem } from '../../lib/model.js';
import { decodeNextToken, encodeNextToken } from '../../lib/pagination.js';
import { createResolverHandler } from '../../lib/resolver-handler.js';
import { optionalText, pageSize, requireInt, requireText } from '../../lib/validation.js';
import { functions } from '../functions.js';
import type { UpdateProductInput } from '../../generated/graphql.js';

// Init once per execution environment, outside the handler.
const db = createDocumentClient();
const PRODUCTS = tableName('products');

const MAX_PRICE_CENTS = 100_000_000;
const MAX_STOCK = 1_000_000_000;

async function getProduct(id: string): Promise<ProductItem | undefined> {
  const { Item } = await db.send(new GetCommand({ TableName: PRODUCTS, Key: { id } }));
  return Item as ProductItem | undefined;
}

/** Tells a failed conditional write on a product apart: missing item vs failed business condition. */
function productConditionError(error: unknown, id: string, onExisting: (item: ProductItem) => DomainError): unknown {
  if (!(error instanceof ConditionalCheckFailedException)) return error;
  if (!error.Item) return notFound('Product', id);
  // The exception carries the item in DynamoDB's wire format, not as a document.
  return onExisting(unmarshall(error.Item) as ProductItem);
}

function updateExpression(input: UpdateProductInput): { set: string[]; values: Record<string, unknown>; names: Record<string, string> } {
  const fields: Array<[keyof UpdateProductInput, unknown]> = [];
  if (input.name !== undefined && input.name !== null) fields.push(['name', requireText('name', input.name, 200)]);
  if (input.description !== undefined) fields.push(['description', optionalText('description', input.description, 5000)]);
  if (input.priceCents !== undefined && input.priceCents !== null) {
    fields.push(['priceCents', requireInt('priceCents', input.priceCents, 0, MAX_PRICE_CENTS)]);
  }
  if (input.category !== undefined && input.category !== null) fields.push(['category', requireText('category', input.category, 64)]);
  if (fields.length === 0) throw validationError('updateProduct needs at least one field to change');
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const set = fields.map(([name, value]) => {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    return `#${name} = :${name}`;
  });
  return { set, values, names };
}

export const handler = createResolverHandler(functions.catalog, {
  'Query.product': async ({ id }) => {
    const item = await getProduct(id);
    return item ? toProduct(item) : null;
  },

  'Query.products': async ({ category, limit, nextToken }) => {
    const { Items, LastEvaluatedKey } = await db.send(
      new QueryCommand({
        TableName: PRODUCTS,
        IndexName: 'byCategory',
        KeyConditionExpression: 'category = :category',
        ExpressionAttributeValues: { ':category': category },
        Limit: pageSize(limit),
        ExclusiveStartKey: decodeNextToken(nextToken, {
          attributes: ['id', 'category', 'createdAt'],
          partition: { name: 'category', value: category },
        }),
      }),
    );
    return { items: (Items as ProductItem[] | undefined ?? []).map(toProduct), nextToken: encodeNextToken(LastEvaluatedKey) };
  },

  'Mutation.createProduct': async ({ input }, event) => {
    requirePrivileged(event.identity);
    const now = new Date().toISOString();
    const item: ProductItem = {
      id: randomUUID(),
      sku: requireText('sku', input.sku, 64),
      name: requireText('name', input.name, 200),
      description: optionalText('description', input.description, 5000),
      priceCents: requireInt('priceCents', input.priceCents, 0, MAX_PRICE_CENTS),
      currency: input.currency,
      category: requireText('category', input.category, 64),
      stock: requireInt('stock', input.stock, 0, MAX_STOCK),
      version: 1,
      createdAt: now,
      updatedAt: now,
      ratingCount: 0,
      ratingTotal: 0,
    };
    await db.send(new PutCommand({ TableName: PRODUCTS, Item: item, ConditionExpression: 'attribute_not_exists(id)' }));
    return toProduct(item);
  },

  'Mutation.updateProduct': async ({ input }, event) => {
    requirePrivileged(event.identity);
    const { set, values, names } = updateExpression(input);
    try {
      const { Attributes } = await db.send(
        new UpdateCommand({
          TableName: PRODUCTS,
          Key: { id: input.id },
          UpdateExpression: `SET ${set.join(', ')}, version = version + :one, updatedAt = :now`,
          ConditionExpression: 'attribute_exists(id) AND version = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':one': 1, ':now': new Date().toISOString(), ':expected': input.expectedVersion },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return toProduct(Attributes as ProductItem);
    } catch (error) {
      throw productConditionError(error, input.id, (current) =>
        new DomainError('ConditionFailed', `Product ${input.id} is at version ${current.version}, not ${input.expectedVersion}`, {
          currentVersion: current.version,
        }),
      );
    }
  },

  'Mutation.adjustStock': async ({ id, delta }, event) => {
    requirePrivileged(event.identity);
    requireInt('delta', delta, -MAX_STOCK, MAX_STOCK);
    if (delta === 0) throw validationError('delta must not be 0', { field: 'delta' });
    try {
      const { Attributes } = await db.send(
        new UpdateCommand({
          TableName: PRODUCTS,
          Key: { id },
          UpdateExpression: 'SET stock = stock + :delta, version = version + :one, updatedAt = :now',
          ConditionExpression: 'attribute_exists(id) AND stock >= :floor',
          ExpressionAttributeValues: { ':delta': delta, ':one': 1, ':now': new Date().toISOString(), ':floor': Math.max(0, -delta) },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return toProduct(Attributes as ProductItem);
    } catch (error) {
      throw productConditionError(error, id, (current) =>
        new DomainError('InsufficientStock', `Product ${id} has ${current.stock} in stock; cannot remove ${-delta}`, {
          stock: current.stock,
        }),
      );
    }
  },

  // BatchInvoke: one BatchGetItem round for every order line of the request.
  'OrderItem.product': async (events) => {
    const ids = events.map((event) => event.source.productId);
    const items = await batchGetByKey<ProductItem>(db, PRODUCTS, 'id', ids);
    return ids.map((id) => {
      const item = items.get(id);
      return item ? toProduct(item) : null;
    });
  },
});

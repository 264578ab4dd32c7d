import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, MAX_PRICE_CENTS, MAX_SKU_LENGTH, MAX_STOCK } from '../../declarations/bounds.js';
import type { CreateProductInput, UpdateProductInput } from '../../generated/graphql.js';
import { DomainError, notFound, validationError } from '../errors.js';
import type { ProductItem } from '../model.js';
import { optionalText, requireCategory, requireId, requireInt, requireText } from '../validation.js';
import type { ProductCoherence } from './coherence.js';

/**
 * Catalog writes. Each one validates its input against declarations/bounds.ts,
 * writes with the conditions that keep the item valid (every write bumps
 * `version`), and writes the new item through the cache before it returns:
 * once a call has resolved, no read through the cache returns the older item.
 * A failed condition becomes a domain error: NotFound when the product does
 * not exist, otherwise what the current item says (ConditionFailed,
 * InsufficientStock, ValidationError).
 */
export interface ProductWrites {
  /** A new product (version 1) from the API's input; its category's cached pages are orphaned. */
  create(input: CreateProductInput): Promise<ProductItem>;
  /** Changes the given fields if the product is still at `expectedVersion`; a category change orphans the new category's pages. */
  update(input: UpdateProductInput): Promise<ProductItem>;
  /** Adds `delta` (non-zero) to the stock, which must stay within [0, MAX_STOCK]. */
  adjustStock(id: string, delta: number): Promise<ProductItem>;
}

export interface ProductWritesDependencies {
  readonly db: DynamoDBDocumentClient;
  readonly table: string;
  readonly coherence: ProductCoherence;
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
  if (input.name !== undefined && input.name !== null) fields.push(['name', requireText('name', input.name, MAX_NAME_LENGTH)]);
  if (input.description !== undefined) fields.push(['description', optionalText('description', input.description, MAX_DESCRIPTION_LENGTH)]);
  if (input.priceCents !== undefined && input.priceCents !== null) {
    fields.push(['priceCents', requireInt('priceCents', input.priceCents, 0, MAX_PRICE_CENTS)]);
  }
  if (input.category !== undefined && input.category !== null) fields.push(['category', requireCategory('category', input.category)]);
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

export function createProductWrites({ db, table, coherence }: ProductWritesDependencies): ProductWrites {
  return {
    async create(input) {
      const now = new Date().toISOString();
      const item: ProductItem = {
        id: randomUUID(),
        sku: requireText('sku', input.sku, MAX_SKU_LENGTH),
        name: requireText('name', input.name, MAX_NAME_LENGTH),
        description: optionalText('description', input.description, MAX_DESCRIPTION_LENGTH),
        priceCents: requireInt('priceCents', input.priceCents, 0, MAX_PRICE_CENTS),
        currency: input.currency,
        category: requireCategory('category', input.category),
        stock: requireInt('stock', input.stock, 0, MAX_STOCK),
        version: 1,
        createdAt: now,
        updatedAt: now,
        ratingCount: 0,
        ratingTotal: 0,
      };
      await db.send(new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(id)' }));
      await coherence.written(item, { joinedCategory: item.category });
      return item;
    },

    async update(input) {
      requireId('id', input.id);
      const { set, values, names } = updateExpression(input);
      let item: ProductItem;
      try {
        const { Attributes } = await db.send(
          new UpdateCommand({
            TableName: table,
            Key: { id: input.id },
            UpdateExpression: `SET ${set.join(', ')}, version = version + :one, updatedAt = :now`,
            ConditionExpression: 'attribute_exists(id) AND version = :expected',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...values, ':one': 1, ':now': new Date().toISOString(), ':expected': input.expectedVersion },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        item = Attributes as ProductItem;
      } catch (error) {
        throw productConditionError(
          error,
          input.id,
          (current) =>
            new DomainError('ConditionFailed', `Product ${input.id} is at version ${current.version}, not ${input.expectedVersion}`, {
              currentVersion: current.version,
            }),
        );
      }
      // A product moving category joins the new category's pages; the old ones drop it when read (reads.ts, cachedPageItems).
      await coherence.written(item, { joinedCategory: input.category != null ? item.category : undefined });
      return item;
    },

    async adjustStock(id, delta) {
      requireId('id', id);
      requireInt('delta', delta, -MAX_STOCK, MAX_STOCK);
      if (delta === 0) throw validationError('delta must not be 0', { field: 'delta' });
      // The new stock must land in [0, MAX_STOCK]; checked in the condition, so a concurrent
      // adjustment cannot carry it past either end between our read and our write.
      const floor = Math.max(0, -delta);
      const ceiling = Math.min(MAX_STOCK, MAX_STOCK - delta);
      let item: ProductItem;
      try {
        const { Attributes } = await db.send(
          new UpdateCommand({
            TableName: table,
            Key: { id },
            UpdateExpression: 'SET stock = stock + :delta, version = version + :one, updatedAt = :now',
            ConditionExpression: 'attribute_exists(id) AND stock >= :floor AND stock <= :ceiling',
            ExpressionAttributeValues: {
              ':delta': delta,
              ':one': 1,
              ':now': new Date().toISOString(),
              ':floor': floor,
              ':ceiling': ceiling,
            },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        item = Attributes as ProductItem;
      } catch (error) {
        throw productConditionError(error, id, (current) =>
          current.stock > ceiling
            ? validationError(`Product ${id} has ${current.stock} in stock; adding ${delta} would exceed the maximum of ${MAX_STOCK}`, {
                field: 'delta',
                stock: current.stock,
                maxStock: MAX_STOCK,
              })
            : new DomainError('InsufficientStock', `Product ${id} has ${current.stock} in stock; cannot remove ${-delta}`, {
                stock: current.stock,
              }),
        );
      }
      await coherence.written(item);
      return item;
    },
  };
}

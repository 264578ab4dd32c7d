import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetByKey } from '../../lib/batch-get.js';
import { MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, MAX_PRICE_CENTS, MAX_SKU_LENGTH, MAX_STOCK } from '../../declarations/bounds.js';
import { cacheBackendFromEnv, documentClientForReads, entityCache, pageCache } from '../../lib/cache/index.js';
import { createDocumentClient, tableName } from '../../lib/dynamodb.js';
import { DomainError, notFound, validationError } from '../../lib/errors.js';
import { requirePrivileged } from '../../lib/identity.js';
import { toProduct, type ProductItem } from '../../lib/model.js';
import { decodeNextToken, encodeNextToken } from '../../lib/pagination.js';
import { createResolverHandler } from '../../lib/resolver-handler.js';
import { isId, optionalText, pageSize, requireCategory, requireId, requireInt, requireText } from '../../lib/validation.js';
import { functions } from '../../declarations/functions.js';
import type { UpdateProductInput } from '../../generated/graphql.js';

// Init once per execution environment, outside the handler.
const db = createDocumentClient();
const PRODUCTS = tableName('products');
// Item reads go through the product cache (policy in declarations/tables.ts); in DAX mode they go to DAX.
const reads = await documentClientForReads(db, cacheBackendFromEnv());
const products = entityCache<ProductItem>('product');
const productPages = pageCache('product');

/** The loaders behind the cache; consistent when they fill Redis, so a fill never predates an acknowledged write. */
async function readProduct(id: string): Promise<ProductItem | undefined> {
  const { Item } = await reads.send(new GetCommand({ TableName: PRODUCTS, Key: { id }, ...(products.consistentLoads ? { ConsistentRead: true } : {}) }));
  return Item as ProductItem | undefined;
}
const readProducts = (ids: string[]) => batchGetByKey<ProductItem>(reads, PRODUCTS, 'id', ids, { consistentRead: products.consistentLoads });

const getProduct = (id: string): Promise<ProductItem | undefined> => products.get(id, () => readProduct(id));

/** A cached page's products, or undefined when one is gone or has left the category since (the page is stale then). */
async function cachedPageItems(ids: readonly string[], category: string): Promise<ProductItem[] | undefined> {
  const found = await products.getMany(ids, readProducts);
  const items = ids.map((id) => found.get(id));
  return items.every((item): item is ProductItem => item?.category === category) ? items : undefined;
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

export const handler = createResolverHandler(functions.catalog, {
  'Query.product': async ({ id }) => {
    const item = await getProduct(requireId('id', id));
    return item ? toProduct(item) : null;
  },

  // Pages are cached as ids + nextToken and their products read through the product cache, so a
  // cached page shows current stock and prices; only which products it lists can lag (page TTL).
  'Query.products': async (args) => {
    const category = requireCategory('category', args.category);
    const { nextToken } = args;
    const size = pageSize(args.limit);
    const exclusiveStartKey = decodeNextToken(nextToken, {
      attributes: ['id', 'category', 'createdAt'],
      partition: { name: 'category', value: category },
    });
    const cached = await productPages?.lookup(category, `${size}:${nextToken ?? ''}`);
    if (cached?.page) {
      const items = await cachedPageItems(cached.page.ids, category);
      if (items) return { items: items.map(toProduct), nextToken: cached.page.nextToken };
    }
    const { Items, LastEvaluatedKey } = await db.send(
      new QueryCommand({
        TableName: PRODUCTS,
        IndexName: 'byCategory',
        KeyConditionExpression: 'category = :category',
        ExpressionAttributeValues: { ':category': category },
        Limit: size,
        ExclusiveStartKey: exclusiveStartKey,
      }),
    );
    const items = (Items ?? []) as ProductItem[];
    const page = { ids: items.map((item) => item.id), nextToken: encodeNextToken(LastEvaluatedKey) ?? null };
    await cached?.fill(page);
    return { items: items.map(toProduct), nextToken: page.nextToken };
  },

  'Mutation.createProduct': async ({ input }, event) => {
    requirePrivileged(event.identity);
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
    await db.send(new PutCommand({ TableName: PRODUCTS, Item: item, ConditionExpression: 'attribute_not_exists(id)' }));
    // Write-through (replaces a cached "no such product"), and the category's pages now list one more.
    await Promise.all([products.put(item.id, item), productPages?.invalidate(item.category)]);
    return toProduct(item);
  },

  'Mutation.updateProduct': async ({ input }, event) => {
    requirePrivileged(event.identity);
    requireId('id', input.id);
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
      const item = Attributes as ProductItem;
      // A product moving category joins the new category's pages; the old ones drop it when read (cachedPageItems).
      await Promise.all([products.put(item.id, item), input.category != null ? productPages?.invalidate(item.category) : undefined]);
      return toProduct(item);
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
    requireId('id', id);
    requireInt('delta', delta, -MAX_STOCK, MAX_STOCK);
    if (delta === 0) throw validationError('delta must not be 0', { field: 'delta' });
    // The new stock must land in [0, MAX_STOCK]; checked in the condition, so a concurrent
    // adjustment cannot carry it past either end between our read and our write.
    const floor = Math.max(0, -delta);
    const ceiling = Math.min(MAX_STOCK, MAX_STOCK - delta);
    try {
      const { Attributes } = await db.send(
        new UpdateCommand({
          TableName: PRODUCTS,
          Key: { id },
          UpdateExpression: 'SET stock = stock + :delta, version = version + :one, updatedAt = :now',
          ConditionExpression: 'attribute_exists(id) AND stock >= :floor AND stock <= :ceiling',
          ExpressionAttributeValues: { ':delta': delta, ':one': 1, ':now': new Date().toISOString(), ':floor': floor, ':ceiling': ceiling },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const item = Attributes as ProductItem;
      await products.put(item.id, item);
      return toProduct(item);
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
  },

  // BatchInvoke: one MGET for every order line of the request, one BatchGetItem round for the misses.
  'OrderItem.product': async (events) => {
    const ids = events.map((event) => event.source.productId);
    // Order lines were validated when placed; anything else is answered as a missing product, not sent to DynamoDB.
    const items = await products.getMany(ids.filter(isId), readProducts);
    return ids.map((id) => {
      const item = isId(id) ? items.get(id) : undefined;
      return item ? toProduct(item) : null;
    });
  },
});

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ProductItem } from '../lib/model.js';
import { dynamoDbClientConfig } from './dynamodb/dynamodb-local.js';

const CATEGORIES = ['books', 'games', 'garden', 'kitchen', 'music'] as const;

/** Deterministic sample products so a fresh stack has something to browse. */
export function sampleProducts(count: number): ProductItem[] {
  const epoch = Date.UTC(2026, 0, 1);
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(epoch + i * 60_000).toISOString();
    return {
      id: `sample-${String(i + 1).padStart(5, '0')}`,
      sku: `SKU-${String(i + 1).padStart(5, '0')}`,
      name: `Sample product ${i + 1}`,
      description: `A ${CATEGORIES[i % CATEGORIES.length]} item for local development`,
      priceCents: 199 + ((i * 137) % 9_800),
      currency: 'USD',
      category: CATEGORIES[i % CATEGORIES.length]!,
      stock: 100,
      version: 1,
      createdAt: at,
      updatedAt: at,
      ratingCount: 0,
      ratingTotal: 0,
    };
  });
}

/**
 * Writes sample products straight to the table (BatchWriteItem, 25 per call, the calls at the same time,
 * unprocessed items retried).
 */
export async function seedCatalog(stack: { dynamoDbEndpoint: string; tables: { products: string } }, count = 50): Promise<number> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(dynamoDbClientConfig(stack.dynamoDbEndpoint)));
  const table = stack.tables.products;
  try {
    const items = sampleProducts(count);
    const batches: ProductItem[][] = [];
    for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
    await Promise.all(
      batches.map(async (batch) => {
        let requests = batch.map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt > 8) throw new Error('BatchWriteItem kept returning unprocessed items');
          const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
          requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
        }
      }),
    );
    return items.length;
  } finally {
    db.destroy();
  }
}

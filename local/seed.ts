import type { WriteRequest } from '@aws-sdk/client-dynamodb';
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
  // Loaded here, not with the module: npm run dev imports this module before it spawns DynamoDB Local's JVM.
  // The stack has loaded both by the time it seeds (util-dynamodb for its stream events), so this costs nothing then.
  const [{ DynamoDBClient, BatchWriteItemCommand }, { marshall }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/util-dynamodb'),
  ]);
  const db = new DynamoDBClient(dynamoDbClientConfig(stack.dynamoDbEndpoint));
  const table = stack.tables.products;
  try {
    const items = sampleProducts(count);
    const batches: ProductItem[][] = [];
    for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
    await Promise.all(
      batches.map(async (batch) => {
        let requests: WriteRequest[] = batch.map((item) => ({ PutRequest: { Item: marshall(item) } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt > 8) throw new Error('BatchWriteItem kept returning unprocessed items');
          const out = await db.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
          requests = out.UnprocessedItems?.[table] ?? [];
        }
      }),
    );
    return items.length;
  } finally {
    db.destroy();
  }
}

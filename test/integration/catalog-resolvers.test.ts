import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetByKey } from '../../lib/batch-get.js';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import { functionEnvironment } from '../../declarations/function-environment.js';
import type { ProductItem } from '../../lib/model.js';
import { functions } from '../../declarations/functions.js';
import { createTables } from '../../local/dynamodb/create-tables.js';
import { dynamoDbClientConfig, type DynamoDBLocalHandle } from '../../local/dynamodb/dynamodb-local.js';
import { seedCatalog } from '../../local/seed.js';
import { resolverEvent } from '../support/fixtures.js';
import { workerOrOwnDynamoDB } from '../support/worker-dynamodb.js';

let dynamodb: DynamoDBLocalHandle;
let db: DynamoDBDocumentClient;
let tables: Awaited<ReturnType<typeof createTables>>;
let handler: (event: ResolverEvent | ResolverEvent[], context: Context) => Promise<unknown>;

beforeAll(async () => {
  const { handle, tablePrefix } = await workerOrOwnDynamoDB('it');
  dynamodb = handle;
  const client = new DynamoDBClient(dynamoDbClientConfig(dynamodb.endpoint));
  db = DynamoDBDocumentClient.from(client);
  tables = await createTables(client, tablePrefix);
  await seedCatalog({ dynamoDbEndpoint: dynamodb.endpoint, tables }, 150);
  // The resolver module reads its configuration at load, as on Lambda.
  Object.assign(process.env, functionEnvironment('catalog', functions.catalog, tables), {
    DYNAMODB_ENDPOINT: dynamodb.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ handler } = (await import('../../resolvers/catalog/index.js')) as unknown as { handler: typeof handler });
});
afterAll(async () => {
  db?.destroy();
  await dynamodb?.stop();
});

const id = (n: number) => `sample-${String(n).padStart(5, '0')}`;
const batchEvent = (productId: string): ResolverEvent =>
  resolverEvent({ parentTypeName: 'OrderItem', fieldName: 'product', source: { productId, quantity: 1, unitPriceCents: 1 } });

describe('catalog resolvers against DynamoDB Local', () => {
  it('BatchGetItem helper chunks past 100 keys, de-duplicates and omits missing items', async () => {
    const keys = [...Array.from({ length: 150 }, (_, i) => id(i + 1)), id(1), id(2), 'missing-1', 'missing-2'];
    const found = await batchGetByKey<ProductItem>(db, tables.products, 'id', keys);
    expect(found.size).toBe(150);
    expect(found.get(id(150))?.name).toBe('Sample product 150');
    expect(found.has('missing-1')).toBe(false);
  });

  it('answers a BatchInvoke of 100 events with 100 results in the same order, null for missing products', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => (i % 10 === 9 ? `missing-${i}` : id((i % 40) + 1)));
    const results = (await handler(ids.map(batchEvent), {} as Context)) as Array<{ data: { id: string } | null }>;
    expect(results).toHaveLength(100);
    results.forEach((result, i) => expect(result.data?.id ?? `missing-${i}`).toBe(ids[i]));
  });

  it('createProduct refuses a non-admin caller before writing', async () => {
    const event = resolverEvent({
      parentTypeName: 'Mutation',
      fieldName: 'createProduct',
      arguments: { input: { sku: 'S', name: 'N', priceCents: 1, currency: 'USD', category: 'c', stock: 1 } },
    });
    const result = (await handler(event, {} as Context)) as { errorType?: string };
    expect(result.errorType).toBe('Unauthorized');
    const { Count } = await db.send(
      new ScanCommand({
        TableName: tables.products,
        FilterExpression: 'sku = :sku',
        ExpressionAttributeValues: { ':sku': 'S' },
        Select: 'COUNT',
      }),
    );
    expect(Count).toBe(0);
  });
});

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

/**
 * The floor of the cold-start comparison: the least a function reading
 * DynamoDB must load — the SDK's document client, created at init as the
 * functions create theirs — and one `GetItem`. Bundled with exactly the
 * functions' esbuild options (build/bundle.ts `bundleEntry`), so a function's
 * init ÷ the floor's is what its own code costs at start.
 */
const endpoint = process.env.DYNAMODB_ENDPOINT;
const client = DynamoDBDocumentClient.from(new DynamoDBClient(endpoint ? { endpoint } : {}));

export const handler = async (event: { readonly id: string }): Promise<unknown> => {
  const { Item } = await client.send(new GetCommand({ TableName: process.env.TABLE_PRODUCTS, Key: { id: event.id } }));
  return Item ?? null;
};

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableEnvVar, type TableName } from './tables.js';

/**
 * One document client per execution environment, created at module load
 * (outside the handler) so warm invocations reuse its connections.
 * DYNAMODB_ENDPOINT points it at DynamoDB Local; unset in AWS.
 */
export function createDocumentClient(env: NodeJS.ProcessEnv = process.env): DynamoDBDocumentClient {
  const endpoint = env.DYNAMODB_ENDPOINT;
  const client = new DynamoDBClient(endpoint ? { endpoint } : {});
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** Physical name of a declared table, from the environment the stack (or local runtime) sets. */
export function tableName(table: TableName, env: NodeJS.ProcessEnv = process.env): string {
  const name = env[tableEnvVar(table)];
  if (!name) throw new Error(`Environment variable ${tableEnvVar(table)} is not set`);
  return name;
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { countMetric } from './metrics.js';
import { tableEnvVar, type TableName } from '../declarations/tables.js';

const READ_OPERATIONS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand', 'TransactGetItemsCommand']);

/**
 * One document client per execution environment, created at module load
 * (outside the handler) so warm invocations reuse its connections.
 * DYNAMODB_ENDPOINT points it at DynamoDB Local; unset in AWS.
 *
 * Every API call is counted (DynamoDBReadCalls / DynamoDBWriteCalls, see
 * lib/metrics.ts) in the initialize step, i.e. once per call, not per retry:
 * what the read cache saves is measured here, not estimated.
 */
export function createDocumentClient(env: NodeJS.ProcessEnv = process.env): DynamoDBDocumentClient {
  const endpoint = env.DYNAMODB_ENDPOINT;
  const client = new DynamoDBClient(endpoint ? { endpoint } : {});
  client.middlewareStack.add(
    (next, context) => (args) => {
      countMetric(READ_OPERATIONS.has(context.commandName ?? '') ? 'DynamoDBReadCalls' : 'DynamoDBWriteCalls');
      return next(args);
    },
    { step: 'initialize', name: 'storefrontCallCounter' },
  );
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

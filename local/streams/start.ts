import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { declaredEventSources } from '../../declarations/event-sources.js';
import type { TableName } from '../../declarations/tables.js';
import { functions, type FunctionName } from '../../declarations/functions.js';
import { dynamoDbClientConfig } from '../dynamodb/dynamodb-local.js';
import type { LocalFunction } from '../lambda/function-runtime.js';
import type { DeadLetterStore } from './dead-letters.js';
import { EventSourceMapping, type EventSourceMappingStats } from './event-source-mapping.js';

/**
 * Starts one event source mapping per declared stream event source
 * (`declarations/functions.ts`), each invoking its function through the
 * function's LocalFunction, i.e. in its own Lambda-like environments.
 */

export interface StreamMappingsOptions {
  readonly dynamoDbEndpoint: string;
  /** Control-plane client, to look up each table's stream ARN. */
  readonly dynamodb: DynamoDBClient;
  readonly tables: Readonly<Record<TableName, string>>;
  readonly functions: ReadonlyMap<FunctionName, LocalFunction>;
  readonly deadLetters: DeadLetterStore;
  readonly region: string;
  readonly accountId: string;
  readonly pollIntervalMs?: number;
  readonly retryBaseDelayMs?: number;
  readonly log?: (line: string) => void;
}

export interface StreamMappings {
  stats(): EventSourceMappingStats[];
  stop(): Promise<void>;
}

export async function startStreamMappings(options: StreamMappingsOptions): Promise<StreamMappings> {
  const client = new DynamoDBStreamsClient(dynamoDbClientConfig(options.dynamoDbEndpoint));
  const mappings: EventSourceMapping[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(mappings.map((mapping) => mapping.stop()));
    client.destroy();
  };
  try {
    for (const { functionName, source } of declaredEventSources(functions)) {
      const fn = options.functions.get(functionName as FunctionName);
      if (!fn) throw new Error(`Event source mapping for ${functionName}, which has no local function`);
      const tableName = options.tables[source.table];
      const { Table } = await options.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
      const streamArn = Table?.LatestStreamArn;
      if (!streamArn) throw new Error(`Table ${tableName} has no stream; ${functionName} reads it`);
      const mapping = new EventSourceMapping({
        functionName,
        functionArn: `arn:aws:lambda:${options.region}:${options.accountId}:function:${functionName}`,
        table: source.table,
        streamArn,
        source,
        client,
        invoke: async (event) => {
          const result = await fn.invoke(event);
          return result.ok
            ? { ok: true, requestId: result.report.requestId, payload: result.payload }
            : { ok: false, requestId: result.report.requestId, error: result.error };
        },
        deadLetters: options.deadLetters,
        region: options.region,
        ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
        ...(options.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: options.retryBaseDelayMs } : {}),
        ...(options.log ? { log: options.log } : {}),
      });
      mappings.push(mapping);
      mapping.start();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { stats: () => mappings.map((mapping) => mapping.snapshot()), stop };
}

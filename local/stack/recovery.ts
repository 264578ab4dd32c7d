/**
 * Wires the stack's reaction to its processes' deaths (local/process/recovery.ts) to the parts it acts
 * on: the declared tables to recreate, the cache to empty, the stream mappings to start over. Messages
 * go to the console as `[local stack] …`.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTables } from '../dynamodb/create-tables.js';
import { StackRecovery } from '../process/recovery.js';
import { flushRedis } from '../redis/flush.js';
import type { Cleanups } from './cleanups.js';
import type { StackProcesses } from './processes.js';
import type { RestartableStreamMappings } from './stream-mappings.js';

export interface StackRecoveryOptions {
  readonly processes: StackProcesses;
  /** Control-plane client of the (restarted) DynamoDB Local; its endpoint survives restarts. */
  readonly dynamodb: DynamoDBClient;
  readonly tablePrefix: string;
  readonly streams: RestartableStreamMappings;
  /** After an in-memory DynamoDB Local restarted empty and its tables were recreated (e.g. to seed again). */
  readonly afterDataLoss?: (() => Promise<void>) | undefined;
  /** DynamoDB Local cannot be restarted; unset, the stack only says so (console.error, /health 503). */
  readonly onFatal?: ((error: Error) => void) | undefined;
}

export function superviseStack(options: StackRecoveryOptions, cleanups: Cleanups): StackRecovery {
  const { dynamodb, redis } = options.processes;
  const recovery = new StackRecovery({
    dynamodb,
    redis,
    recreateTables: async () => void (await createTables(options.dynamodb, options.tablePrefix)),
    flushCache: () => (redis ? flushRedis(redis) : Promise.resolve()),
    restartStreams: () => options.streams.restart(),
    ...(options.afterDataLoss ? { afterDataLoss: options.afterDataLoss } : {}),
    alert: (line) => console.error(`[local stack] ${line}`),
    inform: (line) => console.warn(`[local stack] ${line}`),
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
  });
  // Runs before the processes stop (cleanups run newest first): deliberate stops are not deaths to recover from.
  cleanups.add(async () => {
    recovery.dispose();
    await recovery.settled().catch(() => undefined);
  });
  return recovery;
}

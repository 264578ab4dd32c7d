/**
 * One DynamoDB Local per test worker, for the stacks of every file that worker runs. Starting a JVM per
 * stack was some twenty JVM starts a run (each ~1.5 s of CPU on a 2-core machine, and a cold JVM for each
 * stack's first requests). The run's global setup (support/global-setup.ts) starts one per worker, so two
 * workers' files never contend for one SQLite database; a stack borrows its worker's, under a table prefix
 * of its own, and leaves it running when it stops.
 *
 * A file that kills or restarts DynamoDB Local (hostile/local-faults.test.ts) starts its own.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { dynamoDbClientConfig, type DynamoDBLocalHandle } from '../../local/dynamodb/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoints of the run's DynamoDB Locals, one per worker (VITEST_POOL_ID 1 → index 0). */
    workerDynamoDBEndpoints: string[];
  }
}

/** How long a stack waits for its worker's DynamoDB Local before it starts one of its own. */
const READY_DEADLINE_MS = 60_000;

let stacksStarted = 0;
/** Per endpoint: whether it answered (asked once per test file). */
const answering = new Map<string, Promise<boolean>>();

async function answers(endpoint: string): Promise<boolean> {
  const client = new DynamoDBClient({ ...dynamoDbClientConfig(endpoint), maxAttempts: 1 });
  try {
    for (const deadline = Date.now() + READY_DEADLINE_MS; Date.now() < deadline; ) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return true;
      } catch {
        // Still starting: its JVM was spawned with the run. Polling is the wait here (no event crosses processes).
        await sleep(50);
      }
    }
    return false;
  } finally {
    client.destroy();
  }
}

/**
 * This worker's DynamoDB Local as a handle a stack can take over (its `stop` leaves the JVM to the run),
 * and a table prefix no other stack of the run uses. Undefined without the global setup (a file run
 * through another config) or when it did not answer in time: the stack then starts its own.
 */
export async function borrowWorkerDynamoDB(): Promise<{ handle: DynamoDBLocalHandle; tablePrefix: string } | undefined> {
  const endpoints = inject('workerDynamoDBEndpoints') as string[] | undefined;
  const worker = Number(process.env.VITEST_POOL_ID ?? '1');
  const endpoint = endpoints?.[(worker - 1) % endpoints.length];
  if (!endpoint) return undefined;
  let ready = answering.get(endpoint);
  if (!ready) {
    ready = answers(endpoint);
    answering.set(endpoint, ready);
  }
  if (!(await ready)) {
    console.warn(`The worker's DynamoDB Local (${endpoint}) did not answer; this stack starts its own.`);
    return undefined;
  }
  const port = Number(new URL(endpoint).port);
  const since = new Date().toISOString();
  const handle: DynamoDBLocalHandle = {
    endpoint,
    port,
    persistDir: undefined,
    // The global setup stops it at the end of the run.
    stop: async () => undefined,
    kill: () => false,
    health: () => ({ name: 'DynamoDB Local', state: 'running', port, restarts: 0, since }),
    on: () => () => undefined,
  };
  return { handle, tablePrefix: `w${worker}-${process.pid}-${stacksStarted++}` };
}

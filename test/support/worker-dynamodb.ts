/**
 * One DynamoDB Local per test worker, for the stacks of every file that worker runs. Starting a JVM per
 * stack was some twenty JVM starts a run (each ~1.5 s of CPU on a 2-core machine, and a cold JVM for each
 * stack's first requests). The run's global setup (support/global-setup.ts) starts one per worker, so two
 * workers' files never contend for one SQLite database; a stack borrows its worker's, under a table prefix
 * of its own, and leaves it running when it stops.
 *
 * A file that kills or restarts DynamoDB Local (hostile/local-faults.test.ts) starts its own.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import {
  listTablesProbe,
  startDynamoDBLocal,
  type DynamoDBLocalHandle,
  type DynamoDBLocalOptions,
} from '../../local/dynamodb/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoints of the run's DynamoDB Locals, one per worker (VITEST_POOL_ID 1 → index 0). */
    workerDynamoDBEndpoints: string[];
  }
}

/** How long a stack waits for its worker's DynamoDB Local before it starts one of its own. */
const READY_DEADLINE_MS = 60_000;
/** Longest pause between probes (they start at 25 ms and double), as LoopbackChild probes a starting JVM. */
const PROBE_MAX_DELAY_MS = 1_000;

/** Per endpoint: whether it answered (asked once per worker: its files share this module, see vitest.config.ts). */
const answering = new Map<string, Promise<boolean>>();

/**
 * Whether the JVM the global setup spawned answers before the deadline. It runs in another process, so its
 * readiness reaches this one only as an answer to the same probe its own start uses.
 */
async function answers(port: number): Promise<boolean> {
  const deadline = AbortSignal.timeout(READY_DEADLINE_MS);
  for (let delay = 25; !deadline.aborted; delay = Math.min(delay * 2, PROBE_MAX_DELAY_MS)) {
    try {
      await listTablesProbe(port, deadline);
      return true;
    } catch {
      await sleep(delay, undefined, { signal: deadline }).catch(() => undefined);
    }
  }
  return false;
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
  const port = Number(new URL(endpoint).port);
  let ready = answering.get(endpoint);
  if (!ready) {
    ready = answers(port);
    answering.set(endpoint, ready);
  }
  if (!(await ready)) {
    console.warn(`The worker's DynamoDB Local (${endpoint}) did not answer; this stack starts its own.`);
    return undefined;
  }
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
  return { handle, tablePrefix: newTablePrefix(worker) };
}

/**
 * For a file that uses DynamoDB Local without a whole stack: its worker's, else (no global setup, or it did
 * not answer) one of its own started with `options`. Either way `stop()` is right to call when the file is
 * done, and `tablePrefix` (`name`, made unique in the shared database) is the prefix to create tables under.
 */
export async function workerOrOwnDynamoDB(
  name: string,
  options: DynamoDBLocalOptions = {},
): Promise<{ handle: DynamoDBLocalHandle; tablePrefix: string }> {
  const borrowed = await borrowWorkerDynamoDB();
  if (borrowed) return { handle: borrowed.handle, tablePrefix: `${borrowed.tablePrefix}-${name}` };
  return { handle: await startDynamoDBLocal(options), tablePrefix: name };
}

/**
 * A table prefix no other stack of the run uses. Random, not a counter of this module's: a file that changed
 * the environment gets fresh module instances (support/file-isolation.ts), and a counter starting over would
 * hand a later stack an earlier one's tables (createTables keeps tables that exist).
 */
export function newTablePrefix(worker: number): string {
  return `w${worker}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

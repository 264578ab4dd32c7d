/**
 * DAX mode (CACHE_BACKEND=dax): GetItem and BatchGetItem go to a DaxDocument
 * (`@amazon-dax-sdk/lib-dax`, DynamoDBDocument's API over the DAX protocol),
 * so DAX's item cache answers them; everything else, writes included, goes to
 * DynamoDB. DAX's item cache is not told about those writes, so the staleness
 * bound in this mode is the cluster's item TTL, which the deployment must set
 * no higher than the policy's `maxStalenessMs`.
 *
 * DaxDocument is not a drop-in for `send(command)`: it refuses `send` ("send
 * operation is not supported for DAX") and only offers the method API
 * (`get`, `batchGet`, ...). The adapter below keeps the resolvers' `send`
 * style and maps the two read commands onto those methods.
 *
 * The package is imported only in this mode, and only bundles built for DAX
 * contain it (build/cache-backend.ts): functions on Redis or no cache never carry it. A
 * failing DAX call is retried on DynamoDB and counted as a cache error, so an
 * unavailable cluster slows reads down instead of failing them. The DAX client
 * keeps retrying cluster discovery for many seconds against an unreachable
 * endpoint whatever its connectTimeout, so each call is bounded here
 * (DAX_TIMEOUT_MS), and after a failure DAX is skipped for DAX_SKIP_MS.
 */
import { BatchGetCommand, GetCommand, type DynamoDBDocument, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { countMetric } from '../metrics.js';
import type { CacheBackendConfig } from './config.js';

export const DAX_TIMEOUT_MS = 1_000;
export const DAX_SKIP_MS = 5_000;

/** The DaxDocument methods used; the rest of its API is never reached. */
export type DaxReads = Pick<DynamoDBDocument, 'get' | 'batchGet'>;

/** `writes`, except that Get/BatchGet commands are served by `dax` (and by `writes` again if DAX fails). */
export function readThroughDax(dax: DaxReads, writes: DynamoDBDocumentClient): DynamoDBDocumentClient {
  type Send = (command: unknown, ...rest: unknown[]) => Promise<unknown>;
  const send = writes.send.bind(writes) as Send;
  const viaDax = (command: unknown): Promise<unknown> | undefined => {
    if (command instanceof GetCommand) return dax.get(command.input);
    if (command instanceof BatchGetCommand) return dax.batchGet(command.input);
    return undefined;
  };
  let skipUntil = 0;
  const bounded = async (answer: Promise<unknown>): Promise<unknown> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`DAX did not answer within ${DAX_TIMEOUT_MS} ms`)), DAX_TIMEOUT_MS);
    });
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return new Proxy(writes, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return async (command: unknown, ...rest: unknown[]) => {
        if (Date.now() >= skipUntil) {
          try {
            const answer = viaDax(command); // may throw synchronously, too
            if (answer) return await bounded(answer);
          } catch {
            countMetric('CacheErrors');
            skipUntil = Date.now() + DAX_SKIP_MS;
          }
        }
        return send(command, ...rest);
      };
    },
  });
}

/**
 * The client resolvers use for GetItem/BatchGetItem: `writes` itself, except
 * in DAX mode. Async because the DAX package is imported on demand; call it
 * at module load (top-level await), like the document client.
 */
export async function documentClientForReads(
  writes: DynamoDBDocumentClient,
  backend: CacheBackendConfig,
  region = process.env.AWS_REGION,
): Promise<DynamoDBDocumentClient> {
  if (backend.kind !== 'dax') return writes;
  let DaxDocument: typeof import('@amazon-dax-sdk/lib-dax').DaxDocument;
  try {
    ({ DaxDocument } = await import('@amazon-dax-sdk/lib-dax'));
  } catch (error) {
    throw new Error(
      `CACHE_BACKEND=dax, but @amazon-dax-sdk/lib-dax could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const dax = new DaxDocument({
    endpoint: backend.endpoint,
    ...(region ? { region } : {}),
    requestTimeout: DAX_TIMEOUT_MS,
    connectTimeout: DAX_TIMEOUT_MS,
  });
  return readThroughDax(dax, writes);
}

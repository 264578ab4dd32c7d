import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { print } from 'graphql';
import { AdjustStockDocument, GetProductDocument, type AdjustStockMutation, type GetProductQuery } from '../generated/client/graphql.js';
import type { ProductItem } from '../lib/model.js';
import { dynamoDbClientConfig } from '../local/dynamodb/dynamodb-local.js';
import type { LocalStack } from '../local/runtime.js';
import { sampleProducts } from '../local/seed.js';
import { GraphQLHttpClient, graphqlProblem } from './http-client.js';
import { runClosedLoop, type LatencySummary, type Request } from './load.js';

/**
 * The read-cache workload: Zipf-distributed product reads (a few products
 * get most of the traffic, as in a real catalog) with 5% stock changes, run
 * with the same request sequence against a stack without a cache and one
 * with Redis, side by side. DynamoDB read calls and cache hits are what the
 * functions themselves published (EMF metric lines), not estimates.
 *
 * Each backend gets a fresh stack: seed through BatchWriteItem, let the
 * stream function digest the seed, start from an empty cache (Redis
 * restarted), warm DynamoDB Local's JVM and the execution environments on an
 * unrelated product, then
 * - cold: the first requests of the sequence, from the empty cache;
 * - warm: after one read of every product (the state of a cache that has run
 *   for a while; entries live ttlSeconds), the next requests.
 */

export interface ZipfConfig {
  readonly products: number;
  readonly exponent: number;
  readonly writeFraction: number;
  readonly concurrency: number;
  readonly coldRequests: number;
  readonly warmRequests: number;
  readonly seed: number;
}

export interface ZipfResult {
  readonly backend: 'none' | 'redis';
  readonly phase: 'cold' | 'warm';
  readonly requests: number;
  readonly reads: number;
  readonly writes: number;
  readonly errors: number;
  readonly errorSamples: string[];
  readonly durationS: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: LatencySummary;
  /** Cache hits / (hits + misses) over the phase's product reads; null without a cache. */
  readonly hitRatio: number | null;
  /** Cache commands that failed or timed out (each one a fallback to DynamoDB, not a failed request). */
  readonly cacheErrors: number;
  /** DynamoDB API calls that read (GetItem, BatchGetItem, Query, ...), all functions. */
  readonly dynamoDbReadCalls: number;
  readonly dynamoDbReadCallsPer1000Requests: number;
}

export interface ZipfReport {
  readonly config: ZipfConfig & { readonly description: string };
  readonly results: ZipfResult[];
  /** Warm phase, none vs redis: how many times fewer DynamoDB reads, and the p99s. */
  readonly warmComparison: { readonly readCallReduction: number; readonly p99NoneMs: number; readonly p99RedisMs: number } | undefined;
}

/** Deterministic PRNG (mulberry32): both backends see exactly the same sequence. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Sampler of ranks 0..n-1 with P(rank k) ∝ 1 / (k+1)^s, by binary search over the cumulative weights. */
export function zipfSampler(n: number, s: number, next: () => number): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) cumulative[k] = total += 1 / (k + 1) ** s;
  return () => {
    const target = next() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (cumulative[mid]! < target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

interface Operation {
  readonly kind: 'read' | 'write';
  readonly id: string;
}

/** The request sequence: ranks shuffled onto products (the hot ones are not the first seeded), 5% writes. */
export function zipfOperations(ids: readonly string[], config: ZipfConfig): Operation[] {
  const next = random(config.seed);
  const byRank = [...ids];
  for (let i = byRank.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [byRank[i], byRank[j]] = [byRank[j]!, byRank[i]!];
  }
  const rank = zipfSampler(byRank.length, config.exponent, next);
  return Array.from({ length: config.coldRequests + config.warmRequests }, () => ({
    kind: next() < config.writeFraction ? 'write' : 'read',
    id: byRank[rank()]!,
  }));
}

/** Products of their own (ids `zipf-…`), so the other scenarios' data is untouched. */
function zipfProducts(count: number): ProductItem[] {
  return sampleProducts(count).map((item, i) => ({ ...item, id: `zipf-${String(i + 1).padStart(5, '0')}`, sku: `ZIPF-${i + 1}` }));
}

/** BatchWriteItem, 25 items per call, a few calls in flight, unprocessed items retried. */
async function seed(stack: LocalStack, items: readonly ProductItem[]): Promise<void> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(dynamoDbClientConfig(stack.dynamoDbEndpoint)));
  const table = stack.tables.products;
  const chunks: ProductItem[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  try {
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let chunk = chunks.pop(); chunk; chunk = chunks.pop()) {
          let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
          for (let attempt = 0; requests.length > 0; attempt++) {
            if (attempt > 8) throw new Error('BatchWriteItem kept returning unprocessed items');
            const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
            requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
          }
        }
      }),
    );
  } finally {
    db.destroy();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * DynamoDB Local is a JVM: its read path runs interpreted until the JIT has
 * seen it. Reading one product outside the workload warms it the same way for
 * both backends, so the cold phase measures a cold cache, not a cold JVM.
 */
async function warmTableReads(stack: LocalStack, id: string, requests: number): Promise<void> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(dynamoDbClientConfig(stack.dynamoDbEndpoint)));
  let sent = 0;
  try {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sent < requests) {
          const consistent = sent++ % 2 === 0;
          await db.send(new GetCommand({ TableName: stack.tables.products, Key: { id }, ConsistentRead: consistent }));
        }
      }),
    );
  } finally {
    db.destroy();
  }
}

/** Waits until the stream function has been handed every record of the seed and is idle, so it competes with neither phase. */
async function streamsDrained(stack: LocalStack, records: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let quietPolls = 0;
  while (quietPolls < 3) {
    if (Date.now() > deadline) throw new Error('The stream function did not digest the seed within 60 s');
    await sleep(200);
    const read = stack
      .eventSourceMappings()
      .filter((m) => m.table === 'products')
      .reduce((sum, m) => sum + m.recordsRead, 0);
    const busy = [...stack.functions.values()].reduce((sum, fn) => sum + fn.stats().busy + fn.stats().queued, 0);
    quietPolls = read >= records && busy === 0 ? quietPolls + 1 : 0;
  }
}

/** Metric sums over all functions, once every invocation so far has published its EMF line. */
async function settledMetrics(stack: LocalStack): Promise<Record<string, number>> {
  for (const deadline = Date.now() + 10_000; ; await sleep(10)) {
    const stats = [...stack.functions.values()].map((fn) => fn.stats());
    const reported = stats.every((s) => s.busy + s.queued === 0 && (s.metricReports === s.invocations || s.metricReports === 0));
    if (reported || Date.now() > deadline) {
      const sums: Record<string, number> = {};
      for (const s of stats) for (const [name, value] of Object.entries(s.metrics)) sums[name] = (sums[name] ?? 0) + value;
      return sums;
    }
  }
}

function requestFor(stack: LocalStack, client: GraphQLHttpClient, operations: readonly Operation[], offset: number): Request {
  const readQuery = print(GetProductDocument);
  const writeQuery = print(AdjustStockDocument);
  const readHeaders = { 'x-api-key': stack.apiKey };
  const writeHeaders = {
    authorization: stack.userPool.mint({ username: 'bench-admin', sub: 'bench-admin', groups: ['admin'], expiresInSeconds: 3600 }),
  };
  return async (index) => {
    const operation = operations[offset + index]!;
    if (operation.kind === 'read') {
      const response = await client.post(GraphQLHttpClient.body(readQuery, { id: operation.id }), readHeaders);
      const problem = graphqlProblem(response);
      if (problem) return problem;
      const product = (response.body?.data as GetProductQuery | undefined)?.product;
      return product?.id === operation.id && typeof product.stock === 'number'
        ? null
        : `product ${operation.id}: ${JSON.stringify(product)}`;
    }
    const response = await client.post(GraphQLHttpClient.body(writeQuery, { id: operation.id, delta: 1 }), writeHeaders);
    const problem = graphqlProblem(response);
    if (problem) return problem;
    const product = (response.body?.data as AdjustStockMutation | undefined)?.adjustStock;
    return product?.id === operation.id ? null : `adjustStock ${operation.id}: ${JSON.stringify(product)}`;
  };
}

/** Reads every product once, 100 per request (aliased fields), as a long-running cache would have seen them. */
async function readEveryProduct(stack: LocalStack, ids: readonly string[]): Promise<void> {
  const client = new GraphQLHttpClient(stack.graphqlUrl, { maxSockets: 4 });
  const pending = [...ids];
  try {
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let batch = pending.splice(0, 100); batch.length > 0; batch = pending.splice(0, 100)) {
          const query = `{ ${batch.map((id, i) => `p${i}: product(id: ${JSON.stringify(id)}) { id }`).join(' ')} }`;
          const problem = graphqlProblem(await client.post(JSON.stringify({ query }), { 'x-api-key': stack.apiKey }));
          if (problem) throw new Error(`Warm pass failed: ${problem}`);
        }
      }),
    );
  } finally {
    client.close();
  }
}

async function measurePhase(
  stack: LocalStack,
  backend: ZipfResult['backend'],
  phase: ZipfResult['phase'],
  operations: readonly Operation[],
  offset: number,
  count: number,
  concurrency: number,
): Promise<ZipfResult> {
  const client = new GraphQLHttpClient(stack.graphqlUrl, { maxSockets: concurrency });
  try {
    const before = await settledMetrics(stack);
    // Same budget for both backends: a request count, never a time limit.
    const result = await runClosedLoop(requestFor(stack, client, operations, offset), {
      concurrency,
      maxRequests: count,
      maxDurationMs: 600_000,
    });
    const after = await settledMetrics(stack);
    const delta = (name: string): number => (after[name] ?? 0) - (before[name] ?? 0);
    const hits = delta('CacheHits');
    const misses = delta('CacheMisses');
    const slice = operations.slice(offset, offset + count);
    return {
      backend,
      phase,
      requests: result.requests,
      reads: slice.filter((o) => o.kind === 'read').length,
      writes: slice.filter((o) => o.kind === 'write').length,
      errors: result.errors,
      errorSamples: result.errorSamples,
      durationS: result.durationS,
      requestsPerSecond: result.requestsPerSecond,
      latencyMs: result.latencyMs,
      hitRatio: backend === 'none' || hits + misses === 0 ? null : hits / (hits + misses),
      cacheErrors: delta('CacheErrors'),
      dynamoDbReadCalls: delta('DynamoDBReadCalls'),
      dynamoDbReadCallsPer1000Requests: (delta('DynamoDBReadCalls') / result.requests) * 1000,
    };
  } finally {
    client.close();
  }
}

/** One backend's run on its own fresh stack (see the module comment); `start` starts that stack. */
export async function measureZipf(
  backend: ZipfResult['backend'],
  config: ZipfConfig,
  start: () => Promise<LocalStack>,
  log: (line: string) => void,
): Promise<ZipfResult[]> {
  const stack = await start();
  try {
    if (backend === 'redis' && !stack.redis) throw new Error('The Redis run needs redis-server (apt-get install -y redis-server)');
    const items = zipfProducts(config.products);
    const outside = { ...items[0]!, id: 'zipf-outside', sku: 'ZIPF-OUTSIDE' };
    await seed(stack, [...items, outside]);
    await streamsDrained(stack, items.length + 1);
    if (stack.redis) {
      // An empty cache (the stream function mirrored the seed into it); the functions' clients reconnect meanwhile.
      await stack.redis.stop();
      await stack.redis.start();
      await sleep(1_500);
    }

    const operations = zipfOperations(
      items.map((item) => item.id),
      config,
    );
    await warmTableReads(stack, outside.id, 3_000);
    // Execution environments warmed on a product outside the workload: the cache starts cold, the functions don't.
    const warmClient = new GraphQLHttpClient(stack.graphqlUrl, { maxSockets: config.concurrency });
    const warmup = await runClosedLoop(requestFor(stack, warmClient, Array(200).fill({ kind: 'read', id: outside.id }), 0), {
      concurrency: config.concurrency,
      maxRequests: 200,
      maxDurationMs: 60_000,
    }).finally(() => warmClient.close());
    if (warmup.errors > 0) throw new Error(`Warm-up failed: ${warmup.errorSamples.join('; ')}`);

    const cold = await measurePhase(stack, backend, 'cold', operations, 0, config.coldRequests, config.concurrency);
    log(`  zipf ${backend} cold: ${cold.requests} requests, ${cold.errors} errors, ${cold.requestsPerSecond.toFixed(1)} req/s`);
    await readEveryProduct(
      stack,
      items.map((item) => item.id),
    );
    await streamsDrained(stack, items.length);
    const warm = await measurePhase(stack, backend, 'warm', operations, config.coldRequests, config.warmRequests, config.concurrency);
    log(`  zipf ${backend} warm: ${warm.requests} requests, ${warm.errors} errors, ${warm.requestsPerSecond.toFixed(1)} req/s`);
    return [cold, warm];
  } finally {
    await stack.stop();
  }
}

export function zipfReport(config: ZipfConfig, results: ZipfResult[]): ZipfReport {
  const warm = (backend: ZipfResult['backend']) => results.find((r) => r.backend === backend && r.phase === 'warm');
  const none = warm('none');
  const redis = warm('redis');
  return {
    config: {
      ...config,
      description: `${config.products} products, Zipf s=${config.exponent}, ${config.writeFraction * 100}% adjustStock writes, ${config.concurrency} closed-loop clients; the same request sequence per backend`,
    },
    results,
    warmComparison:
      none && redis
        ? {
            readCallReduction: redis.dynamoDbReadCalls > 0 ? none.dynamoDbReadCalls / redis.dynamoDbReadCalls : Number.POSITIVE_INFINITY,
            p99NoneMs: none.latencyMs.p99,
            p99RedisMs: redis.latencyMs.p99,
          }
        : undefined,
  };
}

import { setTimeout as sleep } from 'node:timers/promises';
import { print } from 'graphql';
import {
  AdjustStockDocument,
  CancelOrderDocument,
  GetOrderDocument,
  GetProductDocument,
  ListProductsDocument,
  MyOrdersDocument,
  PlaceOrderDocument,
} from '../generated/client/graphql.js';
import { sampleProducts } from '../local/seed.js';
import { startStackProcess, type ProcessRss, type StackProcess } from '../fuzz/stack-client.js';
import type { StackMemory } from '../fuzz/stack-protocol.js';
import { GraphQLHttpClient } from './http-client.js';
import { combineRuns, runClosedLoop, type LatencySummary } from './load.js';

/**
 * The memory soak: does the stack's RSS come back after a long run of mixed
 * traffic, or does something keep what it saw?
 *
 * The stack runs in a process of its own (fuzz/stack-process.ts, a fresh
 * stack with the Redis cache when redis-server is installed); this process
 * is only the client, over keep-alive HTTP on loopback, so the figures are the
 * server's alone. Sequence:
 *   1. warm-up: `warmupRequests` of the same mix, so every function has the
 *      environments this concurrency needs (each a V8 isolate: ~25-40 MB);
 *   2. `idleMs` of silence and a GC in the stack process: RSS after warm-up;
 *   3. the first half of `requests` more of the mix, `idleMs` and a GC: RSS settled;
 *   4. the second half; RSS right after it; then `idleMs` of silence and a GC: RSS after idle.
 * It passes when RSS after idle stays within `boundFraction` (+12.5%) of RSS settled. What a stack grows
 * to once under this load (V8 sizing the environments' heaps to it, the executor's caches filling) grows in
 * the first half; a leak grows with every request, in the second half as in the first. The warm-up alone
 * was not a steady baseline: after it, the environments' heaps were still 25-50 MB short of their size
 * under load, so the growth from it measured how much the warm-up had left to grow, not what was kept
 * (and a change that made the environments start smaller, e.g. without undici, counted as growth).
 * The bound is half the +25% the whole 50,000 requests were held to from the warm-up, for half of them.
 *
 * The mix, per 100 requests: 45 product(id), 10 products(category) pages,
 * 5 order(id) / myOrders as the owner, 10 adjustStock (admin, ±1), 6 placeOrder
 * and 2 cancelOrder (customers), 5 partner reads (Lambda authorizer), and 17
 * malformed or refused ones: invalid JSON, a body without `query`, unknown
 * fields and syntax errors whose text differs on every request (so each is a
 * new document for the executor's caches), variables of the wrong type, a
 * forged user-pool token, an expired-looking API key.
 */

export interface SoakOptions {
  readonly requests: number;
  readonly warmupRequests: number;
  readonly concurrency: number;
  /** Bound on the measured phase; the run reports how many requests it managed. */
  readonly maxDurationMs: number;
  readonly idleMs: number;
  readonly products: number;
  readonly boundFraction: number;
  readonly log?: (line: string) => void;
  /** Extra environment for the stack process. */
  readonly stackEnv?: Readonly<Record<string, string>>;
  /** Called at each measuring point, after its GC: e.g. to write a heap snapshot of the stack process. */
  readonly inspect?: (point: 'afterWarmup' | 'settled' | 'afterLoad' | 'afterIdle', stack: StackProcess) => Promise<void>;
}

export const SOAK_DEFAULTS: SoakOptions = {
  requests: 50_000,
  warmupRequests: 2_000,
  concurrency: 16,
  // With start-up (~20 s), warm-up and the two idle periods, the soak stays around 3 minutes on 2 cores;
  // a busy machine serves fewer than `requests` within it, and the report says so (stoppedBy: 'time').
  maxDurationMs: 120_000,
  idleMs: 5_000,
  products: 200,
  boundFraction: 0.125,
};

export interface SoakMemoryPoint {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly externalBytes: number;
  /** Live execution environments (worker threads), all functions. */
  readonly environments: number;
  /** Their V8 heaps (committed), as the environments last reported them. */
  readonly environmentHeapBytes: number | null;
  /** Child processes of the stack: DynamoDB Local's JVM and redis-server (not part of rssBytes). */
  readonly children: readonly ProcessRss[];
}

export interface SoakResult {
  readonly options: Omit<SoakOptions, 'log' | 'inspect' | 'stackEnv'>;
  readonly client: string;
  readonly requests: number;
  readonly stoppedBy: 'requests' | 'time';
  readonly durationS: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: LatencySummary;
  /** HTTP status → count, over the measured phase. */
  readonly statusMix: Record<string, number>;
  /** Kind of request → count. */
  readonly kinds: Record<string, number>;
  /** 5xx answers and broken connections: never expected, whatever was sent. */
  readonly errors: number;
  readonly errorSamples: string[];
  readonly memory: {
    readonly afterWarmup: SoakMemoryPoint;
    /** After the first half of the load, idle and a GC: the baseline. */
    readonly settled: SoakMemoryPoint;
    readonly afterLoad: SoakMemoryPoint;
    readonly afterIdle: SoakMemoryPoint;
  };
  /** (afterIdle − settled) / settled, RSS of the stack process: what the second half of the load left. */
  readonly rssGrowth: number;
  /** (afterIdle − afterWarmup) / afterWarmup, for the record: includes what the stack grows to once. */
  readonly rssGrowthFromWarmup: number;
  readonly withinBound: boolean;
  readonly functions: StackMemory['functions'];
}

interface Prepared {
  readonly api: GraphQLHttpClient;
  readonly apiKey: string;
  readonly adminToken: string;
  readonly partnerToken: string;
  readonly customers: readonly { readonly name: string; readonly token: string }[];
  readonly productIds: readonly string[];
  /** Orders placed during the run, per customer index, for order(id) and cancelOrder. */
  readonly orders: Map<number, string[]>;
}

const Q = {
  product: print(GetProductDocument),
  products: print(ListProductsDocument),
  order: print(GetOrderDocument),
  myOrders: print(MyOrdersDocument),
  adjust: print(AdjustStockDocument),
  place: print(PlaceOrderDocument),
  cancel: print(CancelOrderDocument),
};
const CATEGORIES = ['books', 'games', 'garden', 'kitchen', 'music'];

/** Deterministic per index: the same run sends the same sequence. */
function pick(index: number, modulo: number): number {
  // A cheap integer hash (Knuth's multiplicative), so consecutive indexes spread out.
  return (Math.imul(index + 1, 2_654_435_761) >>> 0) % modulo;
}

type Kind =
  | 'product'
  | 'products'
  | 'order'
  | 'myOrders'
  | 'adjustStock'
  | 'placeOrder'
  | 'cancelOrder'
  | 'partner'
  | 'invalidJson'
  | 'noQuery'
  | 'unknownField'
  | 'syntaxError'
  | 'badVariables'
  | 'forgedJwt'
  | 'badApiKey';

/** The mix per 100 requests (see the header comment). */
const MIX: ReadonlyArray<readonly [Kind, number]> = [
  ['product', 45],
  ['products', 10],
  ['order', 3],
  ['myOrders', 2],
  ['adjustStock', 10],
  ['placeOrder', 6],
  ['cancelOrder', 2],
  ['partner', 5],
  ['invalidJson', 3],
  ['noQuery', 2],
  ['unknownField', 4],
  ['syntaxError', 3],
  ['badVariables', 2],
  ['forgedJwt', 2],
  ['badApiKey', 1],
];
const SLOTS: Kind[] = MIX.flatMap(([kind, weight]) => Array.from({ length: weight }, () => kind));

export function soakKind(index: number): Kind {
  return SLOTS[index % SLOTS.length]!;
}

/** One request of the mix: its body and headers, and which statuses are a correct answer. */
function soakRequest(p: Prepared, index: number, kind: Kind): { body: string; headers: Record<string, string>; expect: readonly number[] } {
  const productId = p.productIds[pick(index, p.productIds.length)]!;
  const customerIndex = pick(index * 7 + 3, p.customers.length);
  const customer = p.customers[customerIndex]!;
  const apiKey = { 'x-api-key': p.apiKey };
  const ok = [200] as const;
  switch (kind) {
    case 'product':
      return { body: GraphQLHttpClient.body(Q.product, { id: productId }), headers: apiKey, expect: ok };
    case 'products':
      return {
        body: GraphQLHttpClient.body(Q.products, { category: CATEGORIES[index % CATEGORIES.length]!, limit: 10 }),
        headers: apiKey,
        expect: ok,
      };
    case 'order': {
      const mine = p.orders.get(customerIndex);
      const id = mine?.[index % mine.length] ?? 'no-such-order';
      return { body: GraphQLHttpClient.body(Q.order, { id }), headers: { authorization: customer.token }, expect: ok };
    }
    case 'myOrders':
      return { body: GraphQLHttpClient.body(Q.myOrders, { limit: 5 }), headers: { authorization: customer.token }, expect: ok };
    case 'adjustStock':
      // Mostly restocking, so placeOrder keeps finding stock.
      return {
        body: GraphQLHttpClient.body(Q.adjust, { id: productId, delta: index % 3 === 0 ? -1 : 2 }),
        headers: { authorization: p.adminToken },
        expect: ok,
      };
    case 'placeOrder':
      return {
        body: GraphQLHttpClient.body(Q.place, {
          input: { clientToken: `soak-${index}`, items: [{ productId, quantity: 1 + (index % 2) }] },
        }),
        headers: { authorization: customer.token },
        expect: ok,
      };
    case 'cancelOrder': {
      const mine = p.orders.get(customerIndex);
      const id = mine?.shift() ?? 'no-such-order';
      return { body: GraphQLHttpClient.body(Q.cancel, { id }), headers: { authorization: customer.token }, expect: ok };
    }
    case 'partner':
      return {
        body: GraphQLHttpClient.body(Q.products, { category: CATEGORIES[index % CATEGORIES.length]!, limit: 5 }),
        headers: { authorization: p.partnerToken },
        expect: ok,
      };
    case 'invalidJson':
      return { body: `{"query": "{ product(id: \\"${index}\\") { id } }"`, headers: apiKey, expect: [400] };
    case 'noQuery':
      return { body: JSON.stringify({ variables: { n: index } }), headers: apiKey, expect: [400] };
    case 'unknownField':
      // Different text each time: a new entry for every document cache on the way.
      return {
        body: GraphQLHttpClient.body(`query Q${index} { product(id: "${productId}") { id noSuchField${index} } }`, {}),
        headers: apiKey,
        expect: ok,
      };
    case 'syntaxError':
      return {
        body: GraphQLHttpClient.body(`query { product(id: "${index}") { id name ${'{'.repeat(1 + (index % 5))} }`, {}),
        headers: apiKey,
        expect: ok,
      };
    case 'badVariables':
      return {
        body: GraphQLHttpClient.body(Q.adjust, { id: productId, delta: `lots-${index}` }),
        headers: { authorization: p.adminToken },
        expect: ok,
      };
    case 'forgedJwt': {
      const [header, , signature] = customer.token.split('.') as [string, string, string];
      const payload = Buffer.from(JSON.stringify({ sub: `intruder-${index}`, 'cognito:groups': ['admin'], token_use: 'id' })).toString(
        'base64url',
      );
      return {
        body: GraphQLHttpClient.body(Q.product, { id: productId }),
        headers: { authorization: `${header}.${payload}.${signature}` },
        expect: [401],
      };
    }
    case 'badApiKey':
      return {
        body: GraphQLHttpClient.body(Q.product, { id: productId }),
        headers: { 'x-api-key': `da2-${String(index).padStart(26, 'x')}` },
        expect: [401],
      };
  }
}

async function memoryPoint(stack: StackProcess): Promise<SoakMemoryPoint> {
  const [memory, tree] = await Promise.all([stack.memory(), stack.processTree()]);
  const functions = Object.values(memory.functions);
  const heaps = functions.map((f) => f.memory?.totalHeapBytes);
  return {
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    externalBytes: memory.external,
    environments: functions.reduce((sum, f) => sum + f.environments, 0),
    environmentHeapBytes: heaps.every((h) => h !== undefined) ? heaps.reduce((sum: number, h) => sum + h!, 0) : null,
    children: tree.filter((entry) => entry.pid !== stack.pid),
  };
}

export async function runSoak(options: Partial<SoakOptions> = {}): Promise<SoakResult> {
  const o: SoakOptions = { ...SOAK_DEFAULTS, ...options };
  const log = o.log ?? (() => undefined);
  const stack = await startStackProcess({ seedProducts: o.products, ...(o.stackEnv ? { env: o.stackEnv } : {}) });
  const api = new GraphQLHttpClient(stack.info.graphqlUrl, { maxSockets: o.concurrency, timeoutMs: 30_000 });
  try {
    const customers = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => ({ name: `soak-customer-${i}`, token: await stack.mint(`soak-customer-${i}`) })),
    );
    const prepared: Prepared = {
      api,
      apiKey: stack.info.apiKey,
      adminToken: await stack.mint('soak-admin', ['admin']),
      partnerToken: stack.info.partnerToken,
      customers,
      productIds: sampleProducts(o.products).map((product) => product.id),
      orders: new Map(),
    };

    const statusMix: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    let counting = false;
    const send =
      (offset: number) =>
      async (index: number): Promise<string | null> => {
        const sequence = offset + index;
        const kind = soakKind(sequence);
        const request = soakRequest(prepared, sequence, kind);
        let response: Awaited<ReturnType<typeof api.post>>;
        try {
          response = await api.post(request.body, request.headers);
        } catch (error) {
          if (counting) statusMix.network = (statusMix.network ?? 0) + 1;
          return `${kind}: ${String(error)}`;
        }
        if (counting) {
          statusMix[response.status] = (statusMix[response.status] ?? 0) + 1;
          kinds[kind] = (kinds[kind] ?? 0) + 1;
        }
        if (kind === 'placeOrder' && response.status === 200) {
          const id = (response.body?.data as { placeOrder?: { id?: string } } | null | undefined)?.placeOrder?.id;
          const customerIndex = pick(sequence * 7 + 3, customers.length);
          if (id) {
            const mine = prepared.orders.get(customerIndex) ?? [];
            // Bounded: the client must not be the thing that grows.
            if (mine.length < 200) mine.push(id);
            prepared.orders.set(customerIndex, mine);
          }
        }
        if (response.status >= 500) return `${kind}: HTTP ${response.status} ${response.text.slice(0, 200)}`;
        if (!request.expect.includes(response.status))
          return `${kind}: expected HTTP ${request.expect.join('/')}, got ${response.status} ${response.text.slice(0, 200)}`;
        return null;
      };

    log(`  soak: stack up (pid ${stack.pid}, cache ${stack.info.cache}); warm-up ${o.warmupRequests} requests x${o.concurrency}`);
    const warmup = await runClosedLoop(send(0), { concurrency: o.concurrency, maxRequests: o.warmupRequests, maxDurationMs: 30_000 });
    // The same settling as after the load, so the two points compare.
    await sleep(o.idleMs);
    await stack.gc();
    const afterWarmup = await memoryPoint(stack);
    await o.inspect?.('afterWarmup', stack);
    log(
      `  soak: after warm-up RSS ${mib(afterWarmup.rssBytes)} MiB, ${afterWarmup.environments} environments; ${o.requests} requests (≤ ${o.maxDurationMs / 1000} s)`,
    );

    counting = true;
    const halves = [Math.ceil(o.requests / 2), Math.floor(o.requests / 2)] as const;
    const latencies: number[] = [];
    const first = await runClosedLoop(send(warmup.requests), {
      concurrency: o.concurrency,
      maxRequests: halves[0],
      maxDurationMs: o.maxDurationMs / 2,
      samples: latencies,
    });
    counting = false;
    await sleep(o.idleMs);
    await stack.gc();
    const settled = await memoryPoint(stack);
    await o.inspect?.('settled', stack);
    log(`  soak: ${first.requests} requests, then idle + GC: RSS settled at ${mib(settled.rssBytes)} MiB`);
    counting = true;
    const second = await runClosedLoop(send(warmup.requests + first.requests), {
      concurrency: o.concurrency,
      maxRequests: halves[1],
      maxDurationMs: o.maxDurationMs / 2,
      samples: latencies,
    });
    counting = false;
    const load = combineRuns([first, second], latencies);
    const afterLoad = await memoryPoint(stack);
    await o.inspect?.('afterLoad', stack);
    await sleep(o.idleMs);
    await stack.gc();
    const afterIdle = await memoryPoint(stack);
    await o.inspect?.('afterIdle', stack);
    const functions = (await stack.memory()).functions;
    const rssGrowth = (afterIdle.rssBytes - settled.rssBytes) / settled.rssBytes;
    const rssGrowthFromWarmup = (afterIdle.rssBytes - afterWarmup.rssBytes) / afterWarmup.rssBytes;
    log(
      `  soak: ${load.requests} requests in ${load.durationS.toFixed(1)} s; RSS after load ${mib(afterLoad.rssBytes)} MiB, after idle ${mib(afterIdle.rssBytes)} MiB`,
    );
    const { log: _log, inspect: _inspect, stackEnv: _stackEnv, ...reported } = o;
    return {
      options: reported,
      client: 'separate process (the benchmark process) over keep-alive HTTP on 127.0.0.1; the stack runs in fuzz/stack-process.ts',
      requests: load.requests,
      stoppedBy: load.stoppedBy,
      durationS: load.durationS,
      requestsPerSecond: load.requestsPerSecond,
      latencyMs: load.latencyMs,
      statusMix,
      kinds,
      errors: load.errors + warmup.errors,
      errorSamples: [...new Set([...warmup.errorSamples, ...load.errorSamples])],
      memory: { afterWarmup, settled, afterLoad, afterIdle },
      rssGrowth,
      rssGrowthFromWarmup,
      withinBound: rssGrowth <= o.boundFraction,
      functions,
    };
  } finally {
    api.close();
    await stack.stop();
  }
}

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
const signedPercent = (fraction: number): string => `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)}%`;

/** The soak's lines for the benchmark's console report. */
export function renderSoak(soak: SoakResult): string {
  const m = soak.memory;
  const env = (point: SoakMemoryPoint): string =>
    `${point.environments} environments${point.environmentHeapBytes === null ? '' : ` (${mib(point.environmentHeapBytes)} MiB of worker heaps)`}`;
  const children = m.afterIdle.children.map((c) => `${c.name} ${mib(c.rssBytes)} MiB`).join(', ');
  const statuses = Object.entries(soak.statusMix)
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  return [
    `Memory soak (${soak.client})`,
    `  ${soak.requests} mixed requests x${soak.options.concurrency} in ${soak.durationS.toFixed(1)} s (${soak.requestsPerSecond.toFixed(0)} req/s, p99 ${soak.latencyMs.p99.toFixed(1)} ms, stopped by ${soak.stoppedBy}); statuses ${statuses}; ${soak.errors} errors`,
    `  stack RSS after warm-up + GC ${mib(m.afterWarmup.rssBytes)} MiB (${env(m.afterWarmup)}), after half the load + GC ${mib(m.settled.rssBytes)} MiB (${env(m.settled)}),`,
    `  after the rest ${mib(m.afterLoad.rssBytes)} MiB (${env(m.afterLoad)}), after ${soak.options.idleMs / 1000} s idle + GC ${mib(m.afterIdle.rssBytes)} MiB (${env(m.afterIdle)}):`,
    `  ${signedPercent(soak.rssGrowth)} over the second half — ${soak.withinBound ? 'within' : 'OUTSIDE'} the +${(soak.options.boundFraction * 100).toFixed(1)}% bound (${signedPercent(soak.rssGrowthFromWarmup)} from the warm-up)`,
    `  (not in the stack's RSS: ${children || 'no child processes'})`,
  ].join('\n');
}

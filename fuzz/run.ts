/**
 * `npm run fuzz -- --requests N`: malformed HTTP and WebSocket traffic at a
 * fresh local stack, with an ordinary probe and a stock ledger alongside.
 *
 *   --requests N        hostile and ledger requests to send (default 2000)
 *   --seed S            replay a run's exact sequence (default: random, printed)
 *   --concurrency C     requests in flight at once (default 6)
 *   --max-seconds T     stop sending after T seconds, whatever N (default 900)
 *   --only k1,k2        only these hostile kinds (see fuzz/generators.ts), no ledger ops
 *   --replay I          send only request #I of the run with --seed S (a finding's "request #I")
 *   --cache none        run the stack without Redis
 *   --out FILE          the JSON report (default .local/fuzz/report.json)
 *
 * The stack runs in its own process (fuzz/stack-process.ts), started fresh,
 * on 127.0.0.1; nothing else is contacted. Exit code 1 on any 5xx, any probe
 * slower than 1 s (or failing), or any ledger violation; 2 on bad arguments.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { print } from 'graphql';
import { CreateProductDocument } from '../generated/client/graphql.js';
import { sampleProducts } from '../local/seed.js';
import { HOSTILE_WEIGHTS, hostileCase, type FuzzCase, type FuzzContext, type HostileKind } from './generators.js';
import { checkIntegrity, ledgerOp, type Adjustment, type LedgerOp, type LedgerOrder, type LedgerState } from './integrity.js';
import { Probe } from './probe.js';
import { FAILING, Findings, renderReport, summaryLine, type FuzzReport, type MemoryFigures } from './report.js';
import { Rng } from './rng.js';
import { send, type Outcome } from './send.js';
import { startStackProcess, type StackProcess } from './stack-client.js';
import { attributeSlowProbes, Tracker } from './tracker.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '6' },
    'max-seconds': { type: 'string', default: '900' },
    only: { type: 'string' },
    replay: { type: 'string' },
    cache: { type: 'string', default: 'redis' },
    out: { type: 'string', default: '.local/fuzz/report.json' },
  },
  strict: true,
});

function positiveInt(name: string, raw: string | undefined, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    console.error(`--${name} must be an integer in 1..${max}, got ${raw}`);
    process.exit(2);
  }
  return value;
}

const requested = positiveInt('requests', values.requests, 1_000_000);
const concurrency = positiveInt('concurrency', values.concurrency, 64);
const maxMs = positiveInt('max-seconds', values['max-seconds'], 24 * 3600) * 1000;
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positiveInt('seed', values.seed, 2 ** 31);
const only = values.only
  ?.split(',')
  .map((k) => k.trim())
  .filter(Boolean) as HostileKind[] | undefined;
for (const kind of only ?? []) {
  if (!(kind in HOSTILE_WEIGHTS)) {
    console.error(`--only: unknown kind ${kind}; kinds: ${Object.keys(HOSTILE_WEIGHTS).join(', ')}`);
    process.exit(2);
  }
}
const replay = values.replay === undefined ? undefined : Number(values.replay);

/** Share of requests that are ledger ops (placeOrder, cancelOrder, adjustStock with hostile values). */
const LEDGER_SHARE = 0.2;
const PROBE_BOUND_MS = 1000;
const REQUEST_TIMEOUT_MS = 30_000;
const LEDGER_PRODUCTS = 6;
const LEDGER_INITIAL_STOCK = 5000;
const CUSTOMERS = 4;

/** One generator per request, so request #i is the same whatever ran before it (--replay). */
const rngFor = (index: number): Rng => new Rng((Math.imul(seed ^ 0x5bd1e995, 31) + Math.imul(index + 1, 0x9e3779b1)) >>> 0);

interface Plan {
  readonly index: number;
  readonly hostile?: FuzzCase;
  readonly ledger?: LedgerOp;
}

function plan(index: number, ctx: FuzzContext, state: LedgerState): Plan {
  const rng = rngFor(index);
  if (!only && rng.next() < LEDGER_SHARE) return { index, ledger: ledgerOp(rng.fork(), state) };
  return { index, hostile: hostileCase(rng.fork(), ctx, only) };
}

async function memoryFigures(stack: StackProcess): Promise<MemoryFigures> {
  const memory = await stack.memory();
  return {
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    environments: Object.values(memory.functions).reduce((sum, f) => sum + f.environments, 0),
  };
}

interface GraphQLAnswer {
  readonly status: number | string;
  readonly body: { data?: Record<string, unknown> | null; errors?: Array<{ errorType?: string; message?: string }> } | undefined;
  readonly text: string;
}

/** The ledger's own client: ordinary requests with hostile values, long timeouts (an unknown outcome spoils the balance). */
function graphql(agent: Agent, port: number, body: string, authorization: string, timeoutMs = 60_000): Promise<GraphQLAnswer> {
  return new Promise((resolveAnswer) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/graphql',
        agent,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', authorization, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', () => resolveAnswer({ status: 'reset', body: undefined, text: '' }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: GraphQLAnswer['body'];
          try {
            parsed = JSON.parse(text) as GraphQLAnswer['body'];
          } catch {
            parsed = undefined;
          }
          resolveAnswer({ status: res.statusCode ?? 0, body: parsed, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) =>
      resolveAnswer({ status: error.message === 'timeout' ? 'timeout' : 'reset', body: undefined, text: String(error) }),
    );
    req.end(body);
  });
}

function apiKeyRequest(agent: Agent, port: number, body: string, apiKey: string): Promise<number> {
  return new Promise((resolveStatus) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/graphql',
        agent,
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolveStatus(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolveStatus(0));
    req.end(body);
  });
}

async function createLedgerProducts(
  agent: Agent,
  port: number,
  adminToken: string,
  runId: string,
): Promise<Array<{ id: string; initialStock: number }>> {
  const products: Array<{ id: string; initialStock: number }> = [];
  for (let i = 0; i < LEDGER_PRODUCTS; i++) {
    const input = {
      sku: `FUZZ-${runId}-${i}`,
      name: `Fuzz ledger product ${i}`,
      priceCents: 100 + i,
      currency: 'USD',
      category: `fuzz-${runId}`,
      stock: LEDGER_INITIAL_STOCK,
    };
    const answer = await graphql(agent, port, JSON.stringify({ query: print(CreateProductDocument), variables: { input } }), adminToken);
    const product = answer.body?.data?.createProduct as { id?: string; stock?: number } | undefined;
    if (answer.status !== 200 || !product?.id || answer.body?.errors)
      throw new Error(`createProduct failed: ${answer.status} ${answer.text.slice(0, 300)}`);
    products.push({ id: product.id, initialStock: product.stock ?? LEDGER_INITIAL_STOCK });
  }
  return products;
}

async function readLedger(
  stack: StackProcess,
  productIds: readonly string[],
): Promise<{ stocks: Map<string, number | undefined>; orders: LedgerOrder[] }> {
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: stack.info.dynamoDbEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  try {
    const stocks = new Map<string, number | undefined>();
    for (const id of productIds) {
      const { Item } = await db.send(new GetCommand({ TableName: stack.info.tables.products, Key: { id }, ConsistentRead: true }));
      stocks.set(id, Item === undefined ? undefined : Number(Item.stock));
    }
    const orders: LedgerOrder[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(new ScanCommand({ TableName: stack.info.tables.orders, ConsistentRead: true, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        orders.push({
          id: String(item.id),
          status: String(item.status),
          items: Array.isArray(item.items)
            ? (item.items as Array<{ productId: unknown; quantity: unknown }>).map((line) => ({
                productId: String(line.productId),
                quantity: Number(line.quantity),
              }))
            : [],
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return { stocks, orders };
  } finally {
    db.destroy();
  }
}

/** The stack's stderr, condensed: each distinct first line of a message and how often it came. */
function stderrSummary(text: string): Array<{ line: string; count: number }> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    // Stack frames and blank lines belong to the message above them.
    if (/^\s+at |^\s*$|^\s*[{}]|^\s+code:/.test(line)) continue;
    const key = line.replace(/\d+/g, 'N').slice(0, 200);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .map(([line, count]) => ({ line, count }))
    .sort((a, b) => b.count - a.count)
    .slice(0, 20);
}

const excerpt = (fuzzCase: FuzzCase): string => {
  if (fuzzCase.transport === 'http')
    return `${fuzzCase.method} ${fuzzCase.path.slice(0, 80)} ${JSON.stringify(fuzzCase.headers).slice(0, 200)} ${fuzzCase.body.slice(0, 600)}`;
  if (fuzzCase.transport === 'raw')
    return fuzzCase.steps.map((s) => ('write' in s ? `write ${JSON.stringify(s.write.slice(0, 300))}` : Object.keys(s)[0])).join(' → ');
  return `${fuzzCase.connections > 1 ? `${fuzzCase.connections}× ` : ''}ws ${fuzzCase.path.slice(0, 100)} [${fuzzCase.protocols.join(', ').slice(0, 60)}] ${fuzzCase.steps.map((s) => JSON.stringify(s).slice(0, 120)).join(' → ')}`;
};

async function main(): Promise<number> {
  const runStarted = Date.now();
  console.error(`Starting a fresh stack (seed ${seed})…`);
  // The stack's stderr (e.g. "[appsync] request failed" with a stack trace per 500) is kept for the report, not echoed.
  let stderr = '';
  const stack = await startStackProcess({
    seedProducts: 20,
    cache: values.cache === 'none' ? 'none' : 'redis',
    onStderr: (text) => {
      if (stderr.length < 512 * 1024) stderr += text;
    },
  });
  const port = Number(new URL(stack.info.url).port);
  const host = `127.0.0.1:${port}`;
  const ledgerAgent = new Agent({ keepAlive: true, maxSockets: 8 });
  const hostileAgent = new Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    const adminToken = await stack.mint('fuzz-admin', ['admin']);
    const customerTokens = await Promise.all(Array.from({ length: CUSTOMERS }, (_, i) => stack.mint(`fuzz-customer-${i}`)));
    const ledgerProducts = await createLedgerProducts(ledgerAgent, port, adminToken, seed.toString(36));
    const ctx: FuzzContext = {
      host,
      apiKey: stack.info.apiKey,
      adminToken,
      customerTokens,
      partnerToken: stack.info.partnerToken,
      iamAccessKeyId: stack.info.iamPrincipal.accessKeyId,
      productIds: sampleProducts(20).map((p) => p.id),
    };
    const state: LedgerState = {
      productIds: ledgerProducts.map((p) => p.id),
      customerTokens,
      adminToken,
      orders: new Map(),
      clientTokens: new Map(),
    };

    // Warm-up: ordinary traffic at the run's concurrency, so "before" is a warm stack and the first
    // probes do not wait on cold starts (catalog, orders, reviews, the authorizer).
    const warmup = [
      { body: JSON.stringify({ query: '{ product(id: "sample-00001") { id name stock } }' }), authorization: '', apiKey: true },
      {
        body: JSON.stringify({ query: '{ products(category: "books", limit: 5) { items { id reviews(limit: 2) { items { id } } } } }' }),
        authorization: '',
        apiKey: true,
      },
      { body: JSON.stringify({ query: '{ myOrders(limit: 2) { items { id } } }' }), authorization: customerTokens[0]!, apiKey: false },
      {
        body: JSON.stringify({ query: '{ products(category: "books", limit: 2) { items { id } } }' }),
        authorization: stack.info.partnerToken,
        apiKey: false,
      },
    ];
    for (let round = 0; round < 6; round++) {
      await Promise.all(
        Array.from({ length: concurrency + 2 }, (_, i) => {
          const w = warmup[i % warmup.length]!;
          return w.apiKey
            ? apiKeyRequest(ledgerAgent, port, w.body, stack.info.apiKey)
            : graphql(ledgerAgent, port, w.body, w.authorization);
        }),
      );
    }
    const before = await memoryFigures(stack);

    const findings = new Findings();
    const tracker = new Tracker();
    const statusMix: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    const adjustments: Adjustment[] = [];
    let ambiguous = 0;
    let serverErrors = 0;
    let httpRequests = 0;
    let webSocketConnections = 0;
    const count = (status: string): void => void (statusMix[status] = (statusMix[status] ?? 0) + 1);
    const started = performance.now();

    const probe = new Probe({
      port,
      apiKey: stack.info.apiKey,
      productId: ctx.productIds[0]!,
      intervalMs: 100,
      boundMs: PROBE_BOUND_MS,
      timeoutMs: REQUEST_TIMEOUT_MS,
      startedAt: started,
    });

    const runLedger = async (index: number, op: LedgerOp): Promise<void> => {
      kinds[`ledger:${op.kind}`] = (kinds[`ledger:${op.kind}`] ?? 0) + 1;
      const answers = await Promise.all(op.requests.map((r) => graphql(ledgerAgent, port, r.body, r.authorization)));
      httpRequests += answers.length;
      answers.forEach((answer, i) => {
        count(String(answer.status));
        const example = {
          index,
          description: op.description,
          request: op.requests[i]!.body.slice(0, 600),
          response: answer.text.slice(0, 300),
          status: String(answer.status),
        };
        if (typeof answer.status === 'number' && answer.status >= 500) {
          serverErrors += 1;
          findings.add('server-error', `ledger:${op.kind}`, example, String(answer.status));
        } else if (typeof answer.status !== 'number') {
          findings.add('hang', `ledger:${op.kind}`, example, answer.status);
        } else if (answer.body?.errors?.some((e) => e.errorType === 'Lambda:Unhandled' || e.errorType === 'InternalFailure'))
          findings.add('unhandled', `ledger:${op.kind}`, example);
      });
      const [answer] = answers;
      if (!answer) return;
      if (op.kind === 'adjustStock' && op.adjustment) {
        if (typeof answer.status !== 'number' || answer.status >= 500) ambiguous += 1;
        else if (!answer.body?.errors && (answer.body?.data?.adjustStock as { id?: string } | undefined)?.id === op.adjustment.productId)
          adjustments.push(op.adjustment);
      }
      if ((op.kind === 'placeOrder' || op.kind === 'replayOrder') && op.customer !== undefined) {
        const id = (answer.body?.data?.placeOrder as { id?: string } | undefined)?.id;
        if (id) {
          const mine = state.orders.get(op.customer) ?? [];
          if (!mine.includes(id)) mine.push(id);
          state.orders.set(op.customer, mine);
          if (op.clientToken) {
            const tokens = state.clientTokens.get(op.customer) ?? [];
            if (tokens.length < 50) tokens.push({ ...op.clientToken });
            state.clientTokens.set(op.customer, tokens);
          }
        }
      }
    };

    const runHostile = async (index: number, fuzzCase: FuzzCase): Promise<Outcome> => {
      kinds[fuzzCase.kind] = (kinds[fuzzCase.kind] ?? 0) + 1;
      if (fuzzCase.transport === 'ws') webSocketConnections += fuzzCase.connections;
      else httpRequests += 1;
      const outcome = await send(fuzzCase, { host, port, agent: hostileAgent, timeoutMs: REQUEST_TIMEOUT_MS });
      count(outcome.status);
      const example = {
        index,
        description: fuzzCase.description,
        request: excerpt(fuzzCase),
        response: outcome.detail,
        status: outcome.status,
        latencyMs: outcome.durationMs,
      };
      if (outcome.serverError) {
        serverErrors += 1;
        findings.add('server-error', fuzzCase.kind, example, outcome.status);
      }
      if (outcome.hung) findings.add('hang', fuzzCase.kind, example);
      if (outcome.unhandled && !outcome.serverError) findings.add('unhandled', fuzzCase.kind, example);
      // A keep-alive reuse must end in an answer or a close: a 400 means the rest of the first body was read as a request.
      if (fuzzCase.kind === 'keepAliveReuse' && /^raw \d+\+(400|hang)/.test(outcome.status))
        findings.add('desync', fuzzCase.kind, example, outcome.status);
      return outcome;
    };

    let next = 0;
    let sent = 0;
    let stoppedBy: FuzzReport['stoppedBy'] = 'requests';
    const deadline = started + maxMs;
    probe.start();
    if (replay !== undefined) {
      const p = plan(replay, ctx, state);
      const label = p.hostile ? `${p.hostile.kind}: ${p.hostile.description}` : `ledger ${p.ledger!.kind}: ${p.ledger!.description}`;
      console.error(`Replaying request #${replay} of seed ${seed}: ${label}`);
      const entry = tracker.start(replay, p.hostile?.kind ?? `ledger:${p.ledger!.kind}`, label);
      if (p.hostile) {
        const outcome = await runHostile(replay, p.hostile);
        console.error(`  → ${outcome.status} after ${outcome.durationMs.toFixed(0)} ms: ${outcome.detail.slice(0, 500)}`);
      } else await runLedger(replay, p.ledger!);
      tracker.end(entry);
      sent = 1;
      await new Promise((r) => setTimeout(r, 500));
    } else {
      let lastLog = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (;;) {
            if (next >= requested) return;
            if (performance.now() >= deadline) {
              stoppedBy = 'time';
              return;
            }
            const index = next++;
            const p = plan(index, ctx, state);
            const label = p.hostile ? p.hostile.description : p.ledger!.description;
            const entry = tracker.start(index, p.hostile?.kind ?? `ledger:${p.ledger!.kind}`, label);
            try {
              if (p.hostile) await runHostile(index, p.hostile);
              else await runLedger(index, p.ledger!);
            } finally {
              tracker.end(entry);
            }
            sent += 1;
            if (performance.now() - lastLog > 10_000) {
              lastLog = performance.now();
              console.error(`  ${sent}/${requested} requests, ${serverErrors} 5xx, ${((performance.now() - started) / 1000).toFixed(0)} s`);
            }
          }
        }),
      );
    }
    const durationS = (performance.now() - started) / 1000;
    const probeSummary = await probe.stop();

    // Slow (or failed) probes, each laid at the door of the in-flight request variant most associated with slowness.
    const windows = probe.samples.map((sample) => ({
      from: started + sample.at,
      to: started + sample.at + sample.latencyMs,
      slow: sample.latencyMs > PROBE_BOUND_MS || sample.problem !== null,
      sample,
    }));
    const attributions = attributeSlowProbes(tracker, windows);
    windows
      .filter((w) => w.slow)
      .forEach((w, i) => {
        const inFlight = attributions[i] ?? [];
        const suspect = inFlight[0];
        findings.add(
          w.sample.problem !== null ? 'probe-failure' : 'slow-probe',
          suspect?.kind ?? 'none in flight',
          {
            description: `product(id) probe at +${(w.sample.at / 1000).toFixed(1)} s took ${w.sample.latencyMs.toFixed(0)} ms${w.sample.problem ? `: ${w.sample.problem}` : ''}${
              suspect
                ? `; suspect: ${suspect.description} (in flight during ${suspect.slowProbesWith} of the slow probes and ${suspect.probesWith} probes in all; lift ${suspect.lift.toFixed(1)})`
                : ''
            }`,
            latencyMs: w.sample.latencyMs,
            inFlight: inFlight.slice(0, 6).map(({ index, kind, description, durationMs }) => ({ index, kind, description, durationMs })),
            ...(suspect ? { index: suspect.index } : {}),
          },
          suspect?.variant ?? '',
        );
      });

    // Let in-flight transactions settle, then read the ledger straight from DynamoDB Local.
    await new Promise((r) => setTimeout(r, 1000));
    const after = await memoryFigures(stack);
    const ledger = await readLedger(stack, state.productIds);
    const integrity = checkIntegrity({
      products: ledgerProducts.map((p) => ({ id: p.id, initialStock: p.initialStock, currentStock: ledger.stocks.get(p.id) })),
      adjustments,
      orders: ledger.orders,
    });
    // One finding for the ledger (each violation is listed under "integrity" in the report).
    for (const violation of integrity.violations)
      findings.add('integrity', 'ledger', { description: `${violation.productId}: ${violation.problem}` });
    const ledgerIds = new Set(state.productIds);
    const ledgerOrders = ledger.orders.filter((o) => o.items.some((item) => ledgerIds.has(item.productId)));
    await stack.gc();
    const afterGc = await memoryFigures(stack);
    const children = (await stack.processTree()).filter((p) => p.pid !== stack.pid).map(({ name, rssBytes }) => ({ name, rssBytes }));

    const list = findings.list();
    const report: FuzzReport = {
      seed,
      requestedRequests: replay === undefined ? requested : 1,
      requests: sent,
      httpRequests,
      webSocketConnections,
      stoppedBy,
      durationS,
      statusMix,
      kinds,
      serverErrors,
      probe: { ...probeSummary, boundMs: PROBE_BOUND_MS },
      memory: { before, after, afterGc, children },
      integrity: {
        ...integrity,
        adjustments: adjustments.filter((a) => ledgerIds.has(a.productId)).length,
        orders: ledgerOrders.length,
        cancelled: ledgerOrders.filter((o) => o.status === 'CANCELLED').length,
        ambiguous,
      },
      findings: list,
      stackStderr: stderrSummary(stderr),
      ok: !list.some((f) => FAILING.has(f.type)),
    };
    const out = resolve(process.cwd(), values.out);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(renderReport(report));
    console.log(
      `  report: ${out} (whole run ${((Date.now() - runStarted) / 1000).toFixed(0)} s; replay a finding with --seed ${seed} --replay <request #>)`,
    );
    console.log(summaryLine(report));
    return report.ok ? 0 : 1;
  } finally {
    ledgerAgent.destroy();
    hostileAgent.destroy();
    await stack.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('The fuzz run failed:', error);
    process.exitCode = 1;
  },
);

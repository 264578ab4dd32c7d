import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { repositoryRoot } from '../declarations/paths.js';
import { RealtimeClient, type ServerMessage } from '../local/realtime/client.js';
import { summarize } from './load.js';
import type { RealtimeEndpoint } from '../local/realtime/realtime-server.js';
import { startStandaloneRealtime } from '../local/realtime/standalone.js';

/**
 * Real-time endpoint figures on loopback, for `npm run bench`: connection
 * set-up, fan-out latency (publish() call → message parsed by the client) for
 * several subscriber counts, and server memory per idle connection.
 *
 * Clients for the latency runs share the server's process and event loop, so
 * latency includes client-side parsing of every message of the burst: it is
 * an upper bound for the server's own cost. Memory is measured with the
 * clients in a separate process, so the delta is the server side alone.
 */

export interface RealtimeBenchOptions {
  /** Sockets opened (each also holds one background subscription that never matches). Default 1000. */
  readonly connections?: number;
  /** Subscriber counts to measure fan-out for; each ≤ connections. Default [1, 100, 1000]. */
  readonly fanOuts?: readonly number[];
  /** Publishes per phase (a burst, then one at a time). Default 20. */
  readonly events?: number;
  /** Idle sockets opened from a child process for the memory figure; 0 skips it. Default 1000. */
  readonly memoryConnections?: number;
  readonly log?: (line: string) => void;
}

export interface Distribution {
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface FanOutResult {
  readonly subscribers: number;
  /** Events per phase: a burst (published back to back), then as many published one at a time. */
  readonly events: number;
  readonly expectedDeliveries: number;
  readonly received: number;
  readonly missing: number;
  /** Data messages for the wrong subscription, or duplicates. */
  readonly unexpected: number;
  /** Burst: publish() → data message parsed by its client, over every (subscriber, event) pair, ms. Includes queueing behind the burst's earlier events. */
  readonly burstLatencyMs: Distribution;
  /** One event at a time (the next published once every subscriber got the previous): fan-out latency without queueing, ms. */
  readonly latencyMs: Distribution;
  /** Time spent inside publish() per event (hub lookup, projection, queueing every send), ms. */
  readonly publishCallMs: Distribution;
}

export interface RealtimeMeasurement {
  readonly connections: number;
  /** Socket open → connection_ack, `concurrency` at a time. */
  readonly connectionSetup: { readonly totalMs: number; readonly concurrency: number; readonly perConnectionMs: Distribution };
  readonly fanOut: readonly FanOutResult[];
  readonly memoryPerIdleConnection: {
    readonly connections: number;
    /** Server process RSS growth per idle connection (after connection_ack), bytes. */
    readonly rssBytes: number;
    /** Server V8 heap + external (Buffers) growth per idle connection, bytes. */
    readonly heapAndExternalBytes: number;
  } | null;
}

const API_KEY = 'da2-realtimebenchmarkkey000000';
const SUBSCRIPTION = /* GraphQL */ `subscription OnProduct($id: ID) {
  onProductUpdated(id: $id) { id sku name priceCents currency stock version updatedAt }
}`;
const SETUP_CONCURRENCY = 50;

type DataHandler = (message: ServerMessage, receivedAt: number, client: number) => void;

export async function measureRealtime(options: RealtimeBenchOptions = {}): Promise<RealtimeMeasurement> {
  const connections = options.connections ?? 1000;
  const fanOuts = options.fanOuts ?? [1, 100, 1000];
  const events = options.events ?? 20;
  const memoryConnections = options.memoryConnections ?? 1000;
  const log = options.log ?? (() => undefined);
  if (fanOuts.some((n) => n > connections)) throw new Error('Each fan-out must be at most the number of connections');

  const standalone = await startStandaloneRealtime(API_KEY);
  const { url, realtime } = standalone;
  const clients: RealtimeClient[] = [];
  try {
    const memoryPerIdleConnection = memoryConnections > 0 ? await measureIdleMemory(url, memoryConnections) : null;
    log(`memory: ${JSON.stringify(memoryPerIdleConnection)}`);

    // Every client routes data messages to whichever fan-out run is active.
    let onData: DataHandler = () => undefined;
    const setupTimes: number[] = [];
    const setupStarted = performance.now();
    for (let i = 0; i < connections; i += SETUP_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(SETUP_CONCURRENCY, connections - i) }, async (_, j) => {
        const started = performance.now();
        const client = await RealtimeClient.connect(url, {
          headers: { 'x-api-key': API_KEY },
          onMessage: (message) => {
            if (message.type !== 'data') return false;
            onData(message, performance.now(), i + j);
            return true;
          },
        });
        const ack = await client.init(10_000);
        if (ack.type !== 'connection_ack') throw new Error(`connection ${i + j}: ${JSON.stringify(ack)}`);
        setupTimes.push(performance.now() - started);
        clients[i + j] = client;
      });
      await Promise.all(batch);
    }
    const setupTotal = performance.now() - setupStarted;
    // Background subscriptions that never match: publishing must not pay for them.
    await Promise.all(
      clients.map((client, i) => expectAck(client.start('bg', SUBSCRIPTION, { id: `bg-${i}` }, { 'x-api-key': API_KEY }, 10_000))),
    );
    log(`${connections} connections up in ${setupTotal.toFixed(0)} ms`);

    const fanOut: FanOutResult[] = [];
    for (const subscribers of fanOuts) {
      const result = await measureFanOut(realtime, clients.slice(0, subscribers), events, (handler) => (onData = handler));
      log(`fan-out ${subscribers}: ${JSON.stringify(result)}`);
      fanOut.push(result);
    }
    return {
      connections,
      connectionSetup: { totalMs: round(setupTotal), concurrency: SETUP_CONCURRENCY, perConnectionMs: distribution(setupTimes) },
      fanOut,
      memoryPerIdleConnection,
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await standalone.close();
  }
}

async function measureFanOut(
  realtime: RealtimeEndpoint,
  subscribers: readonly RealtimeClient[],
  events: number,
  route: (handler: DataHandler) => void,
): Promise<FanOutResult> {
  const productId = `fan-${subscribers.length}`;
  const subscriptionId = `fan-${subscribers.length}`;
  // Event numbers travel in the payload (`version`): 0..events-1 for the burst, events..2·events-1 one at a time.
  const sentAt: number[] = [];
  const latencies: number[][] = [[], []];
  const seen = new Set<string>();
  let unexpected = 0;
  let received = 0;
  let waiting: { count: number; resolve: () => void } | undefined;
  const receivedAll = (count: number): Promise<void> =>
    received >= count
      ? Promise.resolve()
      : Promise.race([
          new Promise<void>((resolve) => (waiting = { count, resolve })),
          new Promise<void>((resolve) => setTimeout(resolve, 30_000).unref()),
        ]);

  await Promise.all(
    subscribers.map((client) => expectAck(client.start(subscriptionId, SUBSCRIPTION, { id: productId }, { 'x-api-key': API_KEY }, 10_000))),
  );
  route((message, receivedAt, client) => {
    const data = (message.payload?.['data'] as { onProductUpdated?: { id?: string; version?: number } } | undefined)?.onProductUpdated;
    const event = data?.version;
    const key = `${client}:${String(event)}`;
    // Clients 0..subscribers-1 subscribed; each must see each event exactly once.
    if (
      message.id !== subscriptionId ||
      data?.id !== productId ||
      typeof event !== 'number' ||
      sentAt[event] === undefined ||
      client >= subscribers.length ||
      seen.has(key)
    ) {
      unexpected += 1;
      return;
    }
    seen.add(key);
    latencies[event < events ? 0 : 1]!.push(receivedAt - sentAt[event]);
    received += 1;
    if (waiting && received >= waiting.count) waiting.resolve();
  });

  const publishTimes: number[] = [];
  const publish = (event: number): void => {
    const started = performance.now();
    sentAt[event] = started;
    const deliveries = realtime.publish('adjustStock', product(productId, event));
    publishTimes.push(performance.now() - started);
    if (deliveries !== subscribers.length) throw new Error(`publish ${event} reached ${deliveries} of ${subscribers.length} subscribers`);
  };
  for (let event = 0; event < events; event += 1) publish(event);
  await receivedAll(subscribers.length * events);
  for (let event = events; event < 2 * events; event += 1) {
    publish(event);
    await receivedAll(subscribers.length * (event + 1));
  }
  route(() => undefined);
  for (const client of subscribers) await client.stop(subscriptionId, 10_000);
  const expected = 2 * subscribers.length * events;
  return {
    subscribers: subscribers.length,
    events,
    expectedDeliveries: expected,
    received,
    missing: Math.max(0, expected - received),
    unexpected,
    burstLatencyMs: distribution(latencies[0]!),
    latencyMs: distribution(latencies[1]!),
    publishCallMs: distribution(publishTimes),
  };
}

function product(id: string, version: number): Record<string, unknown> {
  return {
    id,
    sku: `SKU-${id}`,
    name: `Product ${id}`,
    description: 'A product whose stock just changed, with a description of realistic length for an event payload.',
    priceCents: 1999,
    currency: 'USD',
    category: 'books',
    stock: 100 - version,
    version,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: new Date().toISOString(),
  };
}

async function expectAck(message: Promise<ServerMessage>): Promise<void> {
  const answer = await message;
  if (answer.type !== 'start_ack') throw new Error(`start failed: ${JSON.stringify(answer)}`);
}

/** Idle sockets opened (and acknowledged) by a child process; the server-side growth divided by their number. */
async function measureIdleMemory(url: string, connections: number): Promise<RealtimeMeasurement['memoryPerIdleConnection']> {
  const gc = exposeGc();
  const sample = (): { rss: number; heap: number } => {
    gc?.();
    const usage = process.memoryUsage();
    return { rss: usage.rss, heap: usage.heapUsed + usage.external };
  };
  const before = sample();
  const child = spawn(process.execPath, ['--input-type=module', '-e', IDLE_CLIENTS_SCRIPT], {
    cwd: repositoryRoot,
    env: { ...process.env, REALTIME_URL: url, REALTIME_CONNECTIONS: String(connections), REALTIME_API_KEY: API_KEY },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready')) resolve();
        if (output.includes('failed')) reject(new Error(`idle clients: ${output}`));
      });
      child.once('exit', (code) => reject(new Error(`idle clients exited with ${code}: ${output}`)));
    });
    // Let the server settle (timers, buffers) before sampling.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = sample();
    return {
      connections,
      rssBytes: Math.round((after.rss - before.rss) / connections),
      heapAndExternalBytes: Math.round((after.heap - before.heap) / connections),
    };
  } finally {
    child.stdin.end();
    await new Promise((resolve) => {
      if (child.exitCode !== null) resolve(undefined);
      else child.once('exit', resolve);
    });
  }
}

/** Plain ESM run by `node -e` in the repository root (so `ws` resolves); exits when stdin closes. */
const IDLE_CLIENTS_SCRIPT = `
import { WebSocket } from 'ws';
const url = process.env.REALTIME_URL, total = Number(process.env.REALTIME_CONNECTIONS);
const header = Buffer.from(JSON.stringify({ 'x-api-key': process.env.REALTIME_API_KEY })).toString('base64url');
const sockets = [];
const open = () => new Promise((resolve, reject) => {
  const ws = new WebSocket(url, ['graphql-ws', 'header-' + header]);
  sockets.push(ws);
  ws.on('error', reject);
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
  ws.on('message', (data) => { if (JSON.parse(String(data)).type === 'connection_ack') resolve(); });
});
try {
  for (let i = 0; i < total; i += 50) await Promise.all(Array.from({ length: Math.min(50, total - i) }, open));
  process.stdout.write('ready\\n');
} catch (error) {
  process.stdout.write('failed ' + error + '\\n');
}
process.stdin.resume();
process.stdin.on('end', () => { for (const ws of sockets) ws.terminate(); process.exit(0); });
`;

function exposeGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? () => void (gc as () => void)() : undefined;
  } catch {
    return undefined;
  }
}

/** The load generator's nearest-rank summary, trimmed to what this report shows. */
function distribution(values: readonly number[]): Distribution {
  const { count, p50, p99, max } = summarize(values);
  return { samples: count, p50: round(p50), p99: round(p99), max: round(max) };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

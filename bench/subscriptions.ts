import { performance } from 'node:perf_hooks';
import { print } from 'graphql';
import { AdjustStockDocument } from '../generated/client/graphql.js';
import type { LocalStack } from '../local/runtime.js';
import { RealtimeClient } from '../local/realtime/client.js';
import { summarize, type LatencySummary } from './load.js';

/**
 * Subscription fan-out through the whole local stack: N WebSocket subscribers
 * on `onProductUpdated(id)`, then `adjustStock` mutations over HTTP; latency is
 * measured from the moment the mutation's HTTP response is read to each
 * subscriber's `data` message. Clients run in the benchmark's own process,
 * sharing 2 cores with the server, so these are upper bounds.
 */

export interface FanOutMeasurement {
  readonly subscribers: number;
  readonly events: number;
  /** Per (event, subscriber) delivery. */
  readonly latencyMs: LatencySummary;
  readonly missed: number;
  /** Socket open → connection_ack → start_ack, per subscriber. */
  readonly setupMs: LatencySummary;
}

const SUBSCRIPTION = 'subscription ($id: ID) { onProductUpdated(id: $id) { id stock version } }';
const SETUP_CONCURRENCY = 50;
const DELIVERY_TIMEOUT_MS = 10_000;

export async function measureSubscriptionFanOut(
  stack: LocalStack,
  productId: string,
  adminToken: string,
  options: { subscribers: readonly number[]; events: number },
): Promise<FanOutMeasurement[]> {
  const results: FanOutMeasurement[] = [];
  for (const count of options.subscribers) {
    const arrivals = new Map<number, number[]>();
    let expected = 0;
    let onArrival: (() => void) | undefined;
    const headers = { 'x-api-key': stack.apiKey };
    const clients: RealtimeClient[] = [];
    const setup: number[] = [];
    try {
      for (let start = 0; start < count; start += SETUP_CONCURRENCY) {
        const batch = Array.from({ length: Math.min(SETUP_CONCURRENCY, count - start) }, async () => {
          const began = performance.now();
          const client = await RealtimeClient.connect(stack.realtimeUrl, {
            headers,
            onMessage: (message) => {
              if (message.type !== 'data') return false;
              const payload = message.payload as { data?: { onProductUpdated?: { version?: number } } } | undefined;
              const version = payload?.data?.onProductUpdated?.version ?? -1;
              const list = arrivals.get(version) ?? [];
              list.push(performance.now());
              arrivals.set(version, list);
              onArrival?.();
              return true;
            },
          });
          clients.push(client);
          await client.init();
          const ack = await client.start('s', SUBSCRIPTION, { id: productId }, headers, 10_000);
          if (ack.type !== 'start_ack') throw new Error(`subscription refused: ${JSON.stringify(ack)}`);
          setup.push(performance.now() - began);
        });
        await Promise.all(batch);
      }

      const latencies: number[] = [];
      let missed = 0;
      for (let event = 0; event < options.events; event++) {
        const response = await fetch(stack.graphqlUrl, {
          method: 'POST',
          headers: { authorization: adminToken, 'content-type': 'application/json' },
          body: JSON.stringify({ query: print(AdjustStockDocument), variables: { id: productId, delta: 1 } }),
        });
        const body = (await response.json()) as { data?: { adjustStock?: { version: number } }; errors?: unknown };
        const respondedAt = performance.now();
        const version = body.data?.adjustStock?.version;
        if (version === undefined) throw new Error(`adjustStock failed: ${JSON.stringify(body.errors)}`);
        expected = count;
        await new Promise<void>((resolve) => {
          const done = (): boolean => (arrivals.get(version)?.length ?? 0) >= expected;
          const timer = setTimeout(() => {
            onArrival = undefined;
            resolve();
          }, DELIVERY_TIMEOUT_MS);
          onArrival = () => {
            if (done()) {
              clearTimeout(timer);
              onArrival = undefined;
              resolve();
            }
          };
          onArrival();
        });
        const received = arrivals.get(version) ?? [];
        missed += count - received.length;
        latencies.push(...received.map((at) => Math.max(0, at - respondedAt)));
      }
      results.push({ subscribers: count, events: options.events, latencyMs: summarize(latencies), missed, setupMs: summarize(setup) });
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  }
  return results;
}

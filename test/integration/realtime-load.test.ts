/**
 * The real-time endpoint at scale, on loopback only: 1,000 sockets, 1,000
 * concurrent subscribers, bursts of publishes. Every subscriber must receive
 * exactly its matching events; the figures are printed for the record.
 */
import { describe, expect, it, vi } from 'vitest';
import { measureRealtime } from '../../bench/realtime.js';
import { RealtimeClient } from '../../local/realtime/client.js';
import { startStandaloneRealtime } from '../../local/realtime/standalone.js';

describe('real-time endpoint under load', () => {
  it('fans out to 1, 100 and 1,000 of 1,000 connected subscribers without losing or duplicating an event', async () => {
    const result = await measureRealtime({ connections: 1000, fanOuts: [1, 100, 1000], events: 20, memoryConnections: 1000 });
    const row = (label: string, d: { p50: number; p99: number; max: number }): string =>
      `${label} p50 ${d.p50.toFixed(2)} ms, p99 ${d.p99.toFixed(2)} ms, max ${d.max.toFixed(2)} ms`;
    console.log(
      [
        `realtime: ${result.connections} connections set up in ${result.connectionSetup.totalMs.toFixed(0)} ms ` +
          `(${result.connectionSetup.concurrency} at a time; ${row('per connection', result.connectionSetup.perConnectionMs)})`,
        ...result.fanOut.map(
          (f) =>
            `  fan-out to ${f.subscribers}: ${f.received}/${f.expectedDeliveries} delivered; ${row('one at a time', f.latencyMs)}; ` +
            `${row(`burst of ${f.events}`, f.burstLatencyMs)}; ${row('publish()', f.publishCallMs)}`,
        ),
        result.memoryPerIdleConnection
          ? `  idle connection (server side): ${result.memoryPerIdleConnection.rssBytes} B RSS, ` +
            `${result.memoryPerIdleConnection.heapAndExternalBytes} B heap+external`
          : '  idle connection memory: not measured',
      ].join('\n'),
    );
    for (const fanOut of result.fanOut) {
      expect(fanOut, `fan-out ${fanOut.subscribers}`).toMatchObject({ missing: 0, unexpected: 0, received: fanOut.expectedDeliveries });
    }
    expect(result.connectionSetup.perConnectionMs.samples).toBe(1000);
    expect(result.memoryPerIdleConnection?.connections).toBe(1000);
  }, 120_000);

  it('filters 1,000 subscribers with different arguments (4 per socket) exactly: none missed, none extra', async () => {
    const key = 'da2-realtimeloadtestkey';
    const standalone = await startStandaloneRealtime(key, 600);
    const { url, realtime } = standalone;
    const auth = { 'x-api-key': key };
    const query = 'subscription ($p: ID) { onReviewAdded(productId: $p) { id productId rating } }';
    // Subscriber n: productId p(n % 10), except every 10th, which gives no argument and must see everything.
    const productOf = (n: number): string | null => (n % 10 === 0 ? null : `p${n % 10}`);
    const received = new Map<number, string[]>();
    const clients: RealtimeClient[] = [];
    try {
      for (let socket = 0; socket < 250; socket += 25) {
        await Promise.all(
          Array.from({ length: 25 }, async (_, j) => {
            const client = await RealtimeClient.connect(url, {
              headers: auth,
              onMessage: (message) => {
                if (message.type !== 'data') return false;
                const review = (message.payload?.['data'] as { onReviewAdded: { id: string } }).onReviewAdded;
                const n = Number(message.id);
                received.set(n, [...(received.get(n) ?? []), review.id]);
                return true;
              },
            });
            clients[socket + j] = client;
            expect((await client.init()).type).toBe('connection_ack');
          }),
        );
      }
      await Promise.all(
        clients.map(async (client, socket) => {
          for (let k = 0; k < 4; k += 1) {
            const n = socket * 4 + k;
            expect((await client.start(String(n), query, { p: productOf(n) }, auth, 10_000)).type).toBe('start_ack');
          }
        }),
      );
      expect(realtime.stats()).toMatchObject({ connections: 250, subscriptions: 1000, hub: { combinations: 2 } });

      // A burst of 20 reviews: products p0..p9 twice each (p0 has no named subscriber).
      const reviews = Array.from({ length: 20 }, (_, e) => ({
        id: `r${e}`,
        productId: `p${e % 10}`,
        rating: 5,
        authorId: 'a',
        createdAt: '2026-01-01T00:00:00Z',
      }));
      let deliveries = 0;
      for (const review of reviews) deliveries += realtime.publish('addReview', review);
      const expected = new Map<number, string[]>();
      for (let n = 0; n < 1000; n += 1) {
        expected.set(
          n,
          reviews.filter((r) => productOf(n) === null || r.productId === productOf(n)).map((r) => r.id),
        );
      }
      const total = [...expected.values()].reduce((sum, ids) => sum + ids.length, 0);
      expect(deliveries).toBe(total);
      // Then one marker review per named product (p1..p9): every subscriber matches at least one, and a
      // socket delivers in order, so once a subscriber has its markers, every delivery of the burst (and
      // any duplicate of one) has arrived before them. No quiet period needed to prove "none extra".
      const markers = Array.from({ length: 9 }, (_, k) => ({ ...reviews[0]!, id: `marker${k + 1}`, productId: `p${k + 1}` }));
      for (const marker of markers) realtime.publish('addReview', marker);
      const markersOf = (n: number): string[] =>
        markers.filter((m) => productOf(n) === null || m.productId === productOf(n)).map((m) => m.id);
      // Waits for every marker; on a timeout, the per-subscriber assertions below name who is missing what.
      await vi
        .waitFor(
          () => {
            for (let n = 0; n < 1000; n += 1) expect(received.get(n) ?? []).toEqual(expect.arrayContaining(markersOf(n)));
          },
          { timeout: 20_000, interval: 20 },
        )
        .catch(() => undefined);
      for (let n = 0; n < 1000; n += 1) expect(received.get(n) ?? [], `subscriber ${n}`).toEqual([...expected.get(n)!, ...markersOf(n)]);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await standalone.close();
    }
  }, 60_000);
});

/** local/lambda/fair-queue.ts: waiting invocations taken round-robin across requests. */
import { describe, expect, it } from 'vitest';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import { fieldRoutes } from '../../declarations/check.js';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import { AppSyncExecutor } from '../../local/appsync/execute.js';
import { FieldAuthorization } from '../../local/appsync/field-authorization.js';
import { DEFAULT_LANE, FairQueue, type Lane } from '../../local/lambda/fair-queue.js';
import { orderValue, productValue, userPoolCaller } from '../support/fixtures.js';

describe('FairQueue', () => {
  it('takes one item per lane in turn, oldest first within a lane', () => {
    const queue = new FairQueue<string>();
    for (let i = 1; i <= 4; i++) queue.push('flood', `flood-${i}`);
    queue.push('ordinary', 'ordinary-1');
    queue.push('other', 'other-1');
    queue.push('ordinary', 'ordinary-2');
    const order: string[] = [];
    while (queue.length > 0) order.push(queue.shift()!);
    expect(order).toEqual(['flood-1', 'ordinary-1', 'other-1', 'flood-2', 'ordinary-2', 'flood-3', 'flood-4']);
    expect(queue.shift()).toBeUndefined();
  });

  it('puts a lane that empties and comes back at the end of the turn order', () => {
    const queue = new FairQueue<string>();
    queue.push('a', 'a-1');
    queue.push('b', 'b-1');
    expect(queue.shift()).toBe('a-1');
    queue.push('a', 'a-2');
    expect([queue.shift(), queue.shift()]).toEqual(['b-1', 'a-2']);
  });

  it('drains everything', () => {
    const queue = new FairQueue<number>();
    queue.push('a', 1);
    queue.push('b', 2);
    expect(queue.drain().sort()).toEqual([1, 2]);
    expect(queue.length).toBe(0);
  });
});

describe('lanes', () => {
  it('are one per request: the executor names its request on every invocation, batched or not', async () => {
    const schema = buildAppSyncSchema();
    const lanes: Array<{ fn: string; lane: Lane | undefined }> = [];
    const order = orderValue([1, 2, 3].map((i) => ({ productId: `p${i}`, quantity: 1, unitPriceCents: 1 })));
    const executor = new AppSyncExecutor({
      schema,
      routes: fieldRoutes(),
      authorization: new FieldAuthorization(schema, 'API_KEY'),
      invoke: async (fn, payload, lane) => {
        lanes.push({ fn, lane });
        if (fn === 'orders') return { ok: true, payload: { data: order } };
        if (Array.isArray(payload)) {
          return {
            ok: true,
            payload: (payload as ResolverEvent<{ productId: string }>[]).map((e) => ({ data: productValue(e.source.productId) })),
          };
        }
        return { ok: true, payload: { data: productValue('p1') } };
      },
    });
    const user = { ...userPoolCaller({ sub: 'u1' }), headers: { authorization: 't' } };
    const query = '{ order(id: "o") { items { product { id } } } product(id: "p1") { id } }';
    const [first, second] = await Promise.all([executor.execute({ query }, user), executor.execute({ query }, user)]);
    expect(first.errors).toBeUndefined();
    expect(second.errors).toBeUndefined();

    // Each request: orders, the catalog batch of its three lines and product(id), all in the request's own lane.
    expect(lanes).toHaveLength(6);
    const byLane = new Map<Lane | undefined, typeof lanes>();
    for (const call of lanes) byLane.set(call.lane, [...(byLane.get(call.lane) ?? []), call]);
    expect(byLane.size).toBe(2);
    for (const [lane, calls] of byLane) {
      expect(lane).toEqual(expect.any(String));
      expect(lane).not.toBe(DEFAULT_LANE);
      expect(calls.map((call) => call.fn).sort()).toEqual(['catalog', 'catalog', 'orders']);
    }
  });
});

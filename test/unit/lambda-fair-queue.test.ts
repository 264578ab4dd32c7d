/** local/lambda/fair-queue.ts: waiting invocations taken round-robin across requests. */
import { describe, expect, it } from 'vitest';
import { currentLane, FairQueue, runInLane } from '../../local/lambda/fair-queue.js';

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
  it('follow the work through promises, timers and immediates, and default outside a request', async () => {
    expect(currentLane()).toBe('default');
    const seen = await runInLane('request-1', async () => {
      await Promise.resolve();
      const inImmediate = await new Promise<string>((resolve) => setImmediate(() => resolve(currentLane())));
      const inTimer = await new Promise<string>((resolve) => setTimeout(() => resolve(currentLane()), 0));
      return [currentLane(), inImmediate, inTimer];
    });
    expect(seen).toEqual(['request-1', 'request-1', 'request-1']);
  });
});

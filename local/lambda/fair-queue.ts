/**
 * Fair scheduling of invocations waiting for an execution environment.
 *
 * On AWS each invocation gets an environment of its own (up to the account's
 * concurrency), so one request that fans out into a thousand resolver calls
 * does not delay anybody else's. Locally a function has a handful of
 * environments, and a single FIFO queue would put an ordinary request behind
 * all thousand. So waiting invocations are kept per request ("lane") and
 * handed out round-robin across lanes: each request in flight gets the next
 * free environment in turn, however much work another one queued.
 *
 * The caller names the lane with each invocation (the executor: one per
 * request). It is passed explicitly rather than carried by AsyncLocalStorage:
 * an active AsyncLocalStorage turns on promise hooks for the whole thread, and
 * that doubled the cost of every promise graphql-js creates while executing.
 */

/** Which queue an invocation waits in: one per request, or the shared default lane. */
export type Lane = string;

/** Invocations from outside any request (stream batches, authorizers, subscribe-time calls without one). */
export const DEFAULT_LANE: Lane = 'default';

export class FairQueue<T> {
  /** Lanes in turn order; a lane leaves when it empties and rejoins at the back. */
  readonly #lanes = new Map<Lane, T[]>();
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(lane: Lane, item: T): void {
    const waiting = this.#lanes.get(lane);
    if (waiting) waiting.push(item);
    else this.#lanes.set(lane, [item]);
    this.#length += 1;
  }

  /** The oldest item of the lane whose turn it is; that lane then goes to the back. */
  shift(): T | undefined {
    const next = this.#lanes.entries().next();
    if (next.done) return undefined;
    const [lane, waiting] = next.value;
    const item = waiting.shift()!;
    this.#lanes.delete(lane);
    if (waiting.length > 0) this.#lanes.set(lane, waiting);
    this.#length -= 1;
    return item;
  }

  /** Everything still waiting, emptying the queue. */
  drain(): T[] {
    const all = [...this.#lanes.values()].flat();
    this.#lanes.clear();
    this.#length = 0;
    return all;
  }
}

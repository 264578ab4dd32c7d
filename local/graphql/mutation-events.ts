import type { DocumentNode, OperationDefinitionNode } from 'graphql';

/**
 * "A mutation ran": what the executor (local/appsync/execute.ts) tells
 * whoever listens after each mutation request, and what the real-time
 * endpoint (local/realtime/) publishes from. The executor knows nothing of
 * subscriptions; undoing aliases and fan-out are the listener's.
 */
export interface MutationExecuted {
  readonly document: DocumentNode;
  /** The operation that ran (a `mutation`). */
  readonly operation: OperationDefinitionNode;
  /** The variables it ran with, coerced (defaults applied). */
  readonly variables: Readonly<Record<string, unknown>>;
  /** The response's `data`, keyed by response names (aliases) as the client receives it. */
  readonly data: Readonly<Record<string, unknown>>;
}

export type MutationListener = (event: MutationExecuted) => void;

/** What emits MutationExecuted events (the executor); `attachRealtime({ mutations })` takes one. */
export interface MutationSource {
  /** Calls `listener` after every mutation request that produced data; returns the unsubscribe function. */
  onMutationExecuted(listener: MutationListener): () => void;
}

/**
 * A tiny typed emitter. Listeners run synchronously, in subscription order,
 * inside the request: one that has real work to do defers it (the real-time
 * endpoint publishes on `setImmediate`), and none may throw.
 */
export class MutationEvents implements MutationSource {
  readonly #listeners = new Set<MutationListener>();

  onMutationExecuted(listener: MutationListener): () => void {
    // A wrapper per subscription: the same function subscribed twice is called twice and unsubscribed once each.
    const entry: MutationListener = (event) => listener(event);
    this.#listeners.add(entry);
    return () => void this.#listeners.delete(entry);
  }

  /** Whether anyone listens (so an emitter can skip building events nobody receives). */
  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  emit(event: MutationExecuted): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
}

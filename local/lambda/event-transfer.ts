/**
 * How an invocation's event crosses to its execution environment (worker.mjs
 * decodes it): as JSON, serialized once here, because Lambda moves events as
 * JSON (a Date arrives as its ISO string, `undefined` members vanish, a BigInt
 * fails in the caller).
 *
 * A BatchInvoke array is mostly repetition: AppSync's events for the 100 items
 * of `Order.items.product` carry the same identity, request headers and info,
 * and differ only in `source` and `arguments`. Serializing and copying those
 * shared members 100 times was most of the server's cost of handing a batch to
 * a worker, so members that are the same value in every event are sent once,
 * and the worker rebuilds each event, with its own copies, member by member in
 * the original order: what the handler receives is exactly what
 * `JSON.parse(JSON.stringify(events))` would give.
 */

/** The event of one invocation as posted to the worker: exactly one of `json` and `batch`. */
export type EventTransfer = { readonly json: string } | { readonly batch: BatchTransfer };

export interface BatchTransfer {
  /** Every event's own keys, in order: each event has exactly these. */
  readonly keys: readonly string[];
  /** JSON of an object holding the members every event shares (same value, by identity). */
  readonly shared: string;
  /** JSON of an array holding, per event, an object of its other members. */
  readonly items: string;
}

/** Encodes `event` for the worker; throws what JSON.stringify throws (e.g. TypeError on a BigInt). */
export function encodeEvent(event: unknown): EventTransfer {
  const keys = sharedShape(event);
  if (keys) {
    const events = event as readonly Record<string, unknown>[];
    const first = events[0]!;
    const sharedKeys = keys.filter((key) => events.every((item) => item[key] === first[key]));
    if (sharedKeys.length > 0) {
      const shared: Record<string, unknown> = {};
      for (const key of sharedKeys) shared[key] = first[key];
      const ownKeys = keys.filter((key) => !sharedKeys.includes(key));
      const items = events.map((item) => {
        const own: Record<string, unknown> = {};
        for (const key of ownKeys) own[key] = item[key];
        return own;
      });
      return { batch: { keys, shared: JSON.stringify(shared), items: JSON.stringify(items) } };
    }
  }
  return { json: JSON.stringify(event) ?? 'null' };
}

/**
 * The keys every event of a batch has, in the same order, when `event` is an
 * array of at least two plain objects that JSON serializes member by member;
 * otherwise undefined, and the event goes as one JSON text. Excluded, so that
 * member-wise encoding stays exactly JSON's: custom `toJSON`, class instances,
 * sparse arrays and a `__proto__` key (which plain assignment would not copy).
 */
function sharedShape(event: unknown): string[] | undefined {
  if (!Array.isArray(event) || event.length < 2 || Object.getPrototypeOf(event) !== Array.prototype || 'toJSON' in event) {
    return undefined;
  }
  let keys: string[] | undefined;
  for (const item of event as unknown[]) {
    if (typeof item !== 'object' || item === null || Object.getPrototypeOf(item) !== Object.prototype || 'toJSON' in item) {
      return undefined;
    }
    const own = Object.keys(item);
    if (!keys) {
      if (own.includes('__proto__')) return undefined;
      keys = own;
    } else if (own.length !== keys.length || own.some((key, index) => key !== keys![index])) {
      return undefined;
    }
  }
  return keys;
}

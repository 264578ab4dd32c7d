/**
 * Registry of active subscriptions, indexed so that publishing an event never
 * scans every subscriber.
 *
 * AppSync's argument rule: a subscriber receives an event only when every
 * argument it gave (non-null) equals the same-named field of the mutation
 * result. So each subscription lives in exactly one bucket, keyed by its field
 * and the canonical values of the arguments it gave
 * (`onOrderStatusChanged|customerId=alice`; no arguments: `onOrderStatusChanged|`).
 * For an event, the candidate buckets are fully determined by the result's
 * values for each distinct *set of argument names* in use on that field, so a
 * lookup costs O(#argument-name combinations) map probes plus the matches.
 */

export interface HubEntry {
  /** Unique across the hub (the server uses `<connection>:<client id>`). */
  readonly id: string;
  /** Subscription field name, e.g. `onOrderStatusChanged`. */
  readonly field: string;
  /** Arguments as given by the subscriber; null and undefined values do not filter. */
  readonly args: Readonly<Record<string, unknown>>;
}

interface Combination {
  readonly names: readonly string[];
  count: number;
}

interface Placement {
  readonly bucket: string;
  readonly combination: string;
}

export interface HubStats {
  readonly subscriptions: number;
  readonly buckets: number;
  /** Distinct argument-name combinations in use, summed over fields. */
  readonly combinations: number;
  /** Buckets probed by all publishes so far: grows with combinations, never with subscribers. */
  readonly probes: number;
}

export class SubscriptionHub<S extends HubEntry = HubEntry> {
  readonly #entries = new Map<string, S>();
  #probes = 0;
  readonly #placements = new Map<string, Placement>();
  readonly #buckets = new Map<string, Map<string, S>>();
  /** field → combination key (sorted names joined) → names and how many subscriptions use it. */
  readonly #combinations = new Map<string, Map<string, Combination>>();

  get size(): number {
    return this.#entries.size;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  add(entry: S): void {
    if (this.#entries.has(entry.id)) throw new Error(`Subscription ${entry.id} is already registered`);
    const names = Object.keys(entry.args)
      .filter((name) => canonicalValue(entry.args[name]) !== undefined)
      .sort();
    const values = names.map((name) => canonicalValue(entry.args[name]) as string);
    const bucket = bucketKey(entry.field, names, values);
    const combination = names.join(',');

    let byCombination = this.#combinations.get(entry.field);
    if (!byCombination) this.#combinations.set(entry.field, (byCombination = new Map()));
    const existing = byCombination.get(combination);
    if (existing) existing.count += 1;
    else byCombination.set(combination, { names, count: 1 });

    let members = this.#buckets.get(bucket);
    if (!members) this.#buckets.set(bucket, (members = new Map()));
    members.set(entry.id, entry);
    this.#entries.set(entry.id, entry);
    this.#placements.set(entry.id, { bucket, combination });
  }

  remove(id: string): S | undefined {
    const entry = this.#entries.get(id);
    const placement = this.#placements.get(id);
    if (!entry || !placement) return undefined;
    this.#entries.delete(id);
    this.#placements.delete(id);
    const members = this.#buckets.get(placement.bucket);
    members?.delete(id);
    if (members?.size === 0) this.#buckets.delete(placement.bucket);
    const byCombination = this.#combinations.get(entry.field);
    const combination = byCombination?.get(placement.combination);
    if (byCombination && combination && --combination.count === 0) {
      byCombination.delete(placement.combination);
      if (byCombination.size === 0) this.#combinations.delete(entry.field);
    }
    return entry;
  }

  /** Subscriptions of `field` whose every given argument equals the same-named field of `result`. */
  publish(field: string, result: Readonly<Record<string, unknown>>): S[] {
    const byCombination = this.#combinations.get(field);
    if (!byCombination) return [];
    const matched: S[] = [];
    for (const { names } of byCombination.values()) {
      const values: string[] = [];
      for (const name of names) {
        const value = canonicalValue(result[name]);
        // A null or absent result field can never equal a non-null argument.
        if (value === undefined) break;
        values.push(value);
      }
      if (values.length !== names.length) continue;
      this.#probes += 1;
      const members = this.#buckets.get(bucketKey(field, names, values));
      if (members) for (const entry of members.values()) matched.push(entry);
    }
    return matched;
  }

  stats(): HubStats {
    let combinations = 0;
    for (const byCombination of this.#combinations.values()) combinations += byCombination.size;
    return { subscriptions: this.#entries.size, buckets: this.#buckets.size, combinations, probes: this.#probes };
  }
}

function bucketKey(field: string, names: readonly string[], values: readonly string[]): string {
  return `${field}|${names.map((name, i) => `${name}=${encodeURIComponent(values[i] ?? '')}`).join('&')}`;
}

/**
 * One string per value such that an argument and a result field compare
 * equal exactly when their canonical strings do. Numbers and strings share a
 * namespace because an `ID` argument arrives coerced to a string while the
 * result may carry the same ID as a number.
 */
export function canonicalValue(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'string':
      return `s${value}`;
    case 'number':
    case 'bigint':
      return `s${String(value)}`;
    case 'boolean':
      return `b${String(value)}`;
    default:
      return `j${stableJson(value)}`;
  }
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${stableJson(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

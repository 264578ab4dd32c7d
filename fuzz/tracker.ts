import { performance } from 'node:perf_hooks';

/**
 * Which requests were in flight when: so a slow ordinary probe can be laid at
 * the door of the hostile request(s) running at the same time.
 */
export interface TrackedRequest {
  readonly index: number;
  readonly kind: string;
  readonly description: string;
  readonly startedAt: number;
  endedAt: number | undefined;
}

export interface Overlap {
  readonly index: number;
  readonly kind: string;
  readonly description: string;
  /** How long it had been running by the end of the window (or in total, if it ended). */
  readonly durationMs: number;
}

export class Tracker {
  readonly #requests: TrackedRequest[] = [];

  start(index: number, kind: string, description: string, at = performance.now()): TrackedRequest {
    const entry: TrackedRequest = { index, kind, description, startedAt: at, endedAt: undefined };
    this.#requests.push(entry);
    return entry;
  }

  end(entry: TrackedRequest, at = performance.now()): void {
    entry.endedAt = at;
  }

  /** Requests running at some point in [from, to] (performance.now() times), the longest-running first. */
  overlapping(from: number, to: number): Overlap[] {
    const result: Overlap[] = [];
    // Newest last; anything that started after `to` cannot overlap, and old finished ones are skipped cheaply.
    for (let i = this.#requests.length - 1; i >= 0; i--) {
      const r = this.#requests[i]!;
      if (r.startedAt > to) continue;
      if (r.endedAt !== undefined && r.endedAt < from) {
        // Requests are started in order; once several minutes back, nothing older can still overlap.
        if (r.startedAt < from - 600_000) break;
        continue;
      }
      result.push({ index: r.index, kind: r.kind, description: r.description, durationMs: (r.endedAt ?? to) - r.startedAt });
    }
    return result.sort((a, b) => b.durationMs - a.durationMs);
  }
}

/** A request's shape without its numbers: "aliasFlood: N aliases of product(…)". */
export function variantOf(kind: string, description: string): string {
  return `${kind}: ${description.replace(/\d[\d,.]*/g, 'N').slice(0, 90)}`;
}

export interface Suspect extends Overlap {
  readonly variant: string;
  /**
   * How much likelier a probe was to be slow with this variant in flight than
   * without regard to it: (slow probes with it / probes with it) / (slow probes / probes).
   * A request that merely hangs for a long time is in flight during most
   * probes, slow or not, and scores about 1; the cause of a stall scores high.
   */
  readonly lift: number;
  readonly probesWith: number;
  readonly slowProbesWith: number;
  /**
   * slowProbesWith × ln(lift): high for a variant present in many slow probes
   * and rare otherwise. Lift alone favours one-offs (a request seen once, during
   * a slow probe, has a huge lift by chance); presence alone favours requests
   * that hang through the whole run.
   */
  readonly score: number;
}

/**
 * For each slow probe (a window [from, to] on the performance.now() clock),
 * the requests in flight ranked by score, highest first.
 */
export function attributeSlowProbes(
  tracker: Tracker,
  probes: ReadonlyArray<{ readonly from: number; readonly to: number; readonly slow: boolean }>,
): Suspect[][] {
  const overlaps = probes.map((probe) => tracker.overlapping(probe.from, probe.to));
  const withCount = new Map<string, number>();
  const slowWith = new Map<string, number>();
  const slowTotal = probes.filter((probe) => probe.slow).length;
  probes.forEach((probe, i) => {
    for (const variant of new Set(overlaps[i]!.map((o) => variantOf(o.kind, o.description)))) {
      withCount.set(variant, (withCount.get(variant) ?? 0) + 1);
      if (probe.slow) slowWith.set(variant, (slowWith.get(variant) ?? 0) + 1);
    }
  });
  const baseRate = probes.length === 0 ? 0 : slowTotal / probes.length;
  return probes
    .map((probe, i) => ({ probe, overlaps: overlaps[i]! }))
    .filter(({ probe }) => probe.slow)
    .map(({ overlaps: inFlight }) =>
      inFlight
        .map((o): Suspect => {
          const variant = variantOf(o.kind, o.description);
          const probesWith = withCount.get(variant) ?? 0;
          const slowProbesWith = slowWith.get(variant) ?? 0;
          const lift = probesWith === 0 || baseRate === 0 ? 0 : slowProbesWith / probesWith / baseRate;
          return { ...o, variant, lift, probesWith, slowProbesWith, score: slowProbesWith * Math.log(Math.max(lift, 1)) };
        })
        .sort((a, b) => b.score - a.score || b.lift - a.lift || b.durationMs - a.durationMs),
    );
}

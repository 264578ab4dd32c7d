/**
 * The goals of issue 11, each reported as A, B and the ratio A ÷ B, with the
 * target the ratio must meet: A against the floor handler, against the yoga
 * peer, or against the bound itself (then the target ratio is 1). Pure
 * functions: bench/run.ts gathers the figures, this decides and renders.
 */

/** One side of a comparison: what was measured, in what unit; null when it was not measured this run. */
export interface GoalSide {
  readonly label: string;
  readonly value: number | null;
  readonly unit: string;
}

export interface GoalTarget {
  readonly comparison: '<=' | '>=';
  readonly ratio: number;
}

export interface Goal {
  readonly goal: string;
  readonly a: GoalSide;
  readonly b: GoalSide;
  /** a ÷ b; null when either side was not measured. */
  readonly ratio: number | null;
  readonly target: GoalTarget & { readonly text: string };
  /** null when not measured (e.g. `--skip-suite`): neither met nor missed. */
  readonly met: boolean | null;
}

/** Middle value (mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** a ÷ b, or null when either is missing or the division means nothing (b = 0, non-finite). */
export function ratioOf(a: number | null, b: number | null): number | null {
  if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/**
 * Ratios are compared as rounded for the report (3 decimals), so a goal
 * never reads "1.150, missed" because of a digit nobody sees.
 */
export function meets(ratio: number | null, target: GoalTarget): boolean | null {
  if (ratio === null) return null;
  const shown = Math.round(ratio * 1000) / 1000;
  return target.comparison === '<=' ? shown <= target.ratio : shown >= target.ratio;
}

export function goal(name: string, a: GoalSide, b: GoalSide, target: GoalTarget): Goal {
  if (!(target.ratio > 0)) throw new RangeError(`goal ${name}: target ratio must be positive, got ${target.ratio}`);
  const ratio = ratioOf(a.value, b.value);
  return {
    goal: name,
    a,
    b,
    ratio,
    target: { ...target, text: `A ÷ B ${target.comparison === '<=' ? '≤' : '≥'} ${target.ratio}` },
    met: meets(ratio, target),
  };
}

/** A measured value against a fixed bound in the same unit: B is the bound, the ratio must stay ≤ 1. */
export function withinBound(name: string, a: GoalSide, bound: number): Goal {
  return goal(name, a, { label: 'bound', value: bound, unit: a.unit }, { comparison: '<=', ratio: 1 });
}

/** "met", "MISSED" or "not measured", for the table. */
export function verdict(met: boolean | null): string {
  return met === null ? 'not measured' : met ? 'met' : 'MISSED';
}

const shown = (side: GoalSide): string => {
  if (side.value === null) return '-';
  if (side.unit === 'zips' || side.unit === 'count') return `${side.value} ${side.unit}`;
  const digits = Math.abs(side.value) >= 100 ? 0 : Math.abs(side.value) >= 10 ? 1 : 2;
  return `${side.value.toFixed(digits)} ${side.unit}`;
};

export function goalRows(goals: readonly Goal[]): string[][] {
  return goals.map((g) => [
    g.goal,
    `${g.a.label}: ${shown(g.a)}`,
    `${g.b.label}: ${shown(g.b)}`,
    g.ratio === null ? '-' : g.ratio.toFixed(3),
    g.target.text,
    verdict(g.met),
  ]);
}

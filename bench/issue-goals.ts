import type { BundleSize, ZipReport } from './artifacts.js';
import type { DevLoopReport, SuiteReport } from './dev-loop.js';
import type { ColdInitReport } from './floor/cold-init.js';
import { goal, withinBound, type Goal } from './goals.js';
import type { ComparisonCell } from './peer/compare.js';

/**
 * Every goal of issue 11 (performance), from one bench run's figures. Sizes
 * are in KB and MB of 1,000 bytes (the stricter reading of the issue's
 * bounds). A goal whose figure is missing is reported as not measured,
 * never dropped.
 */

export interface IssueFigures {
  readonly coldInit: ColdInitReport;
  /** The functions' bundles (the floor's is not judged). */
  readonly bundles: readonly BundleSize[];
  readonly zips: readonly ZipReport[];
  /** catalog's zip with its source maps packed in too (they ship beside it, not in it). */
  readonly catalogZipWithMapsBytes: number | null;
  readonly cells: readonly ComparisonCell[];
  readonly devLoop: DevLoopReport;
  readonly suite: SuiteReport | null;
}

const KB = 1000;
const MB = 1000 * 1000;

export const LIMITS = {
  catalogInitOverFloor: 1.15,
  bundleKb: 800,
  catalogBundleKb: 700,
  catalogZipMb: 1,
  orderRatio: 1.0,
  productRatioAt32: 1.2,
  devSeconds: 3,
  suiteSeconds: 90,
} as const;

function throughputGoal(cells: readonly ComparisonCell[], scenario: string, connections: number, target: number): Goal {
  const cell = cells.find((c) => c.scenario === scenario && c.connections === connections);
  return goal(
    `${scenario} at ${connections} connection${connections === 1 ? '' : 's'}: runtime ÷ yoga ≥ ${target}`,
    { label: 'runtime', value: cell?.runtimeRps ?? null, unit: 'req/s' },
    { label: 'yoga', value: cell?.yogaRps ?? null, unit: 'req/s' },
    { comparison: '>=', ratio: target },
  );
}

export function issueGoals(figures: IssueFigures): Goal[] {
  const goals: Goal[] = [];
  const catalogInit = figures.coldInit.results.find((r) => r.name === 'catalog');
  goals.push(
    goal(
      `catalog cold init ≤ ${LIMITS.catalogInitOverFloor}× the floor`,
      { label: 'catalog init', value: catalogInit?.initMedianMs ?? null, unit: 'ms' },
      { label: 'floor init', value: catalogInit?.floorMedianMs ?? null, unit: 'ms' },
      { comparison: '<=', ratio: LIMITS.catalogInitOverFloor },
    ),
  );
  for (const bundle of figures.bundles) {
    goals.push(
      withinBound(
        `${bundle.name} bundle ≤ ${LIMITS.bundleKb} KB`,
        { label: bundle.name, value: bundle.initBytes / KB, unit: 'KB' },
        LIMITS.bundleKb,
      ),
    );
  }
  const catalogBundle = figures.bundles.find((b) => b.name === 'catalog');
  goals.push(
    withinBound(
      `catalog bundle ≤ ${LIMITS.catalogBundleKb} KB`,
      { label: 'catalog', value: catalogBundle ? catalogBundle.initBytes / KB : null, unit: 'KB' },
      LIMITS.catalogBundleKb,
    ),
  );
  const zips = figures.zips;
  goals.push(
    goal(
      'every zip deflated',
      { label: 'deflated zips', value: zips.length > 0 ? zips.filter((z) => z.deflated).length : null, unit: 'zips' },
      { label: 'zips', value: zips.length > 0 ? zips.length : null, unit: 'zips' },
      { comparison: '>=', ratio: 1 },
    ),
    goal(
      'every zip deterministic (two builds, identical bytes)',
      { label: 'identical zips', value: zips.length > 0 ? zips.filter((z) => z.deterministic).length : null, unit: 'zips' },
      { label: 'zips', value: zips.length > 0 ? zips.length : null, unit: 'zips' },
      { comparison: '>=', ratio: 1 },
    ),
  );
  goals.push(
    withinBound(
      `catalog zip ≤ ${LIMITS.catalogZipMb} MB even with its source map`,
      {
        label: 'catalog zip + maps',
        value: figures.catalogZipWithMapsBytes === null ? null : figures.catalogZipWithMapsBytes / MB,
        unit: 'MB',
      },
      LIMITS.catalogZipMb,
    ),
  );
  goals.push(
    throughputGoal(figures.cells, 'order+products', 1, LIMITS.orderRatio),
    throughputGoal(figures.cells, 'order+products', 32, LIMITS.orderRatio),
    throughputGoal(figures.cells, 'product(id)', 32, LIMITS.productRatioAt32),
  );
  goals.push(
    withinBound(
      `npm run dev to the first answered query ≤ ${LIMITS.devSeconds} s (caches warm)`,
      { label: 'dev start', value: figures.devLoop.warmStart.seconds, unit: 's' },
      LIMITS.devSeconds,
    ),
  );
  const suite = figures.suite;
  const suiteGoal = withinBound(
    `npm test ≤ ${LIMITS.suiteSeconds} s (and green)`,
    { label: suite && !suite.passed ? 'npm test (FAILED)' : 'npm test', value: suite?.seconds ?? null, unit: 's' },
    LIMITS.suiteSeconds,
  );
  // A red suite is no time to meet a goal with.
  goals.push(suite && !suite.passed ? { ...suiteGoal, met: false } : suiteGoal);
  return goals;
}

/** The benchmark's goal arithmetic: medians, ratios, verdicts, and the issue's goal list, no stack needed. */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { goal, goalRows, median, meets, ratioOf, verdict, withinBound } from '../../bench/goals.js';
import { medianStart } from '../../bench/dev-loop.js';
import { issueGoals, type IssueFigures } from '../../bench/issue-goals.js';
import type { ComparisonCell } from '../../bench/peer/compare.js';

test('median takes the middle value, or the mean of the two middle ones', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
  const values = [5, 1, 4];
  median(values);
  assert.deepEqual(values, [5, 1, 4], 'the input is not sorted in place');
});

test('medianStart picks the middle start of an odd number, whatever their order', () => {
  const starts = [3.4, 2.9, 3.1].map((seconds, attempts) => ({ seconds, attempts }));
  assert.deepEqual(medianStart(starts), { seconds: 3.1, attempts: 2 });
  assert.deepEqual(medianStart([starts[0]!]), starts[0]);
  assert.throws(() => medianStart(starts.slice(1)), /odd number/);
});

test('ratioOf is null when a side is missing or the division means nothing', () => {
  assert.equal(ratioOf(3, 2), 1.5);
  assert.equal(ratioOf(null, 2), null);
  assert.equal(ratioOf(3, null), null);
  assert.equal(ratioOf(3, 0), null);
  assert.equal(ratioOf(Number.NaN, 2), null);
});

test('meets compares the ratio as shown (3 decimals) against the target', () => {
  assert.equal(meets(1.15, { comparison: '<=', ratio: 1.15 }), true);
  assert.equal(meets(1.1504, { comparison: '<=', ratio: 1.15 }), true, '1.150 as shown');
  assert.equal(meets(1.1506, { comparison: '<=', ratio: 1.15 }), false, '1.151 as shown');
  assert.equal(meets(0.9996, { comparison: '>=', ratio: 1 }), true);
  assert.equal(meets(0.99, { comparison: '>=', ratio: 1 }), false);
  assert.equal(meets(null, { comparison: '>=', ratio: 1 }), null);
});

test('a goal carries A, B, the ratio and its verdict; a bound is B with target ratio 1', () => {
  const g = goal(
    'init',
    { label: 'catalog', value: 80, unit: 'ms' },
    { label: 'floor', value: 70, unit: 'ms' },
    { comparison: '<=', ratio: 1.15 },
  );
  assert.equal(g.ratio, 80 / 70);
  assert.equal(g.met, true);
  assert.equal(g.target.text, 'A ÷ B ≤ 1.15');
  const bound = withinBound('size', { label: 'catalog', value: 720, unit: 'KB' }, 700);
  assert.deepEqual(bound.b, { label: 'bound', value: 700, unit: 'KB' });
  assert.equal(bound.met, false);
  const missing = withinBound('suite', { label: 'npm test', value: null, unit: 's' }, 90);
  assert.equal(missing.ratio, null);
  assert.equal(missing.met, null);
  assert.equal(verdict(missing.met), 'not measured');
  assert.throws(() => goal('bad', g.a, g.b, { comparison: '<=', ratio: 0 }), /positive/);
  assert.deepEqual(goalRows([g])[0], ['init', 'catalog: 80.0 ms', 'floor: 70.0 ms', '1.143', 'A ÷ B ≤ 1.15', 'met']);
});

function cell(scenario: string, connections: number, runtimeRps: number, yogaRps: number): ComparisonCell {
  return {
    scenario,
    description: '',
    connections,
    runtimeRps,
    yogaRps,
    ratio: runtimeRps / yogaRps,
    runtimeCpuMicrosPerRequest: null,
    yogaCpuMicrosPerRequest: null,
    runtimeHandOffMsPerRequest: null,
    runs: [],
  };
}

function figures(overrides: Partial<IssueFigures> = {}): IssueFigures {
  const bundle = (name: string, initBytes: number) => ({
    name,
    entryBytes: initBytes,
    initBytes,
    initGzipBytes: initBytes / 3,
    initFiles: ['index.mjs'],
  });
  const zip = (name: string) => ({ name, zipBytes: 300_000, entries: [], deflated: true, deterministic: true, sha256: 'x' });
  return {
    coldInit: {
      rounds: 9,
      nodeVersion: 'v22.23.5',
      floorFile: '/floor/index.mjs',
      results: [{ name: 'catalog', initMs: [], initMedianMs: 78, floorMedianMs: 70, floorMs: [], ratio: 78 / 70 }],
    },
    bundles: [bundle('catalog', 650_000), bundle('orders', 790_000)],
    zips: [zip('catalog'), zip('orders')],
    catalogZipWithMapsBytes: 900_000,
    cells: [
      cell('product(id)', 1, 1400, 1000),
      cell('product(id)', 32, 2900, 2400),
      cell('order+products', 1, 230, 227),
      cell('order+products', 32, 260, 252),
    ],
    devLoop: {
      firstStart: { seconds: 4.1, attempts: 100 },
      warmStart: { seconds: 2.6, attempts: 80 },
      warmStarts: [{ seconds: 2.6, attempts: 80 }],
    },
    suite: { seconds: 85, passed: true, exitCode: 0, tail: '' },
    ...overrides,
  };
}

test('issueGoals reports every goal of the issue, met when every figure is within it', () => {
  const goals = issueGoals(figures());
  assert.deepEqual(
    goals.map((g) => g.goal),
    [
      'catalog cold init ≤ 1.15× the floor',
      'catalog bundle ≤ 800 KB',
      'orders bundle ≤ 800 KB',
      'catalog bundle ≤ 700 KB',
      'every zip deflated',
      'every zip deterministic (two builds, identical bytes)',
      'catalog zip ≤ 1 MB even with its source map',
      'order+products at 1 connection: runtime ÷ yoga ≥ 1',
      'order+products at 32 connections: runtime ÷ yoga ≥ 1',
      'product(id) at 32 connections: runtime ÷ yoga ≥ 1.2',
      'npm run dev to the first answered query ≤ 3 s (caches warm)',
      'npm test ≤ 90 s (and green)',
    ],
  );
  assert.deepEqual(
    goals.filter((g) => g.met !== true).map((g) => g.goal),
    [],
  );
  assert.equal(goals.find((g) => g.goal.startsWith('catalog bundle ≤ 700'))?.a.value, 650);
});

test('issueGoals misses what is out of bounds and leaves the unmeasured unjudged', () => {
  const goals = issueGoals(
    figures({
      cells: [cell('order+products', 1, 137, 227), cell('product(id)', 32, 2153, 2388)],
      zips: [{ name: 'catalog', zipBytes: 6_300_000, entries: [], deflated: false, deterministic: true, sha256: 'x' }],
      catalogZipWithMapsBytes: null,
      suite: null,
    }),
  );
  const byName = new Map(goals.map((g) => [g.goal, g]));
  assert.equal(byName.get('order+products at 1 connection: runtime ÷ yoga ≥ 1')?.met, false);
  assert.equal(byName.get('product(id) at 32 connections: runtime ÷ yoga ≥ 1.2')?.met, false);
  assert.equal(byName.get('order+products at 32 connections: runtime ÷ yoga ≥ 1')?.met, null, 'a cell that did not run');
  assert.equal(byName.get('every zip deflated')?.met, false);
  assert.equal(byName.get('catalog zip ≤ 1 MB even with its source map')?.met, null);
  assert.equal(byName.get('npm test ≤ 90 s (and green)')?.met, null, 'skipped suite');
});

test('a red suite misses its goal however fast it was', () => {
  const goals = issueGoals(figures({ suite: { seconds: 40, passed: false, exitCode: 1, tail: 'FAIL' } }));
  const suite = goals.find((g) => g.goal.startsWith('npm test'));
  assert.equal(suite?.met, false);
  assert.equal(suite?.a.label, 'npm test (FAILED)');
});

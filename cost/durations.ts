import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../declarations/paths.js';

/**
 * How long each function runs per invocation: measured by `npm run bench`
 * (warm p50 and p95 of bench/results.json), given on the command line, or
 * else assumed, and then flagged as such in the report.
 */

export type DurationSource = 'bench' | 'flag' | 'assumed';

export interface FunctionDuration {
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly source: DurationSource;
}

/** What the model uses for a function nobody measured: deliberately pessimistic for this code (bench p50s are 0.03 to 5 ms). */
export const ASSUMED_DURATION_MS = 50;

export const benchResultsFile = join(repositoryRoot, 'bench', 'results.json');

export interface BenchDurations {
  /** When the benchmark ran. */
  readonly timestamp: string;
  readonly machine: string;
  readonly functions: ReadonlyMap<string, { readonly p50Ms: number; readonly p95Ms: number; readonly probeField: string }>;
}

/** The warm durations of bench/results.json, or undefined when the benchmark has not been run here. */
export function readBenchDurations(file = benchResultsFile): BenchDurations | undefined {
  if (!existsSync(file)) return undefined;
  return parseBenchDurations(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
}

export function parseBenchDurations(value: unknown, where = 'bench results'): BenchDurations {
  const fail = (problem: string): never => {
    throw new Error(`${where}: ${problem} (rerun npm run bench, or pass --duration-ms)`);
  };
  const root = value as { timestamp?: unknown; machine?: { cpuModel?: unknown; arch?: unknown }; functions?: unknown };
  if (typeof root !== 'object' || root === null || !Array.isArray(root.functions)) return fail('no functions array');
  const functions = new Map<string, { p50Ms: number; p95Ms: number; probeField: string }>();
  for (const entry of root.functions as unknown[]) {
    const fn = entry as { name?: unknown; field?: unknown; warm?: { durationMedianMs?: unknown; durationP95Ms?: unknown } };
    const p50 = fn.warm?.durationMedianMs;
    const p95 = fn.warm?.durationP95Ms;
    if (typeof fn.name !== 'string' || typeof p50 !== 'number' || typeof p95 !== 'number')
      return fail('a function entry lacks name or warm durations');
    functions.set(fn.name, { p50Ms: p50, p95Ms: p95, probeField: typeof fn.field === 'string' ? fn.field : '' });
  }
  const machine = `${String(root.machine?.cpuModel ?? 'unknown CPU')}, ${String(root.machine?.arch ?? 'unknown arch')}`;
  return { timestamp: typeof root.timestamp === 'string' ? root.timestamp : 'unknown', machine, functions };
}

/** Per function: a command-line value wins, then the benchmark, then the assumption. */
export function functionDurations(
  names: readonly string[],
  bench: BenchDurations | undefined,
  overrides: Readonly<Record<string, number>>,
  defaultOverride: number | undefined,
): Map<string, FunctionDuration> {
  const durations = new Map<string, FunctionDuration>();
  for (const name of names) {
    const flag = overrides[name] ?? defaultOverride;
    const measured = bench?.functions.get(name);
    durations.set(
      name,
      flag !== undefined
        ? { p50Ms: flag, p95Ms: flag, source: 'flag' }
        : measured
          ? { p50Ms: measured.p50Ms, p95Ms: measured.p95Ms, source: 'bench' }
          : { p50Ms: ASSUMED_DURATION_MS, p95Ms: ASSUMED_DURATION_MS, source: 'assumed' },
    );
  }
  return durations;
}

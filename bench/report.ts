import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname } from 'node:path';
import type { BundleSize, ZipReport } from './artifacts.js';
import type { FunctionMeasurement } from './cold-start.js';
import type { DevLoopReport, SuiteReport } from './dev-loop.js';
import type { ColdInitReport } from './floor/cold-init.js';
import { goalRows, type Goal } from './goals.js';
import type { ComparisonReport } from './peer/compare.js';
import type { FanOutMeasurement } from './subscriptions.js';
import type { ZipfReport } from './zipf.js';
import type { RealtimeMeasurement } from './realtime.js';
import { renderSoak, type SoakResult } from './soak.js';

/** The results document (bench/results.json) and its console rendering. */

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly totalMemoryBytes: number;
  readonly nodeVersion: string;
  readonly platform: string;
  readonly arch: string;
  readonly osRelease: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    totalMemoryBytes: os.totalmem(),
    nodeVersion: process.version,
    platform: os.platform(),
    arch: os.arch(),
    osRelease: os.release(),
  };
}

export interface BenchReport {
  readonly timestamp: string;
  readonly machine: MachineInfo;
  readonly config: Record<string, unknown>;
  readonly data: Record<string, unknown>;
  /** Every goal of issue 11 as A, B and A ÷ B, with its target (bench/issue-goals.ts). */
  readonly goals: Goal[];
  /** The local runtime against graphql-yoga on the same bundles and data, autocannon from another process. */
  readonly comparison: ComparisonReport;
  /** Cold init of each bundle against the floor handler, fresh `node` processes. */
  readonly coldInit: ColdInitReport;
  /** What init reads of each bundle (the floor's too), raw and gzip. */
  readonly bundles: BundleSize[];
  /** The deployment zips, built twice. */
  readonly zips: { readonly variant: string; readonly zips: ZipReport[]; readonly catalogWithSourceMapsBytes: number };
  readonly devLoop: DevLoopReport;
  /** `npm test`, last; null with `--skip-suite`. */
  readonly suite: SuiteReport | null;
  /** Warm durations (cost/ reads these) and cold starts in the runtime's own worker environments. */
  readonly functions: FunctionMeasurement[];
  readonly subscriptions: {
    readonly fanOut: FanOutMeasurement[];
    readonly connectionSetup: RealtimeMeasurement['connectionSetup'];
    readonly memoryPerIdleConnection: RealtimeMeasurement['memoryPerIdleConnection'];
  };
  /** The read-cache workload, cache off vs Redis on. */
  readonly zipf: ZipfReport;
  /** The memory soak (bench/soak.ts); null when skipped (`--soak-requests 0`). */
  readonly soak: SoakResult | null;
  readonly totalErrors: number;
  readonly ok: boolean;
}

export async function writeReport(path: string, report: BenchReport): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** Right-aligns numeric columns, left-aligns text; plain ASCII so it pastes anywhere. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)));
  const numeric = headers.map((_, column) => cells.every((row) => NUMBER.test(row[column] ?? '')));
  const widths = headers.map((header, column) => Math.max(header.length, ...cells.map((row) => row[column]?.length ?? 0)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join(' | ')
      .trimEnd();
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('-+-'), ...cells.map(line)].join('\n');
}

const fixed =
  (digits: number) =>
  (value: number): string =>
    value.toFixed(digits);
const ms = fixed(2);
const round0 = fixed(0);
const round1 = fixed(1);
const orDash = (value: number | null, format: (value: number) => string): string => (value === null ? '-' : format(value));

/** "orders 1.00, catalog 1.00": every function the scenario invoked, per request. */
function invocationsCell(perRequest: Readonly<Record<string, number>>): string {
  return Object.entries(perRequest)
    .filter(([, value]) => value > 0)
    .map(([name, value]) => `${name} ${value.toFixed(2)}`)
    .join(', ');
}

export function renderReport(report: BenchReport): string {
  const m = report.machine;
  const header = `Machine: ${m.cpuModel}, ${m.cores} cores, ${(m.totalMemoryBytes / 1024 ** 3).toFixed(1)} GiB, Node ${m.nodeVersion} (${m.platform} ${m.arch}) — ${report.timestamp}`;
  const runsPerCell = report.comparison.config.rounds;
  const versusYoga = formatTable(
    [
      'scenario',
      'connections',
      'runtime req/s',
      'yoga req/s',
      'runtime ÷ yoga',
      'runtime p99 ms',
      'yoga p99 ms',
      'CPU µs / request: runtime',
      'yoga',
      'hand-off ms / request (runtime)',
      'invocations / request (runtime)',
    ],
    report.comparison.cells.map((cell) => {
      const p99 = (server: string) => {
        const values = cell.runs.filter((run) => run.server === server).map((run) => run.latencyMs.p99);
        return values.length > 0 ? ms(Math.max(...values)) : '-';
      };
      const last = cell.runs.filter((run) => run.server === 'runtime').at(-1);
      return [
        cell.scenario,
        cell.connections,
        round1(cell.runtimeRps),
        round1(cell.yogaRps),
        orDash(cell.ratio, fixed(3)),
        p99('runtime'),
        p99('yoga'),
        orDash(cell.runtimeCpuMicrosPerRequest, round0),
        orDash(cell.yogaCpuMicrosPerRequest, round0),
        orDash(cell.runtimeHandOffMsPerRequest, fixed(3)),
        last ? invocationsCell(last.invocationsPerRequest) : '',
      ];
    }),
  );
  const coldInit = formatTable(
    ['function', 'init ms (median)', 'floor ms (median)', 'init ÷ floor'],
    report.coldInit.results.map((r) => [r.name, ms(r.initMedianMs), ms(r.floorMedianMs), r.ratio === null ? '-' : r.ratio.toFixed(3)]),
  );
  const zipsByName = new Map(report.zips.zips.map((zip) => [zip.name, zip]));
  const sizes = formatTable(
    ['bundle', 'index.mjs bytes', 'init bytes', 'init gzip bytes', 'init files', 'zip bytes', 'zip deflated', 'zip deterministic'],
    report.bundles.map((b) => {
      const zip = zipsByName.get(b.name);
      return [
        b.name,
        b.entryBytes,
        b.initBytes,
        b.initGzipBytes,
        b.initFiles.length,
        zip ? zip.zipBytes : '-',
        zip ? (zip.deflated ? 'yes' : 'NO') : '-',
        zip ? (zip.deterministic ? 'yes' : 'NO') : '-',
      ];
    }),
  );
  const dev = report.devLoop;
  const suite = report.suite;
  const devLoop = [
    `npm run dev to the first answered query: ${dev.firstStart.seconds.toFixed(2)} s as found, ${dev.warmStart.seconds.toFixed(2)} s with caches warm (median of ${dev.warmStarts.map((start) => start.seconds.toFixed(2)).join(', ')})`,
    suite
      ? `npm test: ${suite.seconds.toFixed(1)} s, ${suite.passed ? 'passed' : `FAILED (exit ${suite.exitCode})`}`
      : 'npm test: skipped (--skip-suite)',
  ].join('\n');
  const goals = formatTable(['goal', 'A', 'B', 'A ÷ B', 'target', 'verdict'], goalRows(report.goals));
  const fns = formatTable(
    [
      'function',
      'probe field',
      'bundle bytes',
      'memory MB',
      'cold init ms (median)',
      'cold 1st call ms',
      'warm p50 ms',
      'warm p95 ms',
      'warm n',
    ],
    report.functions.map((f) => [
      f.name,
      f.field,
      f.bundleBytes,
      f.memoryMb,
      ms(f.coldStart.initMedianMs),
      ms(f.coldStart.firstDurationMedianMs),
      ms(f.warm.durationMedianMs),
      ms(f.warm.durationP95Ms),
      f.warm.invocations,
    ]),
  );
  const coldRuns = report.functions[0]?.coldStart.runs ?? 0;
  const subs = report.subscriptions;
  const fanOut = formatTable(
    ['subscribers', 'events', 'deliveries missed', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'subscribe setup p50 ms', 'setup p99 ms'],
    subs.fanOut.map((f) => [
      f.subscribers,
      f.events,
      f.missed,
      ms(f.latencyMs.p50),
      ms(f.latencyMs.p95),
      ms(f.latencyMs.p99),
      ms(f.latencyMs.max),
      ms(f.setupMs.p50),
      ms(f.setupMs.p99),
    ]),
  );
  const memory = subs.memoryPerIdleConnection;
  const connections = [
    `Real-time connections (bare server): ${subs.connectionSetup.perConnectionMs.samples} connections, ${subs.connectionSetup.concurrency} at a time, total ${ms(subs.connectionSetup.totalMs)} ms;`,
    `  per connection p50 ${ms(subs.connectionSetup.perConnectionMs.p50)} ms, p99 ${ms(subs.connectionSetup.perConnectionMs.p99)} ms`,
    memory
      ? `  memory per idle connection: ${(memory.rssBytes / 1024).toFixed(1)} KiB RSS, ${(memory.heapAndExternalBytes / 1024).toFixed(1)} KiB heap+external (${memory.connections} connections)`
      : '  memory per idle connection: not measured',
  ].join('\n');
  const zipf = report.zipf;
  const cache = formatTable(
    ['backend', 'phase', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms', 'hit ratio', 'cache errors', 'DynamoDB reads / 1,000 req'],
    zipf.results.map((r) => [
      r.backend,
      r.phase,
      r.requests,
      r.errors,
      round1(r.requestsPerSecond),
      ms(r.latencyMs.p50),
      ms(r.latencyMs.p99),
      r.hitRatio === null ? '-' : `${(r.hitRatio * 100).toFixed(1)}%`,
      r.cacheErrors,
      round1(r.dynamoDbReadCallsPer1000Requests),
    ]),
  );
  const warm = zipf.warmComparison;
  const reduction =
    warm &&
    (Number.isFinite(warm.readCallReduction)
      ? `${warm.readCallReduction.toFixed(1)}x fewer DynamoDB read calls`
      : 'no DynamoDB read calls at all');
  const comparison = warm ? `Warm, Redis vs no cache: ${reduction}; p99 ${ms(warm.p99RedisMs)} ms vs ${ms(warm.p99NoneMs)} ms` : '';
  return [
    header,
    '',
    `Local runtime vs graphql-yoga on the same bundles and data (${report.comparison.client}; median of ${runsPerCell} alternating runs of ${report.comparison.config.durationS} s; p99: worst run)`,
    versusYoga,
    '',
    `Cold init in fresh node processes (${report.coldInit.nodeVersion}), floor = one GetItem through lib-dynamodb, same esbuild options; ${report.coldInit.rounds} alternating rounds`,
    coldInit,
    '',
    `Bundles (init bytes: index.mjs and the chunks it imports statically) and deployment zips (${report.zips.variant}; built twice)`,
    sizes,
    `catalog's zip with its source maps packed in too: ${report.zips.catalogWithSourceMapsBytes} bytes`,
    '',
    devLoop,
    '',
    `Functions (cold init = median of ${coldRuns} fresh environments; warm = ${report.functions[0]?.warm.invocations ?? 0} invocations after ${report.functions[0]?.warm.discarded ?? 0} discarded)`,
    fns,
    '',
    'Subscription fan-out through the stack (mutation HTTP response read → data message received)',
    fanOut,
    '',
    connections,
    '',
    `Read cache: ${zipf.config.description} (cold: from an empty cache; warm: after one read of every product)`,
    cache,
    comparison,
    '',
    report.soak ? renderSoak(report.soak) : 'Memory soak: skipped (--soak-requests 0)',
    '',
    'Goals (issue 11): A, B and A ÷ B from this run',
    goals,
  ].join('\n');
}

/**
 * `npm run bench [-- --out path.json] [--soak-requests N] [--skip-suite] [--rounds N] [--load-seconds S]`:
 * the benchmark, one JSON report (bench/results.json by default) and a table
 * ending with every goal of issue 11 as A, B and the ratio. Exits non-zero
 * when any answer was wrong (or the soak's memory bound broke), after still
 * writing the report, so a broken run cannot pass for a slow one.
 *
 * In order, on 2 shared cores (about 13-15 minutes with the defaults):
 *   1. real-time connection costs on a bare server (~20 s);
 *   2. the local runtime against graphql-yoga (bench/peer/): each in a process
 *      of its own on the same bundles, DynamoDB Local, redis-server and data,
 *      autocannon from this process; product(id) and the 100-line order with
 *      products at 1 and 32 connections, `--rounds` (3) alternating runs of
 *      `--load-seconds` (8) each (~4-5 min). This replaces the former
 *      in-process closed-loop load numbers: the client shared the server's
 *      process and measured it at half its speed;
 *   3. on an in-process stack: per-function cold start and warm duration in
 *      the runtime's worker environments (cost/ reads the warm figures),
 *      cold init of every bundle against the floor handler in fresh `node`
 *      processes (bench/floor/), bundle sizes, subscription fan-out;
 *   4. the deployment zips built twice (size, deflate, determinism);
 *   5. the Zipf read-cache workload (no cache, then Redis; ~80 s);
 *   6. the memory soak (bench/soak.ts, at most ~3 min; `--soak-requests 0` skips it);
 *   7. `npm run dev` to its first answered query, twice, and `npm test`
 *      (~2 min; `--skip-suite` skips the suite).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleEntry, bundleFunctions } from '../build/bundle.js';
import { repositoryRoot } from '../declarations/paths.js';
import { startLocalStack } from '../local/runtime.js';
import { environments } from '../stacks/config.js';
import { buildFunctionArtifacts, cacheBackendOf, packageEntries } from '../stacks/lib/artifacts.js';
import { createZip } from '../stacks/lib/zip.js';
import { bundleSize, zipReport, type BundleSize, type ZipReport } from './artifacts.js';
import { measureFunction, type FunctionMeasurement } from './cold-start.js';
import { measureDevLoop, measureSuite, type SuiteReport } from './dev-loop.js';
import { copyBundle, measureColdInit } from './floor/cold-init.js';
import { issueGoals } from './issue-goals.js';
import { compareWithYoga } from './peer/compare.js';
import { probes } from './probes.js';
import { machineInfo, renderReport, writeReport, type BenchReport } from './report.js';
import { prepareData } from './setup.js';
import { measureSubscriptionFanOut } from './subscriptions.js';
import { measureRealtime } from './realtime.js';
import { measureZipf, zipfReport, type ZipfConfig, type ZipfReport, type ZipfResult } from './zipf.js';
import { runSoak, SOAK_DEFAULTS, type SoakResult } from './soak.js';

const CONFIG = {
  products: 200,
  orderLines: 100,
  orderDistinctProducts: 50,
  coldRuns: 3,
  warmInvocations: 200,
  warmDiscarded: 20,
  /** Fresh-process imports per bundle, each paired with one of the floor's. */
  coldInitRounds: 15,
  fanOutSubscribers: [1, 100, 1000],
  fanOutEvents: 10,
} as const;

/** The read-cache comparison (bench/zipf.ts): same sequence, cache off then Redis on. */
const ZIPF: ZipfConfig = {
  products: 10_000,
  exponent: 1.0,
  writeFraction: 0.05,
  concurrency: 16,
  coldRequests: 2_000,
  warmRequests: 4_000,
  seed: 20_261_124,
};

async function runZipf(): Promise<ZipfReport> {
  const results: ZipfResult[] = [];
  for (const backend of ['none', 'redis'] as const) {
    results.push(
      ...(await measureZipf(
        backend,
        ZIPF,
        () => startLocalStack({ cache: backend }),
        (line) => console.error(line),
      )),
    );
  }
  return zipfReport(ZIPF, results);
}

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    'soak-requests': { type: 'string' },
    'skip-suite': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    'load-seconds': { type: 'string', default: '8' },
  },
  strict: true,
});
const outPath = args.out ? resolve(process.cwd(), args.out) : fileURLToPath(new URL('./results.json', import.meta.url));
function wholeNumber(name: string, value: string | undefined, min: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    console.error(`--${name} must be a whole number ≥ ${min}, got ${value}`);
    process.exit(2);
  }
  return parsed;
}
const soakRequests = args['soak-requests'] === undefined ? SOAK_DEFAULTS.requests : wholeNumber('soak-requests', args['soak-requests'], 0);
const comparisonConfig = {
  products: CONFIG.products,
  orderLines: CONFIG.orderLines,
  distinctProducts: CONFIG.orderDistinctProducts,
  connections: [1, 32],
  rounds: wholeNumber('rounds', args.rounds, 3),
  durationS: wholeNumber('load-seconds', args['load-seconds'], 1),
  warmupS: 2,
} as const;

/** The cache backend production's functions are built with: its zips are the ones the goals judge. */
const PROD_CACHE_BACKEND = cacheBackendOf(environments.prod.cache);

/**
 * Each deployment zip of production's variant, built twice into sibling
 * directories (same depth, so the same source-map paths), and catalog's zip
 * as it would be with its source maps inside (the goal's "even with its source map").
 */
async function measureZips(): Promise<{ zips: ZipReport[]; catalogWithMapsBytes: number }> {
  const directories = [join(repositoryRoot, 'cdktf.out', 'bench-zips-a'), join(repositoryRoot, 'cdktf.out', 'bench-zips-b')];
  try {
    // One after the other, as two machines would build: determinism must not depend on sharing a moment.
    const first = await buildFunctionArtifacts({ cacheBackend: PROD_CACHE_BACKEND, buildDir: directories[0]! });
    const second = await buildFunctionArtifacts({ cacheBackend: PROD_CACHE_BACKEND, buildDir: directories[1]! });
    const zips = await Promise.all(
      first.map(async (artifact) => {
        const twin = second.find((other) => other.name === artifact.name);
        if (!twin) throw new Error(`the second build has no ${artifact.name} zip`);
        return zipReport(artifact.name, await readFile(artifact.zipFile), await readFile(twin.zipFile));
      }),
    );
    // Reuses the bundle just built (same inputs, same directory): no second esbuild run.
    const [catalog] = await bundleFunctions(join(directories[0]!, 'bundles'), { cacheBackend: PROD_CACHE_BACKEND, only: ['catalog'] });
    const catalogWithMapsBytes = createZip(await packageEntries(catalog!, { withSourceMaps: true })).byteLength;
    return { zips, catalogWithMapsBytes };
  } finally {
    await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  const log = (line: string) => console.error(line);
  // Connection set-up and idle memory per connection on a bare real-time server, first: RSS
  // deltas are only meaningful in a process that has not yet grown and shrunk under load.
  const realtime = await measureRealtime({ connections: 1000, fanOuts: [1], events: 5, memoryConnections: 1000 });
  log('  real-time connection costs measured');
  const comparison = await compareWithYoga(comparisonConfig, log);
  log('  runtime vs yoga measured');

  const stack = await startLocalStack({});
  const floorDirectory = await mkdtemp(join(tmpdir(), 'bench-floor-'));
  try {
    const data = await prepareData(stack, {
      products: CONFIG.products,
      orderLines: CONFIG.orderLines,
      distinctProducts: CONFIG.orderDistinctProducts,
    });
    log(`Stack up and seeded in ${((Date.now() - started) / 1000).toFixed(1)} s; order ${data.orderId} has ${data.orderItems} items`);

    // Every function of the map, from the bundles the stack built.
    const probeFor = probes({
      stack,
      productId: data.productIds[0]!,
      orderId: data.orderId,
      orderItems: data.orderItems,
      owner: data.owner,
    });
    const functionResults: FunctionMeasurement[] = [];
    for (const bundle of stack.bundles) {
      const probe = probeFor[bundle.name];
      if (!probe) throw new Error(`No probe event for function ${bundle.name}`);
      functionResults.push(
        await measureFunction(stack, bundle, probe, {
          coldRuns: CONFIG.coldRuns,
          warmInvocations: CONFIG.warmInvocations,
          warmDiscarded: CONFIG.warmDiscarded,
        }),
      );
      log(`  ${bundle.name}: cold starts and warm invocations measured`);
    }

    // The floor, built exactly like the functions; it reads the products table as catalog does.
    const floor = await bundleEntry(fileURLToPath(new URL('./floor/handler.ts', import.meta.url)), floorDirectory, {
      cacheBackend: 'none',
      reuse: false,
    });
    // Cold init is measured once this stack has stopped (below), on copies of its bundles: a Lambda init shares
    // its microVM with nothing, while beside the idle stack (DynamoDB Local answering the stream pollers four
    // times a second per shard) the same bundles measured catalog ÷ floor 1.16–1.27 against 1.11–1.13 after it
    // stopped. Their environments name the stopped stack's endpoints; no function connects at init.
    const coldInitSubjects = await Promise.all(
      stack.bundles.map(async (bundle) => ({
        name: bundle.name,
        file: await copyBundle(bundle, join(floorDirectory, 'functions', bundle.name)),
        environment: stack.functionEnvironments[bundle.name],
      })),
    );
    const floorEnvironment = stack.functionEnvironments.catalog;
    const bundles: BundleSize[] = await Promise.all(stack.bundles.map((bundle) => bundleSize(bundle.name, bundle.file)));
    const floorSize = await bundleSize('floor', floor.file);

    const adminToken = stack.userPool.mint({ username: 'bench-admin', sub: 'bench-admin', groups: ['admin'] });
    const fanOut = await measureSubscriptionFanOut(stack, data.productIds[1]!, adminToken, {
      subscribers: CONFIG.fanOutSubscribers,
      events: CONFIG.fanOutEvents,
    });
    log('  subscription fan-out measured');
    // The Zipf runs start stacks of their own, which must not share the two cores with this one.
    await stack.stop();
    const coldInit = await measureColdInit(
      { name: 'floor', file: floor.file, environment: floorEnvironment },
      coldInitSubjects,
      CONFIG.coldInitRounds,
    );
    log('  cold init against the floor measured');
    const { zips, catalogWithMapsBytes } = await measureZips();
    log('  deployment zips built twice and measured');
    const zipf = await runZipf();
    // On a fresh stack in a process of its own, so nothing measured above shares its RSS.
    const soak: SoakResult | null = soakRequests > 0 ? await runSoak({ requests: soakRequests, log }) : null;
    const devLoop = await measureDevLoop();
    log('  npm run dev start measured');
    // Last: the whole suite takes both cores for a while.
    const suite: SuiteReport | null = args['skip-suite'] ? null : await measureSuite();
    if (suite) log(`  npm test: ${suite.seconds.toFixed(1)} s, ${suite.passed ? 'passed' : 'FAILED'}`);

    const missedEvents = fanOut.reduce((sum, f) => sum + f.missed, 0);
    const totalErrors = comparison.errors + missedEvents + zipf.results.reduce((sum, r) => sum + r.errors, 0) + (soak?.errors ?? 0);
    const memoryOk = soak?.withinBound ?? true;
    const goals = issueGoals({
      coldInit,
      bundles,
      zips,
      catalogZipWithMapsBytes: catalogWithMapsBytes,
      cells: comparison.cells,
      devLoop,
      suite,
    });
    const report: BenchReport = {
      timestamp: new Date().toISOString(),
      machine: machineInfo(),
      config: { ...CONFIG, comparison: comparisonConfig, percentiles: 'nearest-rank over all samples' },
      data: {
        products: data.productIds.length,
        orderId: data.orderId,
        orderItems: data.orderItems,
        orderDistinctProducts: data.distinctProducts,
      },
      goals,
      comparison,
      coldInit,
      bundles: [...bundles, floorSize],
      zips: { variant: `prod (cache backend ${PROD_CACHE_BACKEND})`, zips, catalogWithSourceMapsBytes: catalogWithMapsBytes },
      devLoop,
      suite,
      functions: functionResults,
      subscriptions: {
        fanOut,
        connectionSetup: realtime.connectionSetup,
        memoryPerIdleConnection: realtime.memoryPerIdleConnection,
      },
      zipf,
      soak,
      totalErrors,
      ok: totalErrors === 0 && memoryOk,
    };
    await writeReport(outPath, report);

    console.log(renderReport(report));
    console.log(`\nWrote ${outPath} (total ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    if (totalErrors > 0) {
      console.error(`\nWARNING: ${totalErrors} request(s) failed; the numbers above are not trustworthy. Examples:`);
      for (const sample of comparison.errorSamples) console.error(`  [comparison] ${sample}`);
      for (const r of zipf.results) for (const sample of r.errorSamples) console.error(`  [zipf ${r.backend} ${r.phase}] ${sample}`);
      for (const sample of soak?.errorSamples ?? []) console.error(`  [soak] ${sample}`);
      return 1;
    }
    if (!memoryOk) {
      console.error(
        `\nWARNING: the stack's RSS grew ${(soak!.rssGrowth * 100).toFixed(1)}% over the soak's second half (bound +${(soak!.options.boundFraction * 100).toFixed(1)}%): something keeps what it saw.`,
      );
      return 1;
    }
    return 0;
  } finally {
    await stack.stop();
    await rm(floorDirectory, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('Benchmark failed:', error);
    process.exitCode = 1;
  },
);

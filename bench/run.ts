/**
 * `npm run bench [-- --out path.json] [--soak-requests N]`: load scenarios against the local
 * AppSync-compatible stack over real HTTP, plus per-function bundle size,
 * cold init and warm duration. Writes a JSON report (bench/results.json by
 * default) and prints a table. Exits non-zero when any response was wrong,
 * after still writing the report, so a broken run cannot pass for a slow one.
 *
 * Budget: on 2 cores, DynamoDB Local start ~5-10 s, 4 load runs of at most
 * 15 s each, ~3 × (5 cold starts + 220 warm calls), then the Zipf read-cache
 * workload on two fresh stacks (no cache, Redis; ~40 s each) — about 4 minutes;
 * then the memory soak (bench/soak.ts: 50,000 mixed requests by default, at
 * most ~3 minutes; `--soak-requests 5000` for a quick one, 0 to skip it).
 * The main stack runs with the Redis cache, as `npm run dev` does.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalStack } from '../local/runtime.js';
import { measureFunction, type FunctionMeasurement } from './cold-start.js';
import { probes } from './probes.js';
import { machineInfo, renderReport, writeReport, type BenchReport, type ScenarioResult } from './report.js';
import { orderWithProductsScenario, productScenario, runScenario } from './scenarios.js';
import { prepareData } from './setup.js';
import { measureSubscriptionFanOut } from './subscriptions.js';
import { measureRealtime } from './realtime.js';
import { measureZipf, zipfReport, type ZipfConfig, type ZipfReport, type ZipfResult } from './zipf.js';
import { runSoak, SOAK_DEFAULTS, type SoakResult } from './soak.js';

const CONFIG = {
  products: 200,
  orderLines: 100,
  orderDistinctProducts: 50,
  concurrencies: [1, 32],
  warmupRequests: 50,
  maxRequests: 2000,
  maxDurationMs: 15_000,
  coldRuns: 5,
  warmInvocations: 200,
  warmDiscarded: 20,
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

const { values: args } = parseArgs({ options: { out: { type: 'string' }, 'soak-requests': { type: 'string' } }, strict: true });
const outPath = args.out ? resolve(process.cwd(), args.out) : fileURLToPath(new URL('./results.json', import.meta.url));
const soakRequests = args['soak-requests'] === undefined ? SOAK_DEFAULTS.requests : Number(args['soak-requests']);
if (!Number.isInteger(soakRequests) || soakRequests < 0) {
  console.error(`--soak-requests must be a whole number (0 skips the soak), got ${args['soak-requests']}`);
  process.exit(2);
}

async function main(): Promise<number> {
  const started = Date.now();
  // Connection set-up and idle memory per connection on a bare real-time server, first: RSS
  // deltas are only meaningful in a process that has not yet grown and shrunk under load.
  const realtime = await measureRealtime({ connections: 1000, fanOuts: [1], events: 5, memoryConnections: 1000 });
  console.error('  real-time connection costs measured');
  const stack = await startLocalStack({});
  try {
    const data = await prepareData(stack, {
      products: CONFIG.products,
      orderLines: CONFIG.orderLines,
      distinctProducts: CONFIG.orderDistinctProducts,
    });
    console.error(
      `Stack up and seeded in ${((Date.now() - started) / 1000).toFixed(1)} s; order ${data.orderId} has ${data.orderItems} items`,
    );

    const scenarios = [productScenario(stack, data), orderWithProductsScenario(data)];
    const scenarioResults: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      for (const concurrency of CONFIG.concurrencies) {
        const result = await runScenario(stack, scenario, {
          concurrency,
          warmupRequests: CONFIG.warmupRequests,
          maxRequests: CONFIG.maxRequests,
          maxDurationMs: CONFIG.maxDurationMs,
        });
        console.error(
          `  ${scenario.name} x${concurrency}: ${result.requests} requests, ${result.errors + result.warmup.errors} errors, ${result.requestsPerSecond.toFixed(1)} req/s`,
        );
        scenarioResults.push(result);
      }
    }

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
      console.error(`  ${bundle.name}: cold starts and warm invocations measured`);
    }

    const adminToken = stack.userPool.mint({ username: 'bench-admin', sub: 'bench-admin', groups: ['admin'] });
    const fanOut = await measureSubscriptionFanOut(stack, data.productIds[1]!, adminToken, {
      subscribers: CONFIG.fanOutSubscribers,
      events: CONFIG.fanOutEvents,
    });
    console.error('  subscription fan-out measured');
    // The Zipf runs start stacks of their own, which must not share the two cores with this one.
    await stack.stop();
    const zipf = await runZipf();
    // Last, on a fresh stack in a process of its own, so nothing measured above shares its RSS.
    const soak: SoakResult | null = soakRequests > 0 ? await runSoak({ requests: soakRequests, log: (line) => console.error(line) }) : null;

    const missedEvents = fanOut.reduce((sum, f) => sum + f.missed, 0);
    const totalErrors =
      scenarioResults.reduce((sum, s) => sum + s.errors + s.warmup.errors, 0) +
      missedEvents +
      zipf.results.reduce((sum, r) => sum + r.errors, 0) +
      (soak?.errors ?? 0);
    const memoryOk = soak?.withinBound ?? true;
    const report: BenchReport = {
      timestamp: new Date().toISOString(),
      machine: machineInfo(),
      config: { ...CONFIG, percentiles: 'nearest-rank over all samples', client: 'node:http keep-alive, closed loop' },
      data: {
        products: data.productIds.length,
        orderId: data.orderId,
        orderItems: data.orderItems,
        orderDistinctProducts: data.distinctProducts,
      },
      scenarios: scenarioResults,
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
      for (const s of scenarioResults) {
        for (const sample of new Set([...s.warmup.errorSamples, ...s.errorSamples]))
          console.error(`  [${s.scenario} x${s.concurrency}] ${sample}`);
      }
      for (const r of zipf.results) for (const sample of r.errorSamples) console.error(`  [zipf ${r.backend} ${r.phase}] ${sample}`);
      for (const sample of soak?.errorSamples ?? []) console.error(`  [soak] ${sample}`);
      return 1;
    }
    if (!memoryOk) {
      console.error(
        `\nWARNING: the stack's RSS grew ${(soak!.rssGrowth * 100).toFixed(1)}% over the soak (bound +${(soak!.options.boundFraction * 100).toFixed(0)}%): something keeps what it saw.`,
      );
      return 1;
    }
    return 0;
  } finally {
    await stack.stop();
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

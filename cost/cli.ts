/**
 * `npm run cost -- --requests 10000000 [--duration-ms 20 | --duration-ms catalog=20 …] [--out cost/report.json]`
 *
 * Prices N GraphQL requests a month with cost/prices.json and the workload of
 * cost/workload.ts, over the project's declarations (function map, tables,
 * API, schema, client operations) and the benchmark's measured durations;
 * prints a table per component and writes the full report as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable } from '../bench/report.js';
import { api, lambdaAuthorizerOf } from '../declarations/api.js';
import { buildAppSyncSchema } from '../declarations/schema.js';
import { repositoryRoot } from '../declarations/paths.js';
import { tables, type TableName } from '../declarations/tables.js';
import { functions } from '../declarations/functions.js';
import { environments } from '../stacks/config.js';
import { functionDurations, readBenchDurations, type BenchDurations } from './durations.js';
import { estimateMonthlyCost, type CostReport, type FunctionFacts } from './model.js';
import { loadOperationDocuments, operationShapes, subscriptionTriggers } from './operations.js';
import { loadPrices } from './prices.js';
import { pricedRoutes } from './routes.js';
import { defaultWorkload } from './workload.js';

interface Options {
  readonly requests: number;
  readonly durationOverrides: Record<string, number>;
  readonly durationDefault: number | undefined;
  readonly out: string;
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      requests: { type: 'string', default: '1000000' },
      'duration-ms': { type: 'string', multiple: true, default: [] },
      out: { type: 'string', default: join(repositoryRoot, 'cost', 'report.json') },
    },
  });
  const requests = Number(values.requests.replace(/[_,]/g, ''));
  if (!Number.isFinite(requests) || requests < 0)
    throw new Error(`--requests must be a number of requests per month, not ${values.requests}`);
  const durationOverrides: Record<string, number> = {};
  let durationDefault: number | undefined;
  for (const value of values['duration-ms']) {
    const [name, ms] = value.includes('=') ? value.split('=', 2) : [undefined, value];
    const parsed = Number(ms);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--duration-ms ${value}: expected <ms> or <function>=<ms>`);
    if (name === undefined) durationDefault = parsed;
    else if (!(name in functions)) throw new Error(`--duration-ms ${value}: no function ${name}`);
    else durationOverrides[name] = parsed;
  }
  return { requests, durationOverrides, durationDefault, out: values.out };
}

function estimate(options: Options, bench: BenchDurations | undefined): CostReport {
  const schema = buildAppSyncSchema();
  const routes = pricedRoutes();
  const functionFacts: FunctionFacts[] = Object.entries(functions).map(([name, declaration]) => ({
    name,
    kind: declaration.kind,
    memoryMb: declaration.memoryMb,
  }));
  const authorizer = lambdaAuthorizerOf(api);
  return estimateMonthlyCost({
    requestsPerMonth: options.requests,
    prices: loadPrices(),
    deploymentRegion: environments.prod.region,
    functions: functionFacts,
    routes,
    operations: operationShapes(schema, loadOperationDocuments(), defaultWorkload.listSizes, (coordinate) => routes.has(coordinate)),
    subscriptionTriggers: subscriptionTriggers(schema),
    indexCount: (table: TableName) => tables[table].globalSecondaryIndexes.length,
    authorizer: authorizer ? { functionName: authorizer.function, resultTtlSeconds: authorizer.resultTtlSeconds } : undefined,
    durations: functionDurations(
      functionFacts.map((fn) => fn.name),
      bench,
      options.durationOverrides,
      options.durationDefault,
    ),
    workload: defaultWorkload,
  });
}

const usd = (value: number): string => value.toFixed(2);
const count = (value: number): string => Math.round(value).toString();

function render(report: CostReport, bench: BenchDurations | undefined): string {
  const out: string[] = [];
  out.push(`Monthly cost of ${report.requestsPerMonth.toLocaleString('en-US')} GraphQL requests`);
  out.push(
    `Prices: ${report.prices.region} list prices as of ${report.prices.asOf} (cost/prices.json); check them before relying on a figure.`,
  );
  out.push(
    bench
      ? `Durations: warm p50 (p95 for the second total) from bench/results.json, ${bench.timestamp}, measured locally (${bench.machine}, DynamoDB Local on loopback): AWS adds network time to every DynamoDB call.`
      : 'Durations: no bench/results.json (run npm run bench); see the duration column.',
  );
  out.push('');
  out.push(
    formatTable(
      ['component', 'quantity', 'unit', 'USD/month'],
      report.lines.map((line) => [line.component, count(line.quantity), line.unit, usd(line.usd)]),
    ),
  );
  out.push('');
  out.push(`Total: ${usd(report.totalUsd)} USD/month (${usd(report.totalUsdAtP95Durations)} with every function at its warm p95 duration)`);
  out.push('');
  out.push('Lambda (arm64), per function');
  out.push(
    formatTable(
      ['function', 'memory MB', 'invocations', 'duration ms', 'from', 'billed ms', 'GB-seconds', 'USD/month'],
      report.lambda.map((line) => [
        line.function,
        line.memoryMb,
        count(line.invocations),
        line.durationMs.toFixed(2),
        line.durationSource,
        line.billedMs,
        count(line.gbSeconds),
        usd(line.usd),
      ]),
    ),
  );
  out.push('');
  out.push('Per operation (per request; USD for one million of it)');
  out.push(
    formatTable(
      ['operation', 'share', 'invocations', 'RRU', 'WRU', 'USD per 1M'],
      report.operations.map((line) => [
        line.name,
        line.share.toFixed(3),
        Object.entries(line.invocations)
          .map(([fn, n]) => `${fn} ${Number(n.toFixed(2))}`)
          .join(', ') || '-',
        line.readRequestUnits.toFixed(1),
        line.writeRequestUnits.toFixed(1),
        usd(line.usdPerMillion),
      ]),
    ),
  );
  if (report.warnings.length > 0) {
    out.push('');
    out.push('Warnings');
    for (const warning of report.warnings) out.push(`- ${warning}`);
  }
  out.push('');
  out.push(`Not included: ${report.excluded.join('; ')}.`);
  return out.join('\n');
}

const options = parseOptions(process.argv.slice(2));
const bench = readBenchDurations();
const report = estimate(options, bench);
console.log(render(report, bench));
mkdirSync(dirname(options.out), { recursive: true });
writeFileSync(
  options.out,
  `${JSON.stringify({ ...report, durations: bench ? { source: 'bench/results.json', benchTimestamp: bench.timestamp, machine: bench.machine } : { source: 'none' }, workload: defaultWorkload }, null, 2)}\n`,
);
console.log(`\nWrote ${relative(process.cwd(), options.out) || options.out}`);

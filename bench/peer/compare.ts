import { fileURLToPath } from 'node:url';
import { median, ratioOf } from '../goals.js';
import { GraphQLHttpClient } from '../http-client.js';
import { orderWithProductsScenario, productScenario, type Scenario, type ScenarioData } from '../scenarios.js';
import { runAutocannon, type LoadRun } from './autocannon.js';
import type { InvocationCounts, RuntimeServerInfo, ServerCounters, YogaServerConfig, YogaServerInfo } from './protocol.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/**
 * The local runtime against a plain GraphQL server (graphql-yoga), both in
 * processes of their own, both serving the same bundles against the same
 * DynamoDB Local and redis-server and the same data; autocannon drives them
 * from this process. For each scenario and connection count: a warm-up run
 * per server, then `rounds` rounds alternating which server goes first
 * (runtime, yoga; yoga, runtime; …), so drift on the shared machine falls on
 * both. Reported: the median req/s of each and the ratio runtime ÷ yoga;
 * and, to say where a difference comes from, each server's CPU time per
 * request (every thread of its process; DynamoDB Local and redis-server,
 * which both share, are not in it) and the runtime's hand-off to its
 * functions' environments per request (LocalFunctionStats.handOffMs).
 *
 * Correctness: before each run every distinct request is sent once and its
 * answer checked (status, no errors, the data's shape); during the run each
 * answer must equal that checked answer byte for byte; after it, the answers
 * are fetched again and must not have changed. Anything else is an error.
 */

export interface ComparisonConfig {
  readonly products: number;
  readonly orderLines: number;
  readonly distinctProducts: number;
  readonly connections: readonly number[];
  readonly rounds: number;
  readonly durationS: number;
  readonly warmupS: number;
}

export type ServerName = 'runtime' | 'yoga';

export interface ComparisonRun extends LoadRun {
  readonly server: ServerName;
  readonly round: number;
  /** Each function's invocations during the run ÷ its requests (BatchInvoke: catalog 1 per 100-line order). */
  readonly invocationsPerRequest: Record<string, number>;
  /** The server process's CPU time during the run ÷ its requests. */
  readonly cpuMicrosPerRequest: number | null;
  /** The runtime's hand-off to its environments and back during the run ÷ its requests; null for the peer. */
  readonly handOffMsPerRequest: number | null;
}

export interface ComparisonCell {
  readonly scenario: string;
  readonly description: string;
  readonly connections: number;
  readonly runtimeRps: number;
  readonly yogaRps: number;
  /** runtime ÷ yoga, medians over the rounds. */
  readonly ratio: number | null;
  /** Medians over the rounds of each server's CPU µs per request, and of the runtime's hand-off ms per request. */
  readonly runtimeCpuMicrosPerRequest: number | null;
  readonly yogaCpuMicrosPerRequest: number | null;
  readonly runtimeHandOffMsPerRequest: number | null;
  readonly runs: ComparisonRun[];
}

export interface ComparisonReport {
  readonly config: ComparisonConfig;
  readonly client: string;
  readonly nodeVersions: Record<ServerName, string>;
  readonly cells: ComparisonCell[];
  /** Wrong or failed answers over every run and check. */
  readonly errors: number;
  readonly errorSamples: string[];
}

interface Server {
  readonly name: ServerName;
  readonly graphqlUrl: string;
  readonly process: ServerProcess<unknown>;
}

const RUNTIME_ENTRY = fileURLToPath(new URL('./runtime-server.ts', import.meta.url));
const YOGA_ENTRY = fileURLToPath(new URL('./yoga-server.ts', import.meta.url));

/** Sends each request once, checks it; returns the answers, and the problems found. */
async function checkedAnswers(url: string, scenario: Scenario): Promise<{ answers: string[]; problems: string[] }> {
  const client = new GraphQLHttpClient(url, { maxSockets: 1 });
  try {
    const answers: string[] = [];
    const problems: string[] = [];
    for (const request of scenario.requests) {
      const response = await client.post(request.body, request.headers);
      const problem = request.check(response);
      if (problem) problems.push(problem);
      answers.push(response.text);
    }
    return { answers, problems };
  } finally {
    client.close();
  }
}

/** A counter's growth over a run ÷ the run's requests; null when the server does not keep it or nothing was served. */
function perRequestOf(before: number | null, after: number | null, requests: number): number | null {
  return before === null || after === null || requests === 0 ? null : (after - before) / requests;
}

/** perRequestOf for each function the run invoked. */
function perRequest(before: InvocationCounts, after: InvocationCounts, requests: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([name, count]) => [name, perRequestOf(before[name] ?? 0, count, requests) ?? 0] as const)
      .filter(([, value]) => value > 0),
  );
}

export async function compareWithYoga(config: ComparisonConfig, log: (line: string) => void): Promise<ComparisonReport> {
  const errorSamples: string[] = [];
  let errors = 0;
  const problem = (where: string, description: string): void => {
    errors += 1;
    if (errorSamples.length < 10) errorSamples.push(`[${where}] ${description}`);
  };

  const runtime = await startServerProcess<RuntimeServerInfo>(RUNTIME_ENTRY, {
    args: [
      '--products',
      String(config.products),
      '--order-lines',
      String(config.orderLines),
      '--distinct-products',
      String(config.distinctProducts),
    ],
  });
  try {
    const info = runtime.info;
    const yogaConfig: YogaServerConfig = {
      apiKey: info.apiKey,
      userPoolKeyFile: info.userPoolKeyFile,
      bundles: info.bundles,
      functionEnvironments: info.functionEnvironments,
    };
    const yoga = await startServerProcess<YogaServerInfo>(YOGA_ENTRY, { args: [JSON.stringify(yogaConfig)], startTimeoutMs: 60_000 });
    try {
      log(`  comparison: runtime (pid ${runtime.pid}) and yoga (pid ${yoga.pid}) up; order ${info.orderId} has ${info.orderItems} items`);
      const servers: Server[] = [
        { name: 'runtime', graphqlUrl: info.graphqlUrl, process: runtime },
        { name: 'yoga', graphqlUrl: yoga.info.graphqlUrl, process: yoga },
      ];
      const data: ScenarioData = info;
      const cells: ComparisonCell[] = [];
      for (const scenario of [productScenario(data), orderWithProductsScenario(data)]) {
        for (const connections of config.connections) {
          const where = (server: Server, round: number | 'warm-up') => `${scenario.name} x${connections} ${server.name} ${round}`;
          const measure = async (server: Server, round: number | 'warm-up'): Promise<ComparisonRun | null> => {
            const before = await checkedAnswers(server.graphqlUrl, scenario);
            for (const p of before.problems) problem(where(server, round), p);
            const counts = await server.process.request<ServerCounters>('counters');
            const run = await runAutocannon({
              url: server.graphqlUrl,
              connections,
              durationS: round === 'warm-up' ? config.warmupS : config.durationS,
              requests: scenario.requests,
              expected: before.answers,
            });
            const countsAfter = await server.process.request<ServerCounters>('counters');
            const wrong = run.non2xx + run.errors + run.mismatches;
            if (wrong > 0) {
              errors += wrong;
              for (const sample of run.mismatchSamples) problem(where(server, round), sample);
              if (run.errors > 0) problem(where(server, round), `${run.errors} socket errors or timeouts`);
            }
            const after = await checkedAnswers(server.graphqlUrl, scenario);
            for (const p of after.problems) problem(where(server, round), `after the run: ${p}`);
            after.answers.forEach((answer, index) => {
              if (answer !== before.answers[index])
                problem(where(server, round), `answer ${index} changed during the run: ${answer.slice(0, 200)}`);
            });
            if (round === 'warm-up') return null;
            log(`    ${where(server, round)}: ${run.requestsPerSecond.toFixed(1)} req/s, ${run.requests} requests, ${wrong} wrong`);
            return {
              server: server.name,
              round,
              ...run,
              invocationsPerRequest: perRequest(counts.invocations, countsAfter.invocations, run.requests),
              cpuMicrosPerRequest: perRequestOf(counts.cpuMicros, countsAfter.cpuMicros, run.requests),
              handOffMsPerRequest: perRequestOf(counts.handOffMs, countsAfter.handOffMs, run.requests),
            };
          };
          for (const server of servers) await measure(server, 'warm-up');
          const runs: ComparisonRun[] = [];
          for (let round = 1; round <= config.rounds; round++) {
            for (const server of round % 2 === 1 ? servers : [...servers].reverse()) {
              const run = await measure(server, round);
              if (run) runs.push(run);
            }
          }
          /** The median of one figure over a server's rounds; null when there are none or a round lacks it. */
          const medianOf = (name: ServerName, figure: (run: ComparisonRun) => number | null): number | null => {
            const values = runs.filter((r) => r.server === name).map(figure);
            return values.length > 0 && values.every((value) => value !== null) ? median(values as number[]) : null;
          };
          const rps = (name: ServerName): number => medianOf(name, (r) => r.requestsPerSecond) ?? Number.NaN;
          const runtimeRps = rps('runtime');
          const yogaRps = rps('yoga');
          cells.push({
            scenario: scenario.name,
            description: scenario.description,
            connections,
            runtimeRps,
            yogaRps,
            ratio: ratioOf(runtimeRps, yogaRps),
            runtimeCpuMicrosPerRequest: medianOf('runtime', (r) => r.cpuMicrosPerRequest),
            yogaCpuMicrosPerRequest: medianOf('yoga', (r) => r.cpuMicrosPerRequest),
            runtimeHandOffMsPerRequest: medianOf('runtime', (r) => r.handOffMsPerRequest),
            runs,
          });
        }
      }
      return {
        config,
        client: 'autocannon 9 in the bench process; each server in a process of its own',
        nodeVersions: { runtime: info.nodeVersion, yoga: yoga.info.nodeVersion },
        cells,
        errors,
        errorSamples,
      };
    } finally {
      await yoga.stop();
    }
  } finally {
    await runtime.stop();
  }
}

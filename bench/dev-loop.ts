import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { print } from 'graphql';
import { repositoryRoot } from '../declarations/paths.js';
import { GetProductDocument } from '../generated/client/graphql.js';
import { newApiKey } from '../local/identity/local-credentials.js';
import { findFreePort } from '../local/process/ports.js';
import { sampleProducts } from '../local/seed.js';
import { GraphQLHttpClient } from './http-client.js';
import { productProblem } from './scenarios.js';

/**
 * The developer loop: `npm run dev` from spawn to its first answered GraphQL
 * query (on a free port, with an API key we choose): once as the checkout is
 * found, then WARM_STARTS more times with every cache the first start filled,
 * whose median is the warm figure (one start varies by ±0.3 s on the shared
 * 2-core machine); and the wall time of `npm test`.
 */

export interface DevStart {
  /** Spawn to the first right answer to product(id) from the seeded catalog. */
  readonly seconds: number;
  readonly attempts: number;
  /** What `npm run dev` printed about its start (the `ready in` and `Start-up` lines), when it got that far. */
  readonly startup?: string;
}

export interface DevLoopReport {
  readonly firstStart: DevStart;
  /** The median of warmStarts (by seconds). */
  readonly warmStart: DevStart;
  /** Every start with warm caches, in the order they ran. */
  readonly warmStarts: readonly DevStart[];
}

/** Starts with warm caches; odd, so that the median is one of them. */
export const WARM_STARTS = 3;

export interface SuiteReport {
  readonly seconds: number;
  readonly passed: boolean;
  readonly exitCode: number | null;
  /** The end of its output, for a failure. */
  readonly tail: string;
}

/** Stops a process group we started (npm → sh → tsx → node), SIGINT first as Ctrl+C would. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid, 'SIGINT');
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, 20_000);
  await exited;
  clearTimeout(timer);
}

/** One `npm run dev` from spawn to its first right answer (extra environment variables on top of ours). */
export async function measureDevStart(timeoutMs = 120_000, env: NodeJS.ProcessEnv = {}): Promise<DevStart> {
  const port = await findFreePort();
  const apiKey = newApiKey();
  const productId = sampleProducts(1)[0]!.id;
  const body = GraphQLHttpClient.body(print(GetProductDocument), { id: productId });
  const started = performance.now();
  const child = spawn('npm', ['run', 'dev', '--', '--port', String(port), '--quiet'], {
    cwd: repositoryRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, APPSYNC_API_KEY: apiKey },
  });
  let stdout = '';
  let startupPrinted = (): void => undefined;
  const printed = new Promise<void>((resolve) => (startupPrinted = resolve));
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (text: string) => {
    stdout = (stdout + text).slice(-8000);
    if (/Start-up.*\n/.test(stdout)) startupPrinted();
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  const client = new GraphQLHttpClient(`http://127.0.0.1:${port}/graphql`, { maxSockets: 1, timeoutMs: 10_000 });
  try {
    let attempts = 0;
    let lastProblem = 'no answer yet';
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm run dev exited (${child.exitCode}) before answering: ${stderr.slice(-1000)}`);
      if (performance.now() - started > timeoutMs) throw new Error(`npm run dev answered no query within ${timeoutMs} ms: ${lastProblem}`);
      attempts += 1;
      try {
        const problem = productProblem(productId, await client.post(body, { 'x-api-key': apiKey }));
        if (problem === null) {
          const seconds = (performance.now() - started) / 1000;
          // The stack prints its start-up lines right after seeding, about when it first answers.
          const timer = new AbortController();
          await Promise.race([printed, sleep(2_000, undefined, { signal: timer.signal }).catch(() => undefined)]);
          timer.abort();
          const startup = startupLines(stdout);
          return { seconds, attempts, ...(startup ? { startup } : {}) };
        }
        lastProblem = problem;
      } catch (error) {
        lastProblem = (error as Error).message;
      }
      // Polling is the measurement here: the first moment a client could have been served.
      await sleep(20);
    }
  } finally {
    client.close();
    await stopGroup(child);
  }
}

function startupLines(stdout: string): string | undefined {
  const lines = stdout.split('\n').filter((line) => /ready in|Start-up/.test(line));
  return lines.length > 0 ? lines.map((line) => line.trim()).join(' | ') : undefined;
}

export async function measureDevLoop(timeoutMs = 120_000): Promise<DevLoopReport> {
  const firstStart = await measureDevStart(timeoutMs);
  const warmStarts: DevStart[] = [];
  for (let start = 0; start < WARM_STARTS; start++) warmStarts.push(await measureDevStart(timeoutMs));
  return { firstStart, warmStart: medianStart(warmStarts), warmStarts };
}

/** The start whose seconds are the median of an odd number of starts. */
export function medianStart(starts: readonly DevStart[]): DevStart {
  if (starts.length % 2 === 0) throw new RangeError(`medianStart needs an odd number of starts, got ${starts.length}`);
  return [...starts].sort((a, b) => a.seconds - b.seconds)[(starts.length - 1) / 2]!;
}

export async function measureSuite(): Promise<SuiteReport> {
  const started = performance.now();
  const child = spawn('npm', ['test'], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (text: string) => {
    output = (output + text).slice(-4000);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { seconds: (performance.now() - started) / 1000, passed: exitCode === 0, exitCode, tail: output.slice(-1500) };
}

import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { print } from 'graphql';
import { GetProductDocument } from '../generated/client/graphql.js';

/**
 * The ordinary client: a plain `product(id)` query with the API key, about
 * every 100 ms, on its own keep-alive connection, while the hostile traffic
 * runs. It answers "does everyone else still get served?": each probe's
 * latency is kept, and one slower than the bound is a finding, laid at the
 * door of the hostile request most often in flight during slow probes and
 * rarely otherwise (fuzz/tracker.ts, `attributeSlowProbes`).
 */

export interface ProbeSample {
  /** ms since the run started. */
  readonly at: number;
  readonly latencyMs: number;
  /** null when the answer was the product; else what was wrong. */
  readonly problem: string | null;
}

export interface ProbeSummary {
  readonly sent: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly slowest: ProbeSample | undefined;
  readonly overBound: readonly ProbeSample[];
  readonly failures: readonly ProbeSample[];
}

export interface ProbeOptions {
  readonly port: number;
  readonly apiKey: string;
  readonly productId: string;
  readonly intervalMs: number;
  readonly boundMs: number;
  /** A probe still unanswered after this long is given up (and counts as failed). */
  readonly timeoutMs: number;
  /** The run's clock: probe times are relative to it. */
  readonly startedAt: number;
}

export class Probe {
  readonly #options: ProbeOptions;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly #samples: ProbeSample[] = [];
  readonly #body: string;
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(options: ProbeOptions) {
    this.#options = options;
    this.#body = JSON.stringify({ query: print(GetProductDocument), variables: { id: options.productId } });
  }

  start(): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        const tick = performance.now();
        await this.#once();
        const wait = this.#options.intervalMs - (performance.now() - tick);
        if (wait > 0 && this.#running) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();
  }

  /** Every probe so far, in order. */
  get samples(): readonly ProbeSample[] {
    return this.#samples;
  }

  async stop(): Promise<ProbeSummary> {
    this.#running = false;
    await this.#loop;
    this.#agent.destroy();
    return summarizeProbes(this.#samples, this.#options.boundMs);
  }

  async #once(): Promise<void> {
    const started = performance.now();
    const problem = await this.#send();
    const latencyMs = performance.now() - started;
    const sample: ProbeSample = { at: started - this.#options.startedAt, latencyMs, problem };
    this.#samples.push(sample);
  }

  #send(): Promise<string | null> {
    return new Promise((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.#options.port,
          method: 'POST',
          path: '/graphql',
          agent: this.#agent,
          headers: {
            'content-type': 'application/json',
            'x-api-key': this.#options.apiKey,
            'content-length': Buffer.byteLength(this.#body),
          },
          timeout: this.#options.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (error) => resolve(String(error)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) return resolve(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
            try {
              const body = JSON.parse(text) as { data?: { product?: { id?: string } | null }; errors?: unknown };
              if (body.errors) return resolve(`errors: ${JSON.stringify(body.errors).slice(0, 200)}`);
              if (body.data?.product?.id !== this.#options.productId) return resolve(`wrong data: ${text.slice(0, 200)}`);
              resolve(null);
            } catch {
              resolve(`not JSON: ${text.slice(0, 200)}`);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#options.timeoutMs} ms`)));
      req.on('error', (error) => resolve(String(error)));
      req.end(this.#body);
    });
  }
}

export function summarizeProbes(samples: readonly ProbeSample[], boundMs: number): ProbeSummary {
  const latencies = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  const at = (p: number): number =>
    latencies.length === 0 ? Number.NaN : latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]!;
  const slowest = samples.reduce<ProbeSample | undefined>(
    (worst, s) => (worst === undefined || s.latencyMs > worst.latencyMs ? s : worst),
    undefined,
  );
  return {
    sent: samples.length,
    failed: samples.filter((s) => s.problem !== null).length,
    p50Ms: at(50),
    p99Ms: at(99),
    slowest,
    overBound: samples.filter((s) => s.latencyMs > boundMs),
    failures: samples.filter((s) => s.problem !== null),
  };
}

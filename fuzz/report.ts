import type { ProbeSummary } from './probe.js';
import type { IntegrityReport } from './integrity.js';
import type { Overlap } from './tracker.js';

/** What `npm run fuzz` found, and its console rendering. */

export type FindingType = 'server-error' | 'slow-probe' | 'probe-failure' | 'hang' | 'unhandled' | 'desync' | 'integrity';

/** Types that fail the run (exit code 1); the others are reported as observations. */
export const FAILING: ReadonlySet<FindingType> = new Set(['server-error', 'slow-probe', 'probe-failure', 'integrity']);

export interface Finding {
  readonly type: FindingType;
  readonly kind: string;
  /** How many requests (or probes) fell under this finding. */
  count: number;
  /** The first occurrence. */
  readonly example: {
    /** Request number within the run: `--seed S --replay N` sends it again. */
    readonly index?: number;
    readonly description: string;
    /** The request (truncated), as sent. */
    readonly request?: string;
    /** What came back (truncated). */
    readonly response?: string;
    readonly status?: string;
    readonly latencyMs?: number;
    /** For a slow probe: the hostile requests in flight, longest-running first. */
    readonly inFlight?: readonly Overlap[];
  };
}

export interface MemoryFigures {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly environments: number;
}

export interface FuzzReport {
  readonly seed: number;
  readonly requestedRequests: number;
  /** Cases sent (a WebSocket flood or a double cancel is one). */
  readonly requests: number;
  readonly httpRequests: number;
  readonly webSocketConnections: number;
  readonly stoppedBy: 'requests' | 'time';
  readonly durationS: number;
  readonly statusMix: Record<string, number>;
  readonly kinds: Record<string, number>;
  readonly serverErrors: number;
  readonly probe: ProbeSummary & { readonly boundMs: number };
  readonly memory: {
    readonly before: MemoryFigures;
    readonly after: MemoryFigures;
    readonly afterGc: MemoryFigures;
    /** Not in the stack's RSS: DynamoDB Local's JVM, redis-server, esbuild. */
    readonly children: ReadonlyArray<{ readonly name: string; readonly rssBytes: number }>;
  };
  readonly integrity: IntegrityReport & {
    readonly adjustments: number;
    readonly orders: number;
    readonly cancelled: number;
    /** adjustStock calls whose outcome is unknown (no answer): the balance can then be off by their deltas. */
    readonly ambiguous: number;
  };
  readonly findings: readonly Finding[];
  /** The stack process's stderr, condensed (distinct first lines, digits as N). */
  readonly stackStderr: ReadonlyArray<{ readonly line: string; readonly count: number }>;
  readonly ok: boolean;
}

export class Findings {
  readonly #byKey = new Map<string, Finding>();

  add(type: FindingType, kind: string, example: Finding['example'], groupBy = ''): void {
    const key = `${type}|${kind}|${groupBy}`;
    const existing = this.#byKey.get(key);
    if (existing) existing.count += 1;
    else this.#byKey.set(key, { type, kind, count: 1, example });
  }

  list(): Finding[] {
    const order: FindingType[] = ['integrity', 'server-error', 'slow-probe', 'probe-failure', 'hang', 'desync', 'unhandled'];
    return [...this.#byKey.values()].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type) || b.count - a.count);
  }
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const clip = (text: string | undefined, n: number): string => {
  const flat = (text ?? '').replace(/\s+/g, ' ');
  return flat.length > n ? `${flat.slice(0, n)}… (${flat.length} chars)` : flat;
};

export function renderReport(report: FuzzReport): string {
  const statuses = Object.entries(report.statusMix)
    .sort((a, b) => b[1] - a[1])
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  const p = report.probe;
  const slowest = p.slowest ? `${p.slowest.latencyMs.toFixed(0)} ms at +${(p.slowest.at / 1000).toFixed(1)} s` : 'none sent';
  const m = report.memory;
  const growth = (m.after.rssBytes - m.before.rssBytes) / m.before.rssBytes;
  const i = report.integrity;
  const lines = [
    `Fuzz run, seed ${report.seed}: ${report.requests} of ${report.requestedRequests} requests in ${report.durationS.toFixed(1)} s (stopped by ${report.stoppedBy}); ${report.httpRequests} HTTP requests, ${report.webSocketConnections} WebSocket connections`,
    `  status mix: ${statuses}`,
    `  5xx (and WebSocket 1011): ${report.serverErrors}`,
    `  ordinary probe product(id) every ~100 ms: ${p.sent} sent, ${p.failed} failed, p50 ${p.p50Ms.toFixed(1)} ms, p99 ${p.p99Ms.toFixed(1)} ms, slowest ${slowest}; ${p.overBound.length} over ${p.boundMs} ms`,
    `  stack process RSS: before ${mib(m.before.rssBytes)} (${m.before.environments} environments), after ${mib(m.after.rssBytes)} (${m.after.environments} environments, ${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(0)}%), after GC ${mib(m.afterGc.rssBytes)}; main-thread heap ${mib(m.before.heapUsedBytes)} → ${mib(m.afterGc.heapUsedBytes)}`,
    `    (separate processes: ${m.children.map((c) => `${c.name} ${mib(c.rssBytes)}`).join(', ') || 'none'})`,
    `  integrity: ${i.balances.length} products, ${i.adjustments} successful adjustStock, ${i.orders} orders (${i.cancelled} cancelled), ${i.ambiguous} ambiguous; ${
      i.violations.length === 0 ? 'every product balances' : `${i.violations.length} VIOLATION(S)`
    }`,
    ...i.violations.map((v) => `    ${v.productId}: ${v.problem}`),
  ];
  const findings = report.findings;
  if (findings.length > 0) {
    lines.push(`  findings (${findings.filter((f) => FAILING.has(f.type)).length} failing kinds, ${findings.length} in all):`);
    for (const f of findings) {
      const e = f.example;
      lines.push(
        `    [${f.type}${FAILING.has(f.type) ? '' : ', not failing'}] ${f.kind} ×${f.count}: ${clip(e.description, 140)}${e.index === undefined ? '' : ` (request #${e.index})`}`,
      );
      if (e.status)
        lines.push(
          `        answer: ${e.status}${e.latencyMs === undefined ? '' : ` after ${e.latencyMs.toFixed(0)} ms`} ${clip(e.response, 200)}`,
        );
      if (e.request) lines.push(`        request: ${clip(e.request, 240)}`);
      if (e.inFlight?.length) {
        lines.push(
          `        in flight: ${e.inFlight
            .slice(0, 4)
            .map((o) => `#${o.index} ${o.kind} "${clip(o.description, 70)}" (${o.durationMs.toFixed(0)} ms)`)
            .join('; ')}`,
        );
      }
    }
  }
  if (report.stackStderr.length > 0) {
    lines.push('  stack stderr (distinct lines):');
    for (const { line, count } of report.stackStderr.slice(0, 8)) lines.push(`    ${count}× ${clip(line, 160)}`);
  }
  return lines.join('\n');
}

/** The last line: one summary a CI log can be grepped for. */
export function summaryLine(report: FuzzReport): string {
  const failing = report.findings.filter((f) => FAILING.has(f.type));
  const slowest = report.probe.slowest ? `${report.probe.slowest.latencyMs.toFixed(0)} ms` : 'n/a';
  const verdict = report.ok ? 'FUZZ OK' : `FUZZ FAILED (${failing.map((f) => `${f.type} ${f.kind}×${f.count}`).join(', ')})`;
  return `${verdict}: ${report.requests} requests, ${report.serverErrors} 5xx, slowest probe ${slowest}, integrity ${report.integrity.violations.length === 0 ? 'ok' : `${report.integrity.violations.length} violations`}, RSS ${mib(report.memory.before.rssBytes)} → ${mib(report.memory.after.rssBytes)}`;
}

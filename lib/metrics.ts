/**
 * Per-invocation counters published as CloudWatch Embedded Metric Format
 * (EMF) lines: in AWS, CloudWatch Logs turns each line into metrics with no
 * API call; locally, the execution environment takes the same lines out of its
 * stdout (local/lambda/metric-lines.mjs) and hands their totals to the runtime
 * with each invocation's result (`LocalFunction.stats().metrics`, `/health`). Counting
 * where the work happens (the DynamoDB client, the cache) keeps the figures
 * honest for tests and the benchmark alike.
 */

export const METRIC_NAMESPACE = 'Storefront';

/** Every metric a function publishes; each invocation reports all of them, zeros included. */
export const metricNames = ['DynamoDBReadCalls', 'DynamoDBWriteCalls', 'CacheHits', 'CacheMisses', 'CacheErrors', 'CacheLoads'] as const;

export type MetricName = (typeof metricNames)[number];

const counts = new Map<MetricName, number>();

export function countMetric(name: MetricName, value = 1): void {
  counts.set(name, (counts.get(name) ?? 0) + value);
}

/** One EMF document: the `_aws` envelope plus each metric's value and the dimension as top-level members. */
export interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: ReadonlyArray<{
      readonly Namespace: string;
      readonly Dimensions: ReadonlyArray<readonly string[]>;
      readonly Metrics: ReadonlyArray<{ readonly Name: string; readonly Unit: 'Count' }>;
    }>;
  };
  readonly [member: string]: unknown;
}

/** The EMF document for what was counted since the last flush, and a reset. */
export function takeMetrics(service: string): EmfDocument {
  const document: EmfDocument = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        { Namespace: METRIC_NAMESPACE, Dimensions: [['service']], Metrics: metricNames.map((Name) => ({ Name, Unit: 'Count' })) },
      ],
    },
    service,
    ...Object.fromEntries(metricNames.map((name) => [name, counts.get(name) ?? 0])),
  };
  counts.clear();
  return document;
}

/**
 * Writes the invocation's metrics as one EMF line. `process.stdout.write`
 * rather than `console.log`: Lambda's console wrapper prefixes lines (or wraps
 * them in JSON with the JSON log format), and an EMF line must reach the log
 * stream as the bare JSON object to be extracted.
 */
export function flushMetrics(service = process.env.POWERTOOLS_SERVICE_NAME ?? 'storefront'): void {
  const document = takeMetrics(service);
  // Outside a Lambda environment (unit tests, scripts) no log stream turns the line into metrics.
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) process.stdout.write(`${JSON.stringify(document)}\n`);
}

/** Parses an EMF line into metric values, or undefined for any other log line (used by the local runtime). */
export function parseEmfLine(line: string): Record<string, number> | undefined {
  if (!line.startsWith('{"_aws"')) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof document !== 'object' || document === null) return undefined;
  const record = document as Record<string, unknown> & Partial<EmfDocument>;
  const values: Record<string, number> = {};
  for (const directive of record._aws?.CloudWatchMetrics ?? []) {
    for (const { Name } of directive.Metrics) {
      const value = record[Name];
      if (typeof value === 'number') values[Name] = value;
    }
  }
  return values;
}

import type { TableName } from '../declarations/tables.js';
import type { FunctionDuration } from './durations.js';
import type { OperationShape } from './operations.js';
import { costOf, type PriceList } from './prices.js';
import type { ItemRead, ItemWrite, ReadConsistency, Workload } from './workload.js';

/**
 * Monthly cost of N GraphQL requests: Lambda (per function: invocations ×
 * billed duration × memory, plus requests), AppSync (operations, real-time
 * updates, connection-minutes) and DynamoDB on-demand (read and write request
 * units). Pure arithmetic over its inputs; cost/cli.ts gathers them.
 */

/** AWS prices a month as 730 hours. */
export const SECONDS_PER_MONTH = 730 * 3600;

const READ_BLOCK_BYTES = 4096;
const WRITE_BLOCK_BYTES = 1024;
const READ_UNITS_PER_BLOCK: Readonly<Record<ReadConsistency, number>> = { eventual: 0.5, strong: 1, transactional: 2 };

/** Lambda bills duration rounded up to the millisecond, at least 1 ms. */
export function billedDurationMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

export interface LambdaCost {
  readonly billedMs: number;
  readonly gbSeconds: number;
  readonly requestsUsd: number;
  readonly durationUsd: number;
  readonly usd: number;
}

/** Invocations × billed duration × memory (MB / 1024 = GB, as Lambda counts it), plus the per-request price. */
export function lambdaCost(prices: PriceList, invocations: number, memoryMb: number, durationMs: number): LambdaCost {
  const billedMs = billedDurationMs(durationMs);
  const gbSeconds = invocations * (billedMs / 1000) * (memoryMb / 1024);
  const requestsUsd = costOf(prices.prices.lambdaRequests, invocations);
  const durationUsd = costOf(prices.prices.lambdaArm64GbSeconds, gbSeconds);
  return { billedMs, gbSeconds, requestsUsd, durationUsd, usd: requestsUsd + durationUsd };
}

/**
 * Read request units: 4 KB blocks, rounded up, at least one; a Query rounds
 * the total it returns, GetItem and BatchGetItem each item. Eventually
 * consistent reads cost half a unit per block, transactional reads two.
 */
export function readRequestUnits(read: ItemRead): number {
  const blocks = (bytes: number): number => Math.max(1, Math.ceil(bytes / READ_BLOCK_BYTES));
  const total = read.api === 'Query' ? blocks(read.items * read.itemBytes) : read.items * blocks(read.itemBytes);
  return total * READ_UNITS_PER_BLOCK[read.consistency];
}

/**
 * Write request units: 1 KB blocks per item, rounded up, at least one; twice
 * that in a transaction. Every global secondary index also writes the item
 * (the stacks' indexes project ALL attributes, so any change reaches them);
 * a ConditionCheck changes nothing, so it writes no index.
 */
export function writeRequestUnits(write: ItemWrite, indexCount: number): number {
  const blocks = Math.max(1, Math.ceil(write.itemBytes / WRITE_BLOCK_BYTES));
  const table = write.items * blocks * (write.transactional ? 2 : 1);
  const indexes = write.conditionCheck ? 0 : write.items * blocks * indexCount;
  return table + indexes;
}

export interface FunctionFacts {
  readonly name: string;
  readonly kind: string;
  readonly memoryMb: number;
}

export interface RouteFacts {
  readonly functionName: string;
  readonly maxBatchSize: number | undefined;
}

export interface CostInputs {
  readonly requestsPerMonth: number;
  readonly prices: PriceList;
  /** Where the stacks deploy, to flag prices from another region. */
  readonly deploymentRegion: string;
  readonly functions: readonly FunctionFacts[];
  readonly routes: ReadonlyMap<string, RouteFacts>;
  readonly operations: ReadonlyMap<string, OperationShape>;
  readonly subscriptionTriggers: ReadonlyMap<string, readonly string[]>;
  readonly indexCount: (table: TableName) => number;
  readonly authorizer: { readonly functionName: string; readonly resultTtlSeconds: number } | undefined;
  readonly durations: ReadonlyMap<string, FunctionDuration>;
  readonly workload: Workload;
}

export interface LambdaLine extends LambdaCost {
  readonly function: string;
  readonly invocations: number;
  readonly memoryMb: number;
  readonly durationMs: number;
  readonly durationSource: FunctionDuration['source'];
  /** The same invocations at the warm p95 duration. */
  readonly usdAtP95: number;
}

export interface CostLine {
  readonly component: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

export interface OperationLine {
  readonly name: string;
  readonly share: number;
  readonly requests: number;
  /** Per request. */
  readonly invocations: Readonly<Record<string, number>>;
  readonly readRequestUnits: number;
  readonly writeRequestUnits: number;
  /** AppSync, Lambda (at p50) and DynamoDB for one million of this operation. */
  readonly usdPerMillion: number;
}

export interface CostReport {
  readonly requestsPerMonth: number;
  readonly prices: { readonly asOf: string; readonly region: string; readonly note: string };
  readonly lines: readonly CostLine[];
  readonly lambda: readonly LambdaLine[];
  readonly operations: readonly OperationLine[];
  readonly totalUsd: number;
  readonly totalUsdAtP95Durations: number;
  readonly warnings: readonly string[];
  readonly excluded: readonly string[];
}

export const excludedFromModel: readonly string[] = [
  'Free tiers, savings plans, taxes',
  'CloudWatch: log ingestion and storage, alarms, the dashboard, custom metrics',
  'KMS: customer-managed keys (per key-month) and their requests',
  "DynamoDB storage, point-in-time recovery, and the stream function's own reads and writes (stream reads by Lambda are free)",
  'Provisioned concurrency (prod keeps catalog warm), SQS dead-letter queues, X-Ray traces, Cognito users, data transfer out',
];

class Tally {
  readonly values = new Map<string, number>();
  add(key: string, amount: number): void {
    this.values.set(key, (this.values.get(key) ?? 0) + amount);
  }
  get(key: string): number {
    return this.values.get(key) ?? 0;
  }
}

/** Per request of one operation: function invocations, request units and stream records per table. */
interface OperationUsage {
  readonly invocations: Tally;
  readRequestUnits: number;
  writeRequestUnits: number;
  readonly streamRecords: Tally;
}

function fieldUsage(inputs: CostInputs, coordinate: string, resolutions: number, usage: OperationUsage, where: string): void {
  const route = inputs.routes.get(coordinate);
  if (!route) return;
  // AppSync batches a BatchInvoke field's resolutions of one request into invocations of at most maxBatchSize.
  usage.invocations.add(route.functionName, route.maxBatchSize === undefined ? resolutions : Math.ceil(resolutions / route.maxBatchSize));
  const access = (
    inputs.workload.fieldAccess as Readonly<Partial<Record<string, { reads?: readonly ItemRead[]; writes?: readonly ItemWrite[] }>>>
  )[coordinate];
  if (!access)
    throw new Error(
      `${where} resolves ${coordinate}: declare its DynamoDB reads and writes in cost/workload.ts (fieldAccess; {} for none)`,
    );
  for (const read of access.reads ?? []) usage.readRequestUnits += resolutions * readRequestUnits(read);
  for (const write of access.writes ?? []) {
    usage.writeRequestUnits += resolutions * writeRequestUnits(write, inputs.indexCount(write.table));
    if (!write.conditionCheck) usage.streamRecords.add(write.table, resolutions * write.items);
  }
}

function newUsage(): OperationUsage {
  return { invocations: new Tally(), readRequestUnits: 0, writeRequestUnits: 0, streamRecords: new Tally() };
}

export function estimateMonthlyCost(inputs: CostInputs): CostReport {
  const { prices, requestsPerMonth: requests, workload } = inputs;
  if (!Number.isFinite(requests) || requests < 0) throw new Error(`requests per month must be a non-negative number, not ${requests}`);
  const warnings: string[] = [];

  // GraphQL operations, by the workload's mix.
  const shareTotal = Object.values(workload.mix).reduce((sum, share) => sum + share, 0);
  if (Math.abs(shareTotal - 1) > 1e-9) throw new Error(`The operation mix sums to ${shareTotal}, not 1`);
  const monthly = newUsage();
  const operationLines: OperationLine[] = [];
  const mutationsPerMonth = new Tally();
  for (const [name, share] of Object.entries(workload.mix)) {
    const shape = inputs.operations.get(name);
    if (!shape) throw new Error(`The mix names ${name}, which operations/*.graphql does not define`);
    if (shape.operation === 'subscription')
      throw new Error(`${name} is a subscription: subscriptions are priced from the workload's realtime section`);
    const usage = newUsage();
    for (const [coordinate, resolutions] of shape.resolutions) fieldUsage(inputs, coordinate, resolutions, usage, name);
    const operationRequests = requests * share;
    for (const [fn, count] of usage.invocations.values) monthly.invocations.add(fn, count * operationRequests);
    for (const [table, count] of usage.streamRecords.values) monthly.streamRecords.add(table, count * operationRequests);
    monthly.readRequestUnits += usage.readRequestUnits * operationRequests;
    monthly.writeRequestUnits += usage.writeRequestUnits * operationRequests;
    for (const root of shape.rootFields) if (shape.operation === 'mutation') mutationsPerMonth.add(root, operationRequests);
    operationLines.push({
      name,
      share,
      requests: operationRequests,
      invocations: Object.fromEntries(usage.invocations.values),
      readRequestUnits: usage.readRequestUnits,
      writeRequestUnits: usage.writeRequestUnits,
      usdPerMillion: perMillion(inputs, usage),
    });
  }

  // The Lambda authorizer: once per partner token per cache TTL at most.
  if (inputs.authorizer) {
    const partnerRequests = requests * workload.partners.requestShare;
    const { resultTtlSeconds } = inputs.authorizer;
    const cacheBound =
      resultTtlSeconds > 0 ? (workload.partners.activeTokens * SECONDS_PER_MONTH) / resultTtlSeconds : Number.POSITIVE_INFINITY;
    monthly.invocations.add(inputs.authorizer.functionName, Math.min(partnerRequests, cacheBound));
  }

  // Real-time: connections, subscribe-time resolvers, and updates fanned out by triggering mutations.
  const sessions = requests * workload.realtime.sessionsPerRequest;
  const connectionMinutes = sessions * workload.realtime.minutesPerSession;
  for (const [coordinate, perSession] of Object.entries(workload.realtime.subscriptionsPerSession) as [string, number][]) {
    // A subscription field's resolver runs once per subscribe (monthly totals go straight into `monthly`).
    fieldUsage(inputs, coordinate, sessions * perSession, monthly, 'A real-time session');
  }
  let realtimeUpdates = 0;
  for (const [coordinate, subscribers] of Object.entries(workload.realtime.subscribersPerEvent) as [string, number][]) {
    const triggers = inputs.subscriptionTriggers.get(coordinate);
    if (!triggers) throw new Error(`The workload's realtime.subscribersPerEvent names ${coordinate}, which is not a subscription field`);
    for (const mutation of triggers) realtimeUpdates += mutationsPerMonth.get(mutation) * subscribers;
  }

  // Functions that serve no field.
  const functionNames = new Set(inputs.functions.map((fn) => fn.name));
  for (const [name, spec] of Object.entries(workload.otherInvocations)) {
    if (!functionNames.has(name)) {
      warnings.push(`cost/workload.ts prices invocations of ${name}, which the function map lacks; ignored`);
      continue;
    }
    monthly.invocations.add(
      name,
      'perRequest' in spec
        ? requests * spec.perRequest
        : spec.streamRecordsOf.reduce((sum, table) => sum + monthly.streamRecords.get(table), 0) / spec.recordsPerInvocation,
    );
  }

  const lambda: LambdaLine[] = inputs.functions.map((fn) => {
    const duration = inputs.durations.get(fn.name);
    if (!duration) throw new Error(`No duration for function ${fn.name}`);
    const invocations = monthly.invocations.get(fn.name);
    if (invocations === 0) warnings.push(`${fn.name}: no invocations in this workload (cost/workload.ts)`);
    const cost = lambdaCost(prices, invocations, fn.memoryMb, duration.p50Ms);
    return {
      function: fn.name,
      invocations,
      memoryMb: fn.memoryMb,
      durationMs: duration.p50Ms,
      durationSource: duration.source,
      ...cost,
      usdAtP95: lambdaCost(prices, invocations, fn.memoryMb, duration.p95Ms).usd,
    };
  });

  const lines: CostLine[] = [
    ...lambda.map((line) => ({ component: `Lambda ${line.function}`, quantity: line.invocations, unit: 'invocations', usd: line.usd })),
    {
      component: 'AppSync operations',
      quantity: requests,
      unit: prices.prices.appsyncOperations.unit,
      usd: costOf(prices.prices.appsyncOperations, requests),
    },
    {
      component: 'AppSync real-time updates',
      quantity: realtimeUpdates,
      unit: prices.prices.appsyncRealtimeUpdates.unit,
      usd: costOf(prices.prices.appsyncRealtimeUpdates, realtimeUpdates),
    },
    {
      component: 'AppSync connections',
      quantity: connectionMinutes,
      unit: prices.prices.appsyncConnectionMinutes.unit,
      usd: costOf(prices.prices.appsyncConnectionMinutes, connectionMinutes),
    },
    {
      component: 'DynamoDB reads',
      quantity: monthly.readRequestUnits,
      unit: prices.prices.dynamodbReadRequestUnits.unit,
      usd: costOf(prices.prices.dynamodbReadRequestUnits, monthly.readRequestUnits),
    },
    {
      component: 'DynamoDB writes',
      quantity: monthly.writeRequestUnits,
      unit: prices.prices.dynamodbWriteRequestUnits.unit,
      usd: costOf(prices.prices.dynamodbWriteRequestUnits, monthly.writeRequestUnits),
    },
  ];
  const totalUsd = lines.reduce((sum, line) => sum + line.usd, 0);
  const lambdaDelta = lambda.reduce((sum, line) => sum + line.usdAtP95 - line.usd, 0);

  if (prices.region !== inputs.deploymentRegion) {
    warnings.push(`Prices are ${prices.region} list prices; the stacks deploy to ${inputs.deploymentRegion}, which AWS prices differently`);
  }
  const assumed = lambda.filter((line) => line.durationSource === 'assumed').map((line) => line.function);
  if (assumed.length > 0)
    warnings.push(`No measured duration for ${assumed.join(', ')}: assumed (run npm run bench, or pass --duration-ms)`);

  return {
    requestsPerMonth: requests,
    prices: { asOf: prices.asOf, region: prices.region, note: prices.note },
    lines,
    lambda,
    operations: operationLines,
    totalUsd,
    totalUsdAtP95Durations: totalUsd + lambdaDelta,
    warnings,
    excluded: excludedFromModel,
  };
}

/** One million requests of an operation, fully: AppSync, its invocations at p50, its request units. */
function perMillion(inputs: CostInputs, usage: OperationUsage): number {
  const { prices } = inputs;
  const million = 1_000_000;
  let usd = costOf(prices.prices.appsyncOperations, million);
  for (const [name, count] of usage.invocations.values) {
    const fn = inputs.functions.find((f) => f.name === name);
    const duration = inputs.durations.get(name);
    if (fn && duration) usd += lambdaCost(prices, count * million, fn.memoryMb, duration.p50Ms).usd;
  }
  usd += costOf(prices.prices.dynamodbReadRequestUnits, usage.readRequestUnits * million);
  usd += costOf(prices.prices.dynamodbWriteRequestUnits, usage.writeRequestUnits * million);
  return usd;
}

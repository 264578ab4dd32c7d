import { describe, expect, it } from 'vitest';
import { api, lambdaAuthorizerOf } from '../../declarations/api.js';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import { tables, type TableName } from '../../declarations/tables.js';
import { functions } from '../../declarations/functions.js';
import { fieldRoutes } from '../../declarations/check.js';
import { functionDurations, parseBenchDurations, type FunctionDuration } from '../../cost/durations.js';
import {
  billedDurationMs,
  estimateMonthlyCost,
  lambdaCost,
  readRequestUnits,
  SECONDS_PER_MONTH,
  writeRequestUnits,
  type CostInputs,
  type RouteFacts,
} from '../../cost/model.js';
import { loadOperationDocuments, operationShapes, subscriptionTriggers, type OperationShape } from '../../cost/operations.js';
import { loadPrices, parsePrices, priceKeys } from '../../cost/prices.js';
import { defaultWorkload, type Workload } from '../../cost/workload.js';

const prices = loadPrices();
const schema = buildAppSyncSchema();
const routes = new Map<string, RouteFacts>(fieldRoutes());
const shapes = operationShapes(schema, loadOperationDocuments(), defaultWorkload.listSizes, (coordinate) => routes.has(coordinate));

describe('price list', () => {
  it('is dated, region-labelled, and every price has its unit and source', () => {
    expect(prices.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(prices.region).toBe('us-east-1');
    expect(prices.note).toMatch(/check/i);
    for (const key of priceKeys) {
      expect(prices.prices[key].unit.length).toBeGreaterThan(0);
      expect(prices.prices[key].source).toContain('us-east-1');
    }
  });

  it('holds the published figures the model was written against', () => {
    const perUnit = (key: (typeof priceKeys)[number]): number => prices.prices[key].usd / prices.prices[key].per;
    expect(perUnit('lambdaArm64GbSeconds')).toBe(0.0000133334);
    expect(perUnit('lambdaRequests') * 1e6).toBeCloseTo(0.2, 10);
    expect(perUnit('appsyncOperations') * 1e6).toBeCloseTo(4, 10);
    expect(perUnit('appsyncRealtimeUpdates') * 1e6).toBeCloseTo(2, 10);
    expect(perUnit('appsyncConnectionMinutes') * 1e6).toBeCloseTo(0.08, 10);
    expect(perUnit('dynamodbReadRequestUnits') * 1e6).toBeCloseTo(0.125, 10);
    expect(perUnit('dynamodbWriteRequestUnits') * 1e6).toBeCloseTo(0.625, 10);
  });

  it('refuses a malformed list', () => {
    const { lambdaRequests: _dropped, ...rest } = prices.prices;
    expect(() => parsePrices({ ...prices, prices: rest })).toThrow(/prices\.lambdaRequests is missing/);
    expect(() => parsePrices({ ...prices, asOf: 'last year' })).toThrow(/asOf/);
  });
});

describe('Lambda arithmetic', () => {
  it('1M invocations at 512 MB for 100 ms: 50,000 GB-s, $0.67 of duration plus $0.20 of requests', () => {
    const cost = lambdaCost(prices, 1_000_000, 512, 100);
    expect(cost.gbSeconds).toBe(50_000);
    expect(cost.durationUsd).toBeCloseTo(0.66667, 5);
    expect(cost.requestsUsd).toBeCloseTo(0.2, 10);
    expect(cost.usd).toBeCloseTo(0.86667, 5);
  });

  it('bills duration rounded up to the millisecond, at least 1 ms', () => {
    expect(billedDurationMs(100)).toBe(100);
    expect(billedDurationMs(1.2)).toBe(2);
    expect(billedDurationMs(0.03)).toBe(1);
    expect(lambdaCost(prices, 1_000_000, 1024, 0.5).gbSeconds).toBe(1000);
  });
});

describe('DynamoDB request units', () => {
  it('reads in 4 KB blocks: half a unit eventually consistent, one strongly, two in a transaction', () => {
    const get = { table: 'products', api: 'GetItem', items: 1, itemBytes: 800 } as const;
    expect(readRequestUnits({ ...get, consistency: 'eventual' })).toBe(0.5);
    expect(readRequestUnits({ ...get, consistency: 'strong' })).toBe(1);
    expect(readRequestUnits({ ...get, consistency: 'transactional' })).toBe(2);
    expect(readRequestUnits({ ...get, itemBytes: 5000, consistency: 'strong' })).toBe(2);
    // A miss still costs the minimum.
    expect(readRequestUnits({ ...get, itemBytes: 0, consistency: 'strong' })).toBe(1);
    // BatchGetItem bills each item; Query the total it returns.
    expect(readRequestUnits({ ...get, api: 'BatchGetItem', items: 3, consistency: 'eventual' })).toBe(1.5);
    expect(readRequestUnits({ ...get, api: 'Query', items: 20, consistency: 'eventual' })).toBe(2);
    expect(readRequestUnits({ ...get, api: 'Query', items: 0, consistency: 'eventual' })).toBe(0.5);
  });

  it('writes in 1 KB blocks, doubled in a transaction, plus one write per index; a ConditionCheck writes no index', () => {
    const put = { table: 'products', items: 1, itemBytes: 800, transactional: false } as const;
    expect(writeRequestUnits(put, 0)).toBe(1);
    expect(writeRequestUnits(put, 1)).toBe(2);
    expect(writeRequestUnits({ ...put, transactional: true }, 1)).toBe(3);
    expect(writeRequestUnits({ ...put, itemBytes: 2500 }, 0)).toBe(3);
    expect(writeRequestUnits({ ...put, items: 3, transactional: true }, 1)).toBe(9);
    expect(writeRequestUnits({ ...put, transactional: true, conditionCheck: true }, 1)).toBe(2);
  });
});

describe('operations', () => {
  it('follows fragments and lists to the routed fields each client operation resolves', () => {
    expect([...(shapes.get('GetProduct')?.resolutions ?? [])]).toEqual([['Query.product', 1]]);
    expect([...(shapes.get('ProductWithReviews')?.resolutions ?? [])]).toEqual([
      ['Query.product', 1],
      ['Product.reviews', 1],
    ]);
    expect([...(shapes.get('GetOrderWithProducts')?.resolutions ?? [])]).toEqual([
      ['Query.order', 1],
      ['OrderItem.product', defaultWorkload.listSizes['Order.items']],
    ]);
    expect(shapes.get('PlaceOrder')).toMatchObject({ operation: 'mutation', rootFields: ['Mutation.placeOrder'] });
  });

  it('asks for the length of a list it has no assumption for', () => {
    expect(() => operationShapes(schema, loadOperationDocuments(), {}, () => false)).toThrow(/state its average length/);
  });

  it('reads which mutations feed each subscription from the schema', () => {
    expect(subscriptionTriggers(schema).get('Subscription.onOrderStatusChanged')).toEqual([
      'Mutation.updateOrderStatus',
      'Mutation.cancelOrder',
    ]);
  });

  it('the default workload gives every client query and mutation a share', () => {
    const priced = [...shapes.values()].filter((shape) => shape.operation !== 'subscription').map((shape) => shape.name);
    expect(Object.keys(defaultWorkload.mix).sort()).toEqual(priced.sort());
  });
});

describe('monthly estimate', () => {
  const fixed: FunctionDuration = { p50Ms: 100, p95Ms: 200, source: 'flag' };
  const shape = (name: string, resolutions: Record<string, number>, operation: OperationShape['operation'] = 'query'): OperationShape => ({
    name,
    operation,
    rootFields: Object.keys(resolutions).slice(0, 1),
    resolutions: new Map(Object.entries(resolutions)),
  });
  const workload: Workload = {
    mix: { GetThing: 1 },
    listSizes: {},
    fieldAccess: { 'Query.product': { reads: [{ table: 'products', api: 'GetItem', items: 1, itemBytes: 800, consistency: 'eventual' }] } },
    partners: { requestShare: 0, activeTokens: 0 },
    realtime: { sessionsPerRequest: 0, minutesPerSession: 0, subscriptionsPerSession: {}, subscribersPerEvent: {} },
    otherInvocations: {},
  };
  const inputs: CostInputs = {
    requestsPerMonth: 1_000_000,
    prices,
    deploymentRegion: 'us-east-1',
    functions: [{ name: 'fn', kind: 'resolver', memoryMb: 512 }],
    routes: new Map([['Query.product', { functionName: 'fn', maxBatchSize: undefined }]]),
    operations: new Map([['GetThing', shape('GetThing', { 'Query.product': 1 })]]),
    subscriptionTriggers: new Map(),
    indexCount: () => 0,
    authorizer: undefined,
    durations: new Map([['fn', fixed]]),
    workload,
  };

  it('1M requests, one 512 MB 100 ms invocation and one eventually consistent 800-byte read each: AppSync $4 + Lambda $0.87 + DynamoDB $0.06', () => {
    const report = estimateMonthlyCost(inputs);
    const usdOf = (component: string): number | undefined => report.lines.find((line) => line.component === component)?.usd;
    expect(usdOf('AppSync operations')).toBeCloseTo(4, 10);
    expect(usdOf('Lambda fn')).toBeCloseTo(0.86667, 5);
    expect(usdOf('DynamoDB reads')).toBeCloseTo(0.0625, 10);
    expect(usdOf('DynamoDB writes')).toBe(0);
    expect(report.totalUsd).toBeCloseTo(4.92917, 5);
    // At p95 (200 ms) the duration part doubles.
    expect(report.totalUsdAtP95Durations - report.totalUsd).toBeCloseTo(0.66667, 5);
    expect(report.operations[0]?.usdPerMillion).toBeCloseTo(4.92917, 5);
    expect(report.warnings).toEqual([]);
  });

  it("batches a BatchInvoke field's resolutions into ceil(n / maxBatchSize) invocations, but bills every item read", () => {
    const report = estimateMonthlyCost({
      ...inputs,
      routes: new Map([['Query.product', { functionName: 'fn', maxBatchSize: 100 }]]),
      operations: new Map([['GetThing', shape('GetThing', { 'Query.product': 250 })]]),
    });
    expect(report.lambda[0]?.invocations).toBe(3_000_000);
    expect(report.lines.find((line) => line.component === 'DynamoDB reads')?.quantity).toBe(125_000_000);
  });

  it('invokes the authorizer at most once per partner token per cache TTL', () => {
    const withAuthorizer: CostInputs = {
      ...inputs,
      functions: [...inputs.functions, { name: 'auth', kind: 'authorizer', memoryMb: 256 }],
      durations: new Map([...inputs.durations, ['auth', fixed]]),
      authorizer: { functionName: 'auth', resultTtlSeconds: 300 },
      workload: { ...workload, partners: { requestShare: 0.5, activeTokens: 2 } },
    };
    expect(estimateMonthlyCost(withAuthorizer).lambda[1]?.invocations).toBe((2 * SECONDS_PER_MONTH) / 300);
    expect(
      estimateMonthlyCost({ ...withAuthorizer, authorizer: { functionName: 'auth', resultTtlSeconds: 0 } }).lambda[1]?.invocations,
    ).toBe(500_000);
  });

  it('prices real-time updates from the mutations that trigger each subscription, and connection-minutes per session', () => {
    const report = estimateMonthlyCost({
      ...inputs,
      operations: new Map([
        ['GetThing', shape('GetThing', { 'Query.product': 1 })],
        ['Change', { ...shape('Change', {}, 'mutation'), rootFields: ['Mutation.change'] }],
      ]),
      subscriptionTriggers: new Map([['Subscription.onOrderStatusChanged', ['Mutation.change']]]),
      workload: {
        ...workload,
        mix: { GetThing: 0.9, Change: 0.1 },
        realtime: {
          sessionsPerRequest: 0.01,
          minutesPerSession: 30,
          subscriptionsPerSession: {},
          subscribersPerEvent: { 'Subscription.onOrderStatusChanged': 3 },
        },
      },
    });
    expect(report.lines.find((line) => line.component === 'AppSync real-time updates')).toMatchObject({ quantity: 300_000, usd: 0.6 });
    expect(report.lines.find((line) => line.component === 'AppSync connections')?.quantity).toBe(300_000);
  });

  it('refuses a mix that does not sum to 1, an unknown operation, and a routed field without declared DynamoDB access', () => {
    expect(() => estimateMonthlyCost({ ...inputs, workload: { ...workload, mix: { GetThing: 0.5 } } })).toThrow(/sums to 0.5/);
    expect(() => estimateMonthlyCost({ ...inputs, workload: { ...workload, mix: { Nope: 1 } } })).toThrow(/Nope/);
    expect(() => estimateMonthlyCost({ ...inputs, workload: { ...workload, fieldAccess: {} } })).toThrow(
      /declare its DynamoDB reads and writes/,
    );
  });

  it("prices the project's own declarations and default workload, flagging the price region and unmeasured functions", () => {
    const authorizer = lambdaAuthorizerOf(api);
    const names = Object.keys(functions);
    const report = estimateMonthlyCost({
      requestsPerMonth: 10_000_000,
      prices,
      deploymentRegion: 'eu-west-1',
      functions: Object.entries(functions).map(([name, declaration]) => ({ name, kind: declaration.kind, memoryMb: declaration.memoryMb })),
      routes,
      operations: shapes,
      subscriptionTriggers: subscriptionTriggers(schema),
      indexCount: (table: TableName) => tables[table].globalSecondaryIndexes.length,
      authorizer: authorizer ? { functionName: authorizer.function, resultTtlSeconds: authorizer.resultTtlSeconds } : undefined,
      durations: functionDurations(names, undefined, {}, undefined),
      workload: defaultWorkload,
    });
    expect(report.lines.find((line) => line.component === 'AppSync operations')?.usd).toBeCloseTo(40, 10);
    expect(report.lambda.map((line) => line.function)).toEqual(names);
    expect(report.totalUsd).toBeGreaterThan(40);
    expect(report.warnings.some((warning) => warning.includes('eu-west-1'))).toBe(true);
    expect(report.warnings.some((warning) => warning.startsWith('No measured duration'))).toBe(true);
  });
});

describe('durations', () => {
  const bench = parseBenchDurations({
    timestamp: '2026-01-01T00:00:00Z',
    machine: { cpuModel: 'cpu', arch: 'x64' },
    functions: [{ name: 'catalog', field: 'Query.product', warm: { durationMedianMs: 1.5, durationP95Ms: 3 } }],
  });

  it('takes a command-line value over the benchmark, and the benchmark over the assumption', () => {
    const durations = functionDurations(['catalog', 'orders'], bench, {}, undefined);
    expect(durations.get('catalog')).toEqual({ p50Ms: 1.5, p95Ms: 3, source: 'bench' });
    expect(durations.get('orders')?.source).toBe('assumed');
    expect(functionDurations(['catalog'], bench, { catalog: 20 }, undefined).get('catalog')).toEqual({
      p50Ms: 20,
      p95Ms: 20,
      source: 'flag',
    });
    expect(functionDurations(['catalog'], bench, {}, 30).get('catalog')?.source).toBe('flag');
  });

  it('refuses a results file without warm durations', () => {
    expect(() => parseBenchDurations({ functions: [{ name: 'catalog' }] })).toThrow(/warm durations/);
  });
});

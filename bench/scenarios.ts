import { print } from 'graphql';
import type { LocalStack } from '../local/runtime.js';
import {
  GetOrderWithProductsDocument,
  GetProductDocument,
  type GetOrderWithProductsQuery,
  type GetProductQuery,
} from '../generated/client/graphql.js';
import { GraphQLHttpClient, graphqlProblem } from './http-client.js';
import { runClosedLoop, type Request } from './load.js';
import type { ScenarioResult } from './report.js';
import type { BenchData } from './setup.js';

/**
 * The load scenarios. Each one turns a client into a `Request` that sends a
 * real GraphQL POST and checks the whole answer — status, absence of
 * `errors`, and the data shape — because a fast error is not a result.
 * Bodies are serialized once up front so the client does no per-request
 * JSON.stringify work.
 */

export interface Scenario {
  readonly name: string;
  readonly description: string;
  request(client: GraphQLHttpClient): Request;
}

export function productScenario(stack: LocalStack, data: BenchData): Scenario {
  const query = print(GetProductDocument);
  const bodies = data.productIds.map((id) => ({ id, body: GraphQLHttpClient.body(query, { id }) }));
  const headers = { 'x-api-key': stack.apiKey };
  return {
    name: 'product(id)',
    description: `GetProduct with the API key, ids cycling over ${bodies.length} seeded products`,
    request: (client) => async (index) => {
      const { id, body } = bodies[index % bodies.length]!;
      const response = await client.post(body, headers);
      const problem = graphqlProblem(response);
      if (problem) return problem;
      const product = (response.body?.data as GetProductQuery | undefined)?.product;
      if (!product || product.id !== id || typeof product.name !== 'string' || typeof product.rating?.count !== 'number') {
        return `product ${id}: unexpected data ${JSON.stringify(product)?.slice(0, 200)}`;
      }
      return null;
    },
  };
}

export function orderWithProductsScenario(data: BenchData): Scenario {
  const body = GraphQLHttpClient.body(print(GetOrderWithProductsDocument), { id: data.orderId });
  const headers = { authorization: data.ownerToken };
  return {
    name: 'order+products',
    description: `GetOrderWithProducts as the owner: ${data.orderItems} items, OrderItem.product resolved by BatchInvoke`,
    request: (client) => async () => {
      const response = await client.post(body, headers);
      const problem = graphqlProblem(response);
      if (problem) return problem;
      const order = (response.body?.data as GetOrderWithProductsQuery | undefined)?.order;
      if (!order || order.id !== data.orderId) return `order: unexpected data ${JSON.stringify(order)?.slice(0, 200)}`;
      if (order.items.length !== data.orderItems) return `order has ${order.items.length} items, expected ${data.orderItems}`;
      const bad = order.items.find(
        (item) => !item.product || item.product.id !== item.productId || typeof item.product.priceCents !== 'number',
      );
      if (bad) return `order item ${bad.productId} resolved to ${JSON.stringify(bad.product)}`;
      return null;
    },
  };
}

export interface RunOptions {
  readonly concurrency: number;
  readonly warmupRequests: number;
  readonly maxRequests: number;
  readonly maxDurationMs: number;
}

function invocationCounts(stack: LocalStack): Map<string, number> {
  return new Map([...stack.functions].map(([name, fn]) => [name, fn.stats().invocations]));
}

/**
 * Warm-up, then the measured closed loop, at one concurrency. Function
 * invocation counters are read around the measured phase only, so
 * invocations per request reflect steady state (e.g. exactly 1 catalog
 * invocation for 100 order lines when BatchInvoke works).
 */
export async function runScenario(stack: LocalStack, scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  const { concurrency } = options;
  const client = new GraphQLHttpClient(stack.graphqlUrl, { maxSockets: concurrency });
  try {
    const request = scenario.request(client);
    // Warm-up at the same concurrency: opens the keep-alive sockets, spins up
    // the function environments this concurrency needs and lets V8 JIT the
    // hot paths, none of which should count as steady-state latency.
    const warmup = await runClosedLoop(request, { concurrency, maxRequests: options.warmupRequests, maxDurationMs: options.maxDurationMs });
    const before = invocationCounts(stack);
    const result = await runClosedLoop(request, { concurrency, maxRequests: options.maxRequests, maxDurationMs: options.maxDurationMs });
    const after = invocationCounts(stack);
    const invocationsPerRequest = Object.fromEntries(
      [...after].map(([name, count]) => [name, result.requests > 0 ? (count - (before.get(name) ?? 0)) / result.requests : 0]),
    );
    return {
      scenario: scenario.name,
      description: scenario.description,
      warmup: { requests: warmup.requests, errors: warmup.errors, errorSamples: warmup.errorSamples },
      ...result,
      invocationsPerRequest,
    };
  } finally {
    client.close();
  }
}

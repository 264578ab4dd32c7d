import { print } from 'graphql';
import type { LocalStack } from '../local/runtime.js';
import { GetOrderWithProductsDocument, GetProductDocument, type GetOrderWithProductsQuery, type GetProductQuery } from '../generated/client/graphql.js';
import { GraphQLHttpClient, graphqlProblem } from './http-client.js';
import type { Request } from './load.js';
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
  /** The function whose invocations per request the report highlights. */
  readonly focusFunction: string;
  request(client: GraphQLHttpClient): Request;
}

export function productScenario(stack: LocalStack, data: BenchData): Scenario {
  const query = print(GetProductDocument);
  const bodies = data.productIds.map((id) => ({ id, body: GraphQLHttpClient.body(query, { id }) }));
  const headers = { 'x-api-key': stack.apiKey };
  return {
    name: 'product(id)',
    description: `GetProduct with the API key, ids cycling over ${bodies.length} seeded products`,
    focusFunction: 'catalog',
    request: (client) => async (index) => {
      const { id, body } = bodies[index % bodies.length]!;
      const response = await client.post(body, headers);
      const problem = graphqlProblem(response);
      if (problem) return problem;
      const product = (response.body?.data as GetProductQuery).product;
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
    focusFunction: 'catalog',
    request: (client) => async () => {
      const response = await client.post(body, headers);
      const problem = graphqlProblem(response);
      if (problem) return problem;
      const order = (response.body?.data as GetOrderWithProductsQuery).order;
      if (!order || order.id !== data.orderId) return `order: unexpected data ${JSON.stringify(order)?.slice(0, 200)}`;
      if (order.items.length !== data.orderItems) return `order has ${order.items.length} items, expected ${data.orderItems}`;
      const bad = order.items.find((item) => !item.product || item.product.id !== item.productId || typeof item.product.priceCents !== 'number');
      if (bad) return `order item ${bad.productId} resolved to ${JSON.stringify(bad.product)}`;
      return null;
    },
  };
}

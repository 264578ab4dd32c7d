import { print } from 'graphql';
import {
  GetOrderWithProductsDocument,
  GetProductDocument,
  type GetOrderWithProductsQuery,
  type GetProductQuery,
} from '../generated/client/graphql.js';
import { graphqlProblem, type GraphQLHttpResponse } from './http-client.js';

/**
 * The load scenarios of the runtime/yoga comparison: each one is a list of
 * requests (pre-serialized bodies and their headers) and, per request, a
 * check of the whole answer — status, absence of `errors`, and the data
 * shape — because a fast error is not a result. The check runs on the
 * answers fetched before and after each load run; during the run every
 * answer must equal, byte for byte, the checked one (bench/peer/compare.ts).
 */

export interface ScenarioRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A problem description, or null when the answer is right. */
  readonly check: (response: GraphQLHttpResponse) => string | null;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly requests: readonly ScenarioRequest[];
}

/** What the scenarios need to know about the seeded data and the server's credentials. */
export interface ScenarioData {
  readonly apiKey: string;
  readonly productIds: readonly string[];
  readonly orderId: string;
  readonly orderItems: number;
  readonly ownerToken: string;
}

const body = (query: string, variables: Record<string, unknown>): string => JSON.stringify({ query, variables });

export function productProblem(id: string, response: GraphQLHttpResponse): string | null {
  const problem = graphqlProblem(response);
  if (problem) return problem;
  const product = (response.body?.data as GetProductQuery | undefined)?.product;
  if (!product || product.id !== id || typeof product.name !== 'string' || typeof product.rating?.count !== 'number') {
    return `product ${id}: unexpected data ${JSON.stringify(product)?.slice(0, 200)}`;
  }
  return null;
}

export function orderProblem(orderId: string, orderItems: number, response: GraphQLHttpResponse): string | null {
  const problem = graphqlProblem(response);
  if (problem) return problem;
  const order = (response.body?.data as GetOrderWithProductsQuery | undefined)?.order;
  if (!order || order.id !== orderId) return `order: unexpected data ${JSON.stringify(order)?.slice(0, 200)}`;
  if (order.items.length !== orderItems) return `order has ${order.items.length} items, expected ${orderItems}`;
  const bad = order.items.find(
    (item) => !item.product || item.product.id !== item.productId || typeof item.product.priceCents !== 'number',
  );
  if (bad) return `order item ${bad.productId} resolved to ${JSON.stringify(bad.product)}`;
  return null;
}

export function productScenario(data: ScenarioData): Scenario {
  const query = print(GetProductDocument);
  const headers = { 'content-type': 'application/json', 'x-api-key': data.apiKey };
  return {
    name: 'product(id)',
    description: `GetProduct with the API key, ids cycling over ${data.productIds.length} seeded products`,
    requests: data.productIds.map((id) => ({ body: body(query, { id }), headers, check: (response) => productProblem(id, response) })),
  };
}

export function orderWithProductsScenario(data: ScenarioData): Scenario {
  const headers = { 'content-type': 'application/json', authorization: data.ownerToken };
  return {
    name: 'order+products',
    description: `GetOrderWithProducts as the owner: ${data.orderItems} items, OrderItem.product resolved by BatchInvoke`,
    requests: [
      {
        body: body(print(GetOrderWithProductsDocument), { id: data.orderId }),
        headers,
        check: (response) => orderProblem(data.orderId, data.orderItems, response),
      },
    ],
  };
}

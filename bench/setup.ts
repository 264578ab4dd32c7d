import { print } from 'graphql';
import type { LocalStack } from '../local/runtime.js';
import { seedCatalog, sampleProducts } from '../local/seed.js';
import { PlaceOrderDocument, type PlaceOrderMutation, type PlaceOrderMutationVariables } from '../generated/client/graphql.js';
import { GraphQLHttpClient, graphqlProblem } from './http-client.js';

/**
 * The data the scenarios read: seeded products (written straight to the
 * table, as `npm run dev --seed` does) and one big order placed through the
 * API as a signed-in customer, so it is exactly what placeOrder stores.
 */

export interface BenchData {
  readonly productIds: string[];
  readonly orderId: string;
  readonly orderItems: number;
  readonly distinctProducts: number;
  /** Username (= sub) of the customer owning the order. */
  readonly owner: string;
  /** That customer's ID token, for the order scenario. */
  readonly ownerToken: string;
}

export interface SetupOptions {
  readonly products: number;
  readonly orderLines: number;
  readonly distinctProducts: number;
}

export async function prepareData(stack: LocalStack, options: SetupOptions): Promise<BenchData> {
  const count = await seedCatalog(stack, options.products);
  const productIds = sampleProducts(count).map((p) => p.id);
  if (options.distinctProducts > productIds.length) throw new Error('Not enough seeded products for the order');

  // Lines cycle over the first `distinctProducts` products with quantity 1:
  // 100 lines over 50 products takes 2 of each, well within the seeded stock
  // of 100, and stays under placeOrder's limits (100 lines, 99 distinct
  // products per TransactWriteItems).
  const variables: PlaceOrderMutationVariables = {
    input: {
      clientToken: `bench-${Date.now()}`,
      items: Array.from({ length: options.orderLines }, (_, i) => ({ productId: productIds[i % options.distinctProducts]!, quantity: 1 })),
    },
  };
  const owner = 'bench-customer';
  const ownerToken = stack.userPool.mint({ username: owner, sub: owner, groups: [] });
  const client = new GraphQLHttpClient(stack.graphqlUrl, { maxSockets: 1 });
  try {
    const response = await client.post(GraphQLHttpClient.body(print(PlaceOrderDocument), variables), { authorization: ownerToken });
    const problem = graphqlProblem(response);
    if (problem) throw new Error(`placeOrder failed: ${problem}`);
    const order = (response.body?.data as PlaceOrderMutation | undefined)?.placeOrder;
    if (!order || order.items.length !== options.orderLines || order.customerId !== owner) {
      throw new Error(`placeOrder returned ${order?.items.length} items for ${order?.customerId}`);
    }
    return {
      productIds,
      orderId: order.id,
      orderItems: order.items.length,
      distinctProducts: new Set(order.items.map((item) => item.productId)).size,
      owner,
      ownerToken,
    };
  } finally {
    client.close();
  }
}

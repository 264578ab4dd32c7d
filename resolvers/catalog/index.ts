import { createDocumentClient } from '../../lib/dynamodb.js';
import { requirePrivileged } from '../../lib/identity.js';
import { toProduct } from '../../lib/model.js';
import { openProducts } from '../../lib/products/index.js';
import { createResolverHandler } from '../../lib/resolver-handler.js';
import { functions } from '../../declarations/functions.js';

// Init once per execution environment, outside the handler.
const db = createDocumentClient();
// Reads, writes and the product cache's coherence (lib/products/); item reads go to DAX in DAX mode.
const products = await openProducts({ db });

export const handler = createResolverHandler(functions.catalog, {
  'Query.product': async ({ id }) => {
    const item = await products.get(id);
    return item ? toProduct(item) : null;
  },

  'Query.products': async ({ category, limit, nextToken }) => {
    const page = await products.page({ category, limit, nextToken });
    return { items: page.items.map(toProduct), nextToken: page.nextToken };
  },

  'Mutation.createProduct': async ({ input }, event) => {
    requirePrivileged(event.identity);
    return toProduct(await products.create(input));
  },

  'Mutation.updateProduct': async ({ input }, event) => {
    requirePrivileged(event.identity);
    return toProduct(await products.update(input));
  },

  'Mutation.adjustStock': async ({ id, delta }, event) => {
    requirePrivileged(event.identity);
    return toProduct(await products.adjustStock(id, delta));
  },

  // BatchInvoke: one MGET for every order line of the request, one BatchGetItem round for the misses.
  'OrderItem.product': async (events) => {
    const ids = events.map((event) => event.source.productId);
    // Order lines were validated when placed; anything else is answered as a missing product, not sent to DynamoDB.
    const items = await products.getMany(ids);
    return ids.map((id) => {
      const item = items.get(id);
      return item ? toProduct(item) : null;
    });
  },
});

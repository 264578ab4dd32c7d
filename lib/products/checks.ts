import { tableName } from '../dynamodb.js';
import type { TransactAction } from './stock.js';

export interface ProductChecks {
  /** A ConditionCheck that the product exists: it writes nothing to the product, so no cache is involved. */
  exists(id: string): TransactAction;
}

/**
 * Conditions on a product for another table's transaction, which write
 * nothing to it (addReview puts a review only for a product that exists).
 * Kept apart from the rest of the module so a function that only checks
 * (reviews) does not bundle the cache. Create at module load: the table name
 * is resolved then, so a missing variable fails the environment's init.
 */
export function productChecks(table: string = tableName('products')): ProductChecks {
  return {
    exists: (id) => ({ ConditionCheck: { TableName: table, Key: { id }, ConditionExpression: 'attribute_exists(id)' } }),
  };
}

import { fieldRoutes, projectDeclarations, type Declarations } from '../declarations/check.js';
import type { RouteFacts } from './model.js';
import { defaultWorkload, type Workload } from './workload.js';

/**
 * The routes the cost model prices, from the one checker: on top of the
 * checks every consumer makes, each routed field must have an entry in the
 * workload's `fieldAccess`, or its DynamoDB traffic would silently cost nothing.
 */
export function pricedRoutes(
  declarations: Declarations = projectDeclarations(),
  workload: Workload = defaultWorkload,
): Map<string, RouteFacts> {
  return fieldRoutes(declarations, { costModelFields: Object.keys(workload.fieldAccess) });
}

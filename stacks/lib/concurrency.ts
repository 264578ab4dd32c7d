import { UNRESERVED_CONCURRENCY_MINIMUM, type EnvironmentConfig, type FunctionConcurrency } from '../config.js';
import type { StackFunctionDeclaration } from '../declarations.js';

/**
 * Each function's concurrency: the environment's `concurrency` entry first,
 * then the declaration's `reservedConcurrency`, then, when the environment has
 * a `reservedConcurrency` budget, a size from the declaration's kind. With a
 * budget every function ends up reserved, and the sum must leave Lambda's
 * unreserved minimum of the account quota, or synth refuses: AWS would refuse
 * the last PutFunctionConcurrency at apply time, half-way through a deploy.
 */
export function concurrencyPlan(
  declarations: Readonly<Record<string, StackFunctionDeclaration>>,
  config: Pick<EnvironmentConfig, 'concurrency' | 'reservedConcurrency'>,
): Map<string, FunctionConcurrency> {
  const plan = new Map<string, FunctionConcurrency>();
  const budget = config.reservedConcurrency;
  for (const [name, declaration] of Object.entries(declarations)) {
    const { reserved, provisioned } = effectiveConcurrency(name, declaration, config);
    const sized = reserved ?? (budget ? sizedByKind(declaration, budget.perKind) : undefined);
    if (sized !== undefined && provisioned !== undefined && provisioned > sized) {
      throw new Error(`${name}: provisioned concurrency (${provisioned}) exceeds reserved concurrency (${sized})`);
    }
    plan.set(name, { reserved: sized, provisioned });
  }
  if (budget) {
    const total = [...plan.values()].reduce((sum, { reserved }) => sum + (reserved ?? 0), 0);
    const available = budget.accountLimit - UNRESERVED_CONCURRENCY_MINIMUM;
    if (total > available) {
      const parts = [...plan].map(([name, { reserved }]) => `${name} ${reserved}`).join(', ');
      throw new Error(
        `Reserved concurrency ${total} (${parts}) exceeds the account limit ${budget.accountLimit} less the ${UNRESERVED_CONCURRENCY_MINIMUM} Lambda keeps unreserved (${available}); lower reservedConcurrency.perKind or raise the quota and accountLimit`,
      );
    }
  }
  return plan;
}

/**
 * A resolver or the authorizer gets its kind's share. A stream function's
 * mappings run at most one batch per shard at a time (parallelization factor
 * 1), so it gets its kind's share per declared event source.
 */
function sizedByKind(
  declaration: StackFunctionDeclaration,
  perKind: NonNullable<EnvironmentConfig['reservedConcurrency']>['perKind'],
): number {
  return declaration.kind === 'stream' ? perKind.stream * declaration.eventSources.length : perKind[declaration.kind];
}

/** The environment's override, else the declaration's `reservedConcurrency`; provisioned only ever from the environment. */
export function effectiveConcurrency(
  name: string,
  declaration: Pick<StackFunctionDeclaration, 'reservedConcurrency'>,
  config: Pick<EnvironmentConfig, 'concurrency'>,
): FunctionConcurrency {
  const override = (config.concurrency as Readonly<Partial<Record<string, FunctionConcurrency>>>)[name];
  const reserved = override?.reserved ?? declaration.reservedConcurrency;
  const provisioned = override?.provisioned;
  if (reserved !== undefined && provisioned !== undefined && provisioned > reserved) {
    throw new Error(`${name}: provisioned concurrency (${provisioned}) exceeds reserved concurrency (${reserved})`);
  }
  return { reserved, provisioned };
}

/**
 * declarations/check.ts: the one checker of the declarations, and proof that
 * every consumer runs it — the local runtime at start, the stacks at synth,
 * the cost model before pricing (the benchmark starts the local runtime, so it
 * is covered by the runtime's case). Each bad declaration is refused by each.
 */
import { describe, expect, it } from 'vitest';
import { checkDeclarations, DeclarationError, MAX_BATCH_SIZE } from '../../declarations/check.js';
import { functions } from '../../declarations/functions.js';
import { pricedRoutes } from '../../cost/routes.js';
import { defaultWorkload } from '../../cost/workload.js';
import { startLocalStack } from '../../local/runtime.js';
import { environments } from '../../stacks/config.js';
import { defaultDeclarations, type StackDeclarations } from '../../stacks/declarations.js';
import { synthStacks } from '../stacks/support/synth.js';

/** The project's declarations as the stacks take them (a superset of what the checker reads). */
const base = defaultDeclarations();

/** The project's declarations with one mistake each. */
const mistakes: Record<string, { declarations: StackDeclarations; problem: RegExp }> = {
  'a route to a field the schema lacks': {
    declarations: {
      ...base,
      functions: { ...base.functions, catalog: { ...functions.catalog, fields: { ...functions.catalog.fields, 'Query.nope': {} } } },
    },
    problem: /routes Query\.nope, which the schema lacks/,
  },
  "a maxBatchSize over AppSync's bound": {
    declarations: {
      ...base,
      functions: {
        ...base.functions,
        catalog: { ...functions.catalog, fields: { ...functions.catalog.fields, 'OrderItem.product': { maxBatchSize: 5000 } } },
      },
    },
    problem: new RegExp(`OrderItem\\.product: maxBatchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, not 5000`),
  },
  "a cached field outliving its tables' staleness bound": {
    declarations: {
      ...base,
      functions: {
        ...base.functions,
        catalog: {
          ...functions.catalog,
          fields: {
            ...functions.catalog.fields,
            'Query.product': { cachingConfig: { ttlSeconds: 60, cachingKeys: ['$context.arguments.id'] } },
          },
        },
      },
    },
    problem: /Query\.product cachingConfig: ttlSeconds 60 exceeds the 10 s staleness bound of the products table/,
  },
  'a cognito group the API does not declare': {
    declarations: { ...base, schemaSDL: base.schemaSDL.replaceAll('cognito_groups: ["admin"]', 'cognito_groups: ["admins"]') },
    problem: /allows cognito group "admins", which the API does not declare \(declared: admin\)/,
  },
};

describe('checkDeclarations', () => {
  it("accepts the project's declarations and returns every routed field once", () => {
    const routes = checkDeclarations(base);
    const routed = Object.values(functions).flatMap((declaration) => ('fields' in declaration ? Object.keys(declaration.fields) : []));
    expect(routes.map((route) => route.coordinate).sort()).toEqual([...routed].sort());
    expect(routes.find((route) => route.coordinate === 'OrderItem.product')).toMatchObject({ functionName: 'catalog', maxBatchSize: 100 });
  });

  it('reports every problem at once', () => {
    const everything: StackDeclarations = {
      ...mistakes['a route to a field the schema lacks']!.declarations,
      schemaSDL: mistakes['a cognito group the API does not declare']!.declarations.schemaSDL,
    };
    const error = (() => {
      try {
        checkDeclarations(everything);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DeclarationError);
    expect((error as DeclarationError).problems).toHaveLength(1 + 4); // the route, and each of the four admin-only fields
  });

  it('refuses a field served by two functions, and a coordinate that is not Type.field', () => {
    const twice = {
      ...base,
      functions: { ...base.functions, reviews: { ...functions.reviews, fields: { ...functions.reviews.fields, 'Query.product': {} } } },
    };
    expect(() => checkDeclarations(twice)).toThrow(/Query\.product is served by both catalog and reviews/);
    const malformed = { ...base, functions: { ...base.functions, catalog: { ...functions.catalog, fields: { 'Query.product.id': {} } } } };
    expect(() => checkDeclarations(malformed)).toThrow(/not a Type\.field coordinate/);
  });

  it('with the cost model: refuses a routed field without a cost entry', () => {
    const { 'Query.product': _priced, ...rest } = defaultWorkload.fieldAccess;
    expect(() => pricedRoutes(base, { ...defaultWorkload, fieldAccess: rest })).toThrow(
      /Query\.product is routed but has no cost-model entry/,
    );
    expect(pricedRoutes(base).size).toBe(checkDeclarations(base).length);
  });
});

describe.each(Object.entries(mistakes))('%s is refused by every consumer', (_name, { declarations, problem }) => {
  it('the checker', () => {
    expect(() => checkDeclarations(declarations)).toThrow(problem);
  });

  it('the local runtime, at start, before starting anything', async () => {
    await expect(startLocalStack({ declarations })).rejects.toThrow(problem);
  });

  it('the stacks, at synth', () => {
    expect(() => synthStacks({ environments: [environments.dev], declarations })).toThrow(problem);
  });

  it('the cost model, before pricing', () => {
    expect(() => pricedRoutes(declarations)).toThrow(problem);
  });
});

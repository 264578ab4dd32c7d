/**
 * Issue 12's resolver caching: `cachingConfig` declared per routed field in the
 * function map, checked by the one checker against the schema and the cached
 * tables' staleness bound, and synthesized as `caching_config` on the resolvers
 * of an environment that caches per resolver (staging); the other behaviours
 * (full request, operation level) and the audit rules on the API cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDeclarations, MAX_CACHE_TTL_SECONDS } from '../../declarations/check.js';
import { functions, type FieldCachingConfig } from '../../declarations/functions.js';
import { tables } from '../../declarations/tables.js';
import { environments, validateEnvironment, type EnvironmentConfig } from '../../stacks/config.js';
import { defaultDeclarations, type StackDeclarations } from '../../stacks/declarations.js';
import { auditStack } from './support/policy-audit.js';
import { fakeArtifacts, ref, removeTempDirs, requireStack, resources, synthStacks, type TerraformJson } from './support/synth.js';

const base = defaultDeclarations();
const artifacts = fakeArtifacts(Object.keys(base.functions));
let stacks: Map<string, TerraformJson>;

beforeAll(() => {
  const synthesized = synthStacks({ artifacts, declarations: base });
  stacks = new Map([...synthesized].map(([name, stack]) => [name, stack.parsed]));
});
afterAll(removeTempDirs);

const stackNamed = (name: string): TerraformJson => {
  const stack = stacks.get(name);
  if (!stack) throw new Error(`No stack ${name}`);
  return stack;
};
type Body = Record<string, unknown>;
/** Resolvers by `Type.field`. */
const resolvers = (stack: TerraformJson): Map<string, Body> =>
  new Map(resources(stack, 'aws_appsync_resolver').map(([, body]) => [`${String(body.type)}.${String(body.field)}`, body]));

/** The project's declarations with one field of the catalog routed with `cachingConfig`. */
function catalogCaching(coordinate: string, cachingConfig: FieldCachingConfig): StackDeclarations {
  return {
    ...base,
    functions: {
      ...base.functions,
      catalog: { ...functions.catalog, fields: { ...functions.catalog.fields, [coordinate]: { cachingConfig } } },
    },
  };
}

const problemsOf = (declarations: StackDeclarations): string[] => {
  try {
    checkDeclarations(declarations);
    return [];
  } catch (error) {
    return [...((error as { problems?: string[] }).problems ?? [(error as Error).message])];
  }
};

describe('cachingConfig in the function map', () => {
  it('caches Query.product by its id, within the products staleness bound', () => {
    const route = checkDeclarations(base).find((candidate) => candidate.coordinate === 'Query.product');
    expect(route?.cachingConfig).toEqual({ ttlSeconds: 5, cachingKeys: ['$context.arguments.id'] });
    expect(route?.cachingConfig?.ttlSeconds ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(tables.products.cache.maxStalenessMs / 1000);
  });

  it('refuses a TTL above the staleness bound of a cached table the function reads, or outside AppSync’s 1 to 3,600', () => {
    expect(problemsOf(catalogCaching('Query.product', { ttlSeconds: 11, cachingKeys: ['$context.arguments.id'] }))).toEqual([
      'Query.product cachingConfig: ttlSeconds 11 exceeds the 10 s staleness bound of the products table (declarations/tables.ts cache.maxStalenessMs)',
    ]);
    expect(problemsOf(catalogCaching('Query.product', { ttlSeconds: 0, cachingKeys: ['$context.arguments.id'] }))).toEqual([
      `Query.product cachingConfig: ttlSeconds must be an integer from 1 to ${MAX_CACHE_TTL_SECONDS}, not 0`,
    ]);
    // A tighter bound on the table tightens the field's.
    const tighter = {
      ...catalogCaching('Query.product', { ttlSeconds: 5, cachingKeys: ['$context.arguments.id'] }),
      tables: { ...tables, products: { ...tables.products, cache: { ...tables.products.cache, maxStalenessMs: 3_000 } } },
    };
    expect(problemsOf(tighter)).toEqual([expect.stringContaining('ttlSeconds 5 exceeds the 3 s staleness bound of the products table')]);
  });

  it('refuses caching a field whose function reads no table with a cache policy: nothing bounds its staleness', () => {
    const uncached = {
      ...base,
      functions: {
        ...base.functions,
        orders: {
          ...functions.orders,
          tables: { orders: 'readwrite' as const },
          fields: {
            ...functions.orders.fields,
            'Query.order': { cachingConfig: { ttlSeconds: 5, cachingKeys: ['$context.arguments.id'] } },
          },
        },
      },
    };
    expect(problemsOf(uncached)).toEqual([expect.stringMatching(/^Query\.order cachingConfig: orders reads no table with a cache policy/)]);
  });

  it('refuses caching keys that name arguments the field lacks, and arguments left out of the keys', () => {
    expect(problemsOf(catalogCaching('Query.product', { ttlSeconds: 5, cachingKeys: ['$context.arguments.productId'] }))).toEqual([
      'Query.product cachingConfig: caching key $context.arguments.productId names argument productId, which Query.product does not have (arguments: id)',
      'Query.product cachingConfig: argument id is not a caching key, so calls differing only in it would share one cached result',
    ]);
    expect(
      problemsOf(
        catalogCaching('Query.products', { ttlSeconds: 5, cachingKeys: ['$context.arguments.category', '$context.arguments.limit'] }),
      ),
    ).toEqual([
      'Query.products cachingConfig: argument nextToken is not a caching key, so calls differing only in it would share one cached result',
    ]);
    expect(
      problemsOf(
        catalogCaching('Query.products', {
          ttlSeconds: 5,
          cachingKeys: ['$context.arguments.category', '$context.arguments.limit', '$context.arguments.nextToken', '$context.identity.sub'],
        }),
      ),
    ).toEqual([]);
  });

  it('refuses keys outside arguments, source and identity, unknown source fields and identity attributes, and duplicates', () => {
    expect(
      problemsOf(
        catalogCaching('Query.product', {
          ttlSeconds: 5,
          cachingKeys: ['$context.arguments.id', '$context.arguments.id', '$context.request.headers.x', '$context.identity.tenant'],
        }),
      ),
    ).toEqual([
      'Query.product cachingConfig: caching key $context.arguments.id is listed twice',
      'Query.product cachingConfig: caching key $context.request.headers.x is not $context.arguments.<name>, $context.source.<name> or $context.identity.<name>',
      'Query.product cachingConfig: caching key $context.identity.tenant names identity attribute tenant, which AppSync does not set',
    ]);
    expect(problemsOf(catalogCaching('OrderItem.product', { ttlSeconds: 5, cachingKeys: ['$context.source.sku'] }))).toEqual([
      'OrderItem.product cachingConfig: caching key $context.source.sku names OrderItem.sku, which the schema lacks',
    ]);
    expect(problemsOf(catalogCaching('OrderItem.product', { ttlSeconds: 5, cachingKeys: ['$context.source.productId'] }))).toEqual([]);
  });

  it('refuses caching a mutation', () => {
    expect(
      problemsOf(
        catalogCaching('Mutation.adjustStock', { ttlSeconds: 5, cachingKeys: ['$context.arguments.id', '$context.arguments.delta'] }),
      ),
    ).toEqual(['Mutation.adjustStock cachingConfig: AppSync caches query results only, not a Mutation field']);
  });
});

describe('resolver caching in the stacks', () => {
  it('staging caches per resolver: an encrypted cache, and caching_config on exactly the declared fields', () => {
    const staging = stackNamed('staging');
    const [[cacheId, cache]] = resources(staging, 'aws_appsync_api_cache') as [[string, Body]];
    expect(cache).toMatchObject({
      api_caching_behavior: 'PER_RESOLVER_CACHING',
      type: 'SMALL',
      at_rest_encryption_enabled: true,
      transit_encryption_enabled: true,
    });
    const cached = [...resolvers(staging)].filter(([, body]) => body.caching_config !== undefined);
    expect(cached.map(([coordinate]) => coordinate)).toEqual(['Query.product']);
    expect(cached[0]?.[1]).toMatchObject({
      caching_config: { ttl: 5, caching_keys: ['$context.arguments.id'] },
      depends_on: [`aws_appsync_api_cache.${cacheId}`],
    });
    expect(auditStack(staging)).toEqual([]);
  });

  it('dev and prod have no AppSync cache, so no resolver names one', () => {
    for (const name of ['dev', 'prod']) {
      const stack = stackNamed(name);
      expect(resources(stack, 'aws_appsync_api_cache'), name).toEqual([]);
      expect(
        [...resolvers(stack).values()].filter((body) => body.caching_config !== undefined),
        name,
      ).toEqual([]);
    }
  });

  it('offers the operation-level and full-request behaviours, where AppSync decides what is cached for the API-wide TTL', () => {
    const configs = (['OPERATION_LEVEL_CACHING', 'FULL_REQUEST_CACHING'] as const).map(
      (behavior): EnvironmentConfig => ({
        ...environments.dev,
        name: behavior === 'OPERATION_LEVEL_CACHING' ? 'staging' : 'prod',
        api: { ...environments.dev.api, cache: { type: 'SMALL', behavior, ttlSeconds: 10 } },
      }),
    );
    const synthesized = synthStacks({ artifacts, declarations: base, environments: configs });
    for (const [name, behavior] of [
      ['staging', 'OPERATION_LEVEL_CACHING'],
      ['prod', 'FULL_REQUEST_CACHING'],
    ] as const) {
      const stack = requireStack(synthesized, name).parsed;
      const [[, cache]] = resources(stack, 'aws_appsync_api_cache') as [[string, Body]];
      const [[apiId]] = resources(stack, 'aws_appsync_graphql_api') as [[string, Body]];
      expect(cache).toMatchObject({ api_caching_behavior: behavior, ttl: 10, api_id: ref('aws_appsync_graphql_api', apiId, 'id') });
      expect(
        [...resolvers(stack).values()].filter((body) => body.caching_config !== undefined),
        behavior,
      ).toEqual([]);
    }
  });

  it('refuses an API-wide TTL above the products staleness bound, and a behaviour AppSync lacks', () => {
    const withCache = (cache: unknown) => () =>
      validateEnvironment({ ...environments.staging, api: { ...environments.staging.api, cache } } as EnvironmentConfig);
    expect(withCache({ type: 'SMALL', behavior: 'OPERATION_LEVEL_CACHING', ttlSeconds: 11 })).toThrow(
      /api\.cache\.ttlSeconds must be 1 to 10 \(the products' declared staleness bound\)/,
    );
    expect(withCache({ type: 'SMALL', behavior: 'PER_REQUEST_CACHING', ttlSeconds: 5 })).toThrow(
      /api\.cache\.behavior must be one of FULL_REQUEST_CACHING, PER_RESOLVER_CACHING, OPERATION_LEVEL_CACHING/,
    );
  });

  it('the audit fails an unencrypted API cache and a caching_config without a per-resolver cache', () => {
    const copy = structuredClone(stackNamed('staging')) as unknown as { resource: Record<string, Record<string, Body>> };
    const cache = Object.values(copy.resource.aws_appsync_api_cache ?? {})[0] as Body;
    cache.at_rest_encryption_enabled = false;
    cache.api_caching_behavior = 'FULL_REQUEST_CACHING';
    expect(auditStack(copy as unknown as TerraformJson).sort()).toEqual([
      expect.stringMatching(/^aws_appsync_api_cache\.\S+: API cache not encrypted at rest$/),
      expect.stringMatching(/^aws_appsync_resolver\.\S+: caching_config on an API without a PER_RESOLVER_CACHING cache$/),
    ]);
  });
});

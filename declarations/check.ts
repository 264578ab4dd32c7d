import {
  isObjectType,
  Kind,
  parse,
  visit,
  type ConstValueNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { api as projectApi, apiLimitsOf, lambdaAuthorizerOf, openIdConnectOf, type ApiDeclaration } from './api.js';
import {
  functions as projectFunctions,
  type FieldCachingConfig,
  type FieldRoute,
  type ResolvedField,
  type ResolverFunctionName,
} from './functions.js';
import { buildAppSyncSchema, loadSchemaSDL } from './schema.js';
import { tables as projectTables, type TableDeclaration } from './tables.js';

/**
 * The one checker of the declarations. Every consumer — the local runtime, the
 * stacks, the cost model, the benchmark (through the runtime) — calls
 * `checkDeclarations` and routes fields from what it returns, so a mistake
 * fails the same way everywhere, at start or synth, never at query time or
 * apply time. It reports every problem at once, not the first.
 */

/** What the checker reads: the function map (any `Type.field` strings, so a test may hand it a copy), the API, the schema. */
export interface Declarations {
  readonly functions: Readonly<
    Record<
      string,
      {
        readonly kind: string;
        readonly fields?: Readonly<Partial<Record<string, FieldRoute>>>;
        /** The tables the function reads: a cached field's TTL is bounded by theirs. */
        readonly tables?: Readonly<Partial<Record<string, string>>>;
      }
    >
  >;
  readonly api: ApiDeclaration;
  /** Exactly the text AppSync receives. */
  readonly schemaSDL: string;
  /** The table declarations whose cache policies bound cached fields; the project's when absent. */
  readonly tables?: Readonly<Record<string, TableDeclaration>>;
}

export interface CheckOptions {
  /** The cost model's field entries: each routed field must have one (the cost consumer passes them). */
  readonly costModelFields?: Iterable<string>;
}

/** One routed field, in declaration order. */
export interface Route {
  readonly coordinate: string;
  readonly functionName: string;
  readonly typeName: string;
  readonly fieldName: string;
  readonly maxBatchSize: number | undefined;
  readonly cachingConfig: FieldCachingConfig | undefined;
}

/** AppSync's bounds for a resolver's `maxBatchSize`. */
export const MAX_BATCH_SIZE = 2000;

/** AppSync's bounds for a resolver cache entry's TTL, in seconds. */
export const MAX_CACHE_TTL_SECONDS = 3600;

export class DeclarationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The declarations are inconsistent:\n- ${problems.join('\n- ')}`);
    this.name = 'DeclarationError';
  }
}

/** The project's own declarations, as every consumer uses them by default. */
export function projectDeclarations(): Declarations {
  return { functions: projectFunctions, api: projectApi, schemaSDL: loadSchemaSDL() };
}

/** Checks the declarations and returns the routed fields; throws a DeclarationError listing every problem. */
export function checkDeclarations(declarations: Declarations, options: CheckOptions = {}): Route[] {
  const problems: string[] = [];
  const schema = buildAppSyncSchema(declarations.schemaSDL);
  const routes: Route[] = [];
  const servedBy = new Map<string, string>();

  for (const [functionName, declaration] of Object.entries(declarations.functions)) {
    // Authorizers and stream functions serve requests and records, not fields.
    if (declaration.kind !== 'resolver') continue;
    for (const [coordinate, route] of Object.entries(declaration.fields ?? {})) {
      const previous = servedBy.get(coordinate);
      if (previous) {
        problems.push(`${coordinate} is served by both ${previous} and ${functionName}`);
        continue;
      }
      servedBy.set(coordinate, functionName);
      const [typeName, fieldName, ...rest] = coordinate.split('.');
      if (!typeName || !fieldName || rest.length > 0) {
        problems.push(`${functionName} routes ${coordinate}, which is not a Type.field coordinate`);
        continue;
      }
      const type = schema.getType(typeName);
      const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
      if (!field) problems.push(`Function ${functionName} routes ${coordinate}, which the schema lacks`);
      const maxBatchSize = route?.maxBatchSize;
      if (maxBatchSize !== undefined && (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > MAX_BATCH_SIZE)) {
        problems.push(`${coordinate}: maxBatchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, not ${maxBatchSize}`);
      }
      const cachingConfig = route?.cachingConfig;
      if (cachingConfig && field && isObjectType(type)) {
        const bound = stalenessBound(declaration.tables ?? {}, declarations.tables ?? projectTables);
        problems.push(...cachingProblems({ coordinate, functionName, schema, type, field, config: cachingConfig, bound }));
      }
      routes.push({ coordinate, functionName, typeName, fieldName, maxBatchSize, cachingConfig });
    }
  }

  const declaredGroups = new Set([declarations.api.adminGroup]);
  for (const { group, where } of schemaCognitoGroups(declarations.schemaSDL)) {
    if (!declaredGroups.has(group)) {
      problems.push(
        `${where} allows cognito group "${group}", which the API does not declare (declared: ${[...declaredGroups].join(', ')})`,
      );
    }
  }

  if (options.costModelFields) {
    const priced = new Set(options.costModelFields);
    for (const route of routes)
      if (!priced.has(route.coordinate))
        problems.push(`${route.coordinate} is routed but has no cost-model entry (cost/workload.ts fieldAccess)`);
  }

  for (const check of [
    () => apiLimitsOf(declarations.api),
    () => lambdaAuthorizerOf(declarations.api),
    () => openIdConnectOf(declarations.api),
  ]) {
    try {
      check();
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  if (problems.length > 0) throw new DeclarationError(problems);
  return routes;
}

/** The tightest staleness bound (seconds) among the cache policies of the tables a function reads, and whose it is. */
function stalenessBound(
  access: Readonly<Partial<Record<string, string>>>,
  tables: NonNullable<Declarations['tables']>,
): { seconds: number; table: string } | undefined {
  let tightest: { seconds: number; table: string } | undefined;
  for (const table of Object.keys(access)) {
    const maxStalenessMs = tables[table]?.cache?.maxStalenessMs;
    if (maxStalenessMs === undefined) continue;
    const seconds = Math.floor(maxStalenessMs / 1000);
    if (!tightest || seconds < tightest.seconds) tightest = { seconds, table };
  }
  return tightest;
}

/** What AppSync's `$context.identity` holds, across the auth modes (a caching key may name one of these). */
const IDENTITY_ATTRIBUTES = new Set([
  'sub',
  'username',
  'claims',
  'groups',
  'issuer',
  'sourceIp',
  'defaultAuthStrategy',
  'accountId',
  'userArn',
  'cognitoIdentityId',
  'cognitoIdentityPoolId',
  'resolverContext',
]);

const CACHING_KEY = /^\$context\.(arguments|source|identity)\.([A-Za-z_][A-Za-z0-9_]*)(\.[A-Za-z_][A-Za-z0-9_:-]*)*$/;

interface CachedField {
  readonly coordinate: string;
  readonly functionName: string;
  readonly schema: GraphQLSchema;
  readonly type: GraphQLObjectType;
  readonly field: GraphQLField<unknown, unknown>;
  readonly config: FieldCachingConfig;
  readonly bound: { seconds: number; table: string } | undefined;
}

/**
 * A cached field must be a read, live no longer than the staleness its tables
 * promise (AppSync expires an entry by TTL only), and be keyed on exactly what
 * its answer depends on: every argument, nothing the field does not have.
 */
function cachingProblems({ coordinate, functionName, schema, type, field, config, bound }: CachedField): string[] {
  const problems: string[] = [];
  const at = `${coordinate} cachingConfig`;
  if (type === schema.getMutationType() || type === schema.getSubscriptionType())
    problems.push(`${at}: AppSync caches query results only, not a ${type.name} field`);
  const { ttlSeconds, cachingKeys } = config;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_CACHE_TTL_SECONDS)
    problems.push(`${at}: ttlSeconds must be an integer from 1 to ${MAX_CACHE_TTL_SECONDS}, not ${ttlSeconds}`);
  if (!bound) {
    problems.push(
      `${at}: ${functionName} reads no table with a cache policy, so nothing bounds how stale a cached result may be (declare cache.maxStalenessMs in declarations/tables.ts)`,
    );
  } else if (ttlSeconds > bound.seconds) {
    problems.push(
      `${at}: ttlSeconds ${ttlSeconds} exceeds the ${bound.seconds} s staleness bound of the ${bound.table} table (declarations/tables.ts cache.maxStalenessMs)`,
    );
  }
  const keyedArguments = new Set<string>();
  const seen = new Set<string>();
  for (const key of cachingKeys) {
    if (seen.has(key)) problems.push(`${at}: caching key ${key} is listed twice`);
    seen.add(key);
    const match = CACHING_KEY.exec(key);
    if (!match) {
      problems.push(`${at}: caching key ${key} is not $context.arguments.<name>, $context.source.<name> or $context.identity.<name>`);
      continue;
    }
    const [, map, name = ''] = match;
    if (map === 'arguments') {
      if (!field.args.some((argument) => argument.name === name))
        problems.push(
          `${at}: caching key ${key} names argument ${name}, which ${coordinate} does not have (arguments: ${field.args.map((argument) => argument.name).join(', ') || 'none'})`,
        );
      keyedArguments.add(name);
    } else if (map === 'source' && !type.getFields()[name]) {
      problems.push(`${at}: caching key ${key} names ${type.name}.${name}, which the schema lacks`);
    } else if (map === 'identity' && !IDENTITY_ATTRIBUTES.has(name)) {
      problems.push(`${at}: caching key ${key} names identity attribute ${name}, which AppSync does not set`);
    }
  }
  for (const argument of field.args) {
    if (!keyedArguments.has(argument.name))
      problems.push(`${at}: argument ${argument.name} is not a caching key, so calls differing only in it would share one cached result`);
  }
  return problems;
}

/** Every `cognito_groups` value of an `@aws_cognito_user_pools` directive, with where it stands. */
function schemaCognitoGroups(sdl: string): Array<{ group: string; where: string }> {
  const found: Array<{ group: string; where: string }> = [];
  const path: string[] = [];
  const enter = (node: { name: { value: string } }) => void path.push(node.name.value);
  const leave = () => void path.pop();
  visit(parse(sdl), {
    ObjectTypeDefinition: { enter, leave },
    ObjectTypeExtension: { enter, leave },
    FieldDefinition: { enter, leave },
    Directive(node) {
      if (node.name.value !== 'aws_cognito_user_pools') return;
      const groups = node.arguments?.find((argument) => argument.name.value === 'cognito_groups')?.value;
      for (const value of listValues(groups)) if (value.kind === Kind.STRING) found.push({ group: value.value, where: path.join('.') });
    },
  });
  return found;
}

function listValues(value: ConstValueNode | undefined | { kind: string }): readonly ConstValueNode[] {
  if (!value) return [];
  if (value.kind === Kind.LIST) return (value as { values: readonly ConstValueNode[] }).values;
  return [value as ConstValueNode];
}

/** The routed fields by coordinate, checked: what the executor and the cost model route by. */
export function fieldRoutes(declarations: Declarations = projectDeclarations(), options: CheckOptions = {}): Map<string, ResolvedField> {
  const checked = checkDeclarations(declarations, options);
  // Checked against this map, so the names are the map's resolver functions.
  return new Map(checked.map((route) => [route.coordinate, { ...route, functionName: route.functionName as ResolverFunctionName }]));
}

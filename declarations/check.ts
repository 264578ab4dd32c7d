import { isObjectType, Kind, parse, visit, type ConstValueNode } from 'graphql';
import { api as projectApi, apiLimitsOf, lambdaAuthorizerOf, type ApiDeclaration } from './api.js';
import { functions as projectFunctions, type FieldRoute, type ResolvedField, type ResolverFunctionName } from './functions.js';
import { buildAppSyncSchema, loadSchemaSDL } from './schema.js';

/**
 * The one checker of the declarations. Every consumer — the local runtime, the
 * stacks, the cost model, the benchmark (through the runtime) — calls
 * `checkDeclarations` and routes fields from what it returns, so a mistake
 * fails the same way everywhere, at start or synth, never at query time or
 * apply time. It reports every problem at once, not the first.
 */

/** What the checker reads: the function map (any `Type.field` strings, so a test may hand it a copy), the API, the schema. */
export interface Declarations {
  readonly functions: Readonly<Record<string, { readonly kind: string; readonly fields?: Readonly<Partial<Record<string, FieldRoute>>> }>>;
  readonly api: ApiDeclaration;
  /** Exactly the text AppSync receives. */
  readonly schemaSDL: string;
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
}

/** AppSync's bounds for a resolver's `maxBatchSize`. */
export const MAX_BATCH_SIZE = 2000;

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
      if (!isObjectType(type) || !type.getFields()[fieldName])
        problems.push(`Function ${functionName} routes ${coordinate}, which the schema lacks`);
      const maxBatchSize = route?.maxBatchSize;
      if (maxBatchSize !== undefined && (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > MAX_BATCH_SIZE)) {
        problems.push(`${coordinate}: maxBatchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, not ${maxBatchSize}`);
      }
      routes.push({ coordinate, functionName, typeName, fieldName, maxBatchSize });
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

  for (const check of [() => apiLimitsOf(declarations.api), () => lambdaAuthorizerOf(declarations.api)]) {
    try {
      check();
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  if (problems.length > 0) throw new DeclarationError(problems);
  return routes;
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

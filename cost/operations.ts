import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  Kind,
  parse,
  visit,
  type DocumentNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { repositoryRoot } from '../declarations/paths.js';
import { collectFields, fragmentsOf, type CollectContext } from '../local/graphql/collect-fields.js';
import { subscribeMutations } from '../local/graphql/directives.js';

/**
 * What one client operation makes AppSync resolve: each routed field
 * (`Type.field`) and how many times per request, following fragments and
 * multiplying by the assumed length of every list on the way. Selections are
 * walked with local/graphql's collectFields, the executor's rule set: no
 * variables here, so `@skip`/`@include` on a variable count the selection
 * (the upper bound), on a literal they decide.
 */

export interface OperationShape {
  readonly name: string;
  readonly operation: 'query' | 'mutation' | 'subscription';
  /** Root fields, e.g. `Mutation.placeOrder`. */
  readonly rootFields: readonly string[];
  /** Routed field → resolutions per request (a list of 20 products with a routed field: 20). */
  readonly resolutions: ReadonlyMap<string, number>;
}

export const operationsDirectory = join(repositoryRoot, 'operations');

export function loadOperationDocuments(directory = operationsDirectory): DocumentNode[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => parse(readFileSync(join(directory, file), 'utf8')));
}

export function operationShapes(
  schema: GraphQLSchema,
  documents: readonly DocumentNode[],
  listSizes: Readonly<Record<string, number>>,
  isRouted: (coordinate: string) => boolean,
): Map<string, OperationShape> {
  const definitions = documents.flatMap((document) => document.definitions);
  const fragments = fragmentsOf(documents);
  const context: CollectContext = { fragments, variables: {} };
  for (const definition of definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION && definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
    visit(definition, {
      FragmentSpread(spread) {
        if (!fragments.has(spread.name.value))
          throw new Error(`${definition.name?.value ?? 'An anonymous operation'}: unknown fragment ${spread.name.value}`);
      },
    });
  }
  const objectType = (name: string): GraphQLObjectType => {
    const type = schema.getType(name);
    if (!isObjectType(type)) throw new Error(`${name} is not an object type of the schema (interfaces and unions are not modelled)`);
    return type;
  };

  const shapes = new Map<string, OperationShape>();
  for (const definition of definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const name = definition.name?.value;
    if (!name) throw new Error('Anonymous operations cannot be given a share of the traffic; name them');
    const root = schema.getRootType(definition.operation);
    if (!root) throw new Error(`${name}: the schema has no ${definition.operation} type`);
    const resolutions = new Map<string, number>();
    const rootFields: string[] = [];

    const walk = (selectionSet: SelectionSetNode, parent: GraphQLObjectType, multiplier: number, atRoot: boolean): void => {
      for (const { node, typeCondition } of collectFields(context, selectionSet)) {
        const fieldName = node.name.value;
        if (fieldName.startsWith('__')) continue;
        const owner = typeCondition === undefined ? parent : objectType(typeCondition);
        const field = owner.getFields()[fieldName];
        if (!field) throw new Error(`${name}: ${owner.name}.${fieldName} is not in the schema`);
        const coordinate = `${owner.name}.${fieldName}`;
        if (atRoot) rootFields.push(coordinate);
        if (isRouted(coordinate)) resolutions.set(coordinate, (resolutions.get(coordinate) ?? 0) + multiplier);
        if (!node.selectionSet) continue;
        let length = 1;
        if (isListType(getNullableType(field.type))) {
          const size = listSizes[coordinate];
          if (size === undefined)
            throw new Error(`${name} traverses the list ${coordinate}: state its average length in the workload's listSizes`);
          length = size;
        }
        walk(node.selectionSet, objectType(getNamedType(field.type).name), multiplier * length, false);
      }
    };
    walk(definition.selectionSet, root, 1, true);
    shapes.set(name, { name, operation: definition.operation, rootFields, resolutions });
  }
  return shapes;
}

/**
 * `@aws_subscribe(mutations: [...])` of each subscription field: which mutations
 * publish to it, as `Type.field` coordinates, read by local/graphql/directives.ts
 * (the real-time publisher reads the same, so the cost of an update and what
 * the local stack delivers cannot disagree).
 */
export function subscriptionTriggers(schema: GraphQLSchema): Map<string, readonly string[]> {
  const subscription = schema.getSubscriptionType()?.name ?? 'Subscription';
  const mutation = schema.getMutationType()?.name ?? 'Mutation';
  const triggers = new Map<string, readonly string[]>();
  for (const [field, mutations] of subscribeMutations(schema)) {
    triggers.set(
      `${subscription}.${field}`,
      mutations.map((name) => `${mutation}.${name}`),
    );
  }
  return triggers;
}

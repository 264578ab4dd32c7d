import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  Kind,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { repositoryRoot } from '../declarations/paths.js';

/**
 * What one client operation makes AppSync resolve: each routed field
 * (`Type.field`) and how many times per request, following fragments and
 * multiplying by the assumed length of every list on the way.
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
  const fragments = new Map(
    definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((fragment) => [fragment.name.value, fragment]),
  );
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
      for (const selection of selectionSet.selections) {
        switch (selection.kind) {
          case Kind.FIELD: {
            const fieldName = selection.name.value;
            if (fieldName.startsWith('__')) continue;
            const field = parent.getFields()[fieldName];
            if (!field) throw new Error(`${name}: ${parent.name}.${fieldName} is not in the schema`);
            const coordinate = `${parent.name}.${fieldName}`;
            if (atRoot) rootFields.push(coordinate);
            if (isRouted(coordinate)) resolutions.set(coordinate, (resolutions.get(coordinate) ?? 0) + multiplier);
            if (!selection.selectionSet) continue;
            let length = 1;
            if (isListType(getNullableType(field.type))) {
              const size = listSizes[coordinate];
              if (size === undefined) throw new Error(`${name} traverses the list ${coordinate}: state its average length in the workload's listSizes`);
              length = size;
            }
            walk(selection.selectionSet, objectType(getNamedType(field.type).name), multiplier * length, false);
            break;
          }
          case Kind.INLINE_FRAGMENT:
            walk(selection.selectionSet, selection.typeCondition ? objectType(selection.typeCondition.name.value) : parent, multiplier, atRoot);
            break;
          case Kind.FRAGMENT_SPREAD: {
            const fragment = fragments.get(selection.name.value);
            if (!fragment) throw new Error(`${name}: unknown fragment ${selection.name.value}`);
            walk(fragment.selectionSet, objectType(fragment.typeCondition.name.value), multiplier, atRoot);
            break;
          }
        }
      }
    };
    walk(definition.selectionSet, root, 1, true);
    shapes.set(name, { name, operation: definition.operation, rootFields, resolutions });
  }
  return shapes;
}

/** `@aws_subscribe(mutations: [...])` of each subscription field: which mutations publish to it. */
export function subscriptionTriggers(schema: GraphQLSchema): Map<string, readonly string[]> {
  const triggers = new Map<string, readonly string[]>();
  const subscription = schema.getSubscriptionType();
  for (const field of Object.values(subscription?.getFields() ?? {})) {
    const directive = field.astNode?.directives?.find((d) => d.name.value === 'aws_subscribe');
    const argument = directive?.arguments?.find((a) => a.name.value === 'mutations');
    const mutations = argument?.value.kind === Kind.LIST ? argument.value.values.flatMap((v) => (v.kind === Kind.STRING ? [`Mutation.${v.value}`] : [])) : [];
    triggers.set(`${subscription?.name ?? 'Subscription'}.${field.name}`, mutations);
  }
  return triggers;
}

import {
  getDirectiveValues,
  getNamedType,
  getOperationAST,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

/**
 * mutation field → subscription fields it triggers, read from the schema's
 * `@aws_subscribe(mutations: [...])` directives (never listed by hand).
 * Fails at start, like AppSync's schema validation, when a directive names an
 * unknown mutation or one whose return type differs from the subscription's.
 */
export function subscriptionsByMutation(schema: GraphQLSchema): ReadonlyMap<string, readonly string[]> {
  const map = new Map<string, string[]>();
  const subscriptionType = schema.getSubscriptionType();
  if (!subscriptionType) return map;
  const mutationFields = schema.getMutationType()?.getFields() ?? {};
  for (const field of Object.values(subscriptionType.getFields())) {
    const directive = field.astNode?.directives?.find((d) => d.name.value === 'aws_subscribe');
    const mutations = directive?.arguments?.find((a) => a.name.value === 'mutations')?.value;
    if (!mutations) continue;
    const names = mutations.kind === 'ListValue' ? mutations.values : [mutations];
    for (const node of names) {
      if (node.kind !== 'StringValue') throw new Error(`@aws_subscribe on Subscription.${field.name} must list mutation names as strings`);
      const mutation = mutationFields[node.value];
      if (!mutation) throw new Error(`@aws_subscribe on Subscription.${field.name} names ${node.value}, which is not a Mutation field`);
      if (getNamedType(mutation.type).name !== getNamedType(field.type).name) {
        throw new Error(`Subscription.${field.name} returns ${getNamedType(field.type).name} but ${node.value} returns ${getNamedType(mutation.type).name}`);
      }
      const list = map.get(node.value) ?? [];
      if (!list.includes(field.name)) list.push(field.name);
      map.set(node.value, list);
    }
  }
  return map;
}

export interface MutationPublication {
  readonly mutationField: string;
  /** The field's value as the mutation request selected it, keyed by schema field names (aliases undone). */
  readonly result: Record<string, unknown>;
}

/**
 * What AppSync publishes after a mutation request: each root mutation field's
 * value as selected by the request. The response is keyed by aliases; the
 * subscription side needs field names (arguments compare against them and the
 * subscriber's own selection resolves them), so aliases are undone here.
 * Fields whose value is null (failed or absent) publish nothing.
 */
export function mutationPublications(
  document: DocumentNode,
  data: Readonly<Record<string, unknown>> | null | undefined,
  operationName?: string | null,
  variables?: Readonly<Record<string, unknown>> | null,
): MutationPublication[] {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation || operation.operation !== 'mutation' || !data) return [];
  const context: WalkContext = { fragments: fragmentsOf(document), variables: variables ?? {} };
  const publications: MutationPublication[] = [];
  for (const field of collectFields([operation.selectionSet], context)) {
    const value = data[field.alias?.value ?? field.name.value];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    publications.push({ mutationField: field.name.value, result: unalias(value, field, context) as Record<string, unknown> });
  }
  return publications;
}

interface WalkContext {
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly variables: Readonly<Record<string, unknown>>;
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === 'FragmentDefinition') fragments.set(definition.name.value, definition);
  }
  return fragments;
}

function included(node: FieldNode | SelectionSetNode['selections'][number], variables: Readonly<Record<string, unknown>>): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.['if'] === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.['if'] !== false;
}

function collectFields(selectionSets: readonly SelectionSetNode[], context: WalkContext, out: FieldNode[] = []): FieldNode[] {
  for (const selectionSet of selectionSets) {
    for (const selection of selectionSet.selections) {
      if (!included(selection, context.variables)) continue;
      if (selection.kind === 'Field') out.push(selection);
      else if (selection.kind === 'InlineFragment') collectFields([selection.selectionSet], context, out);
      else {
        const fragment = context.fragments.get(selection.name.value);
        if (fragment) collectFields([fragment.selectionSet], context, out);
      }
    }
  }
  return out;
}

function unalias(value: unknown, field: FieldNode, context: WalkContext): unknown {
  if (value === null || typeof value !== 'object' || !field.selectionSet) return value;
  if (Array.isArray(value)) return value.map((item) => unalias(item, field, context));
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const child of collectFields([field.selectionSet], context)) {
    const key = child.alias?.value ?? child.name.value;
    if (!(key in source)) continue;
    out[child.name.value] = merge(out[child.name.value], unalias(source[key], child, context));
  }
  return out;
}

/** The same field selected twice (e.g. under two aliases) contributes the union of its sub-selections. */
function merge(existing: unknown, incoming: unknown): unknown {
  if (existing === undefined) return incoming;
  if (Array.isArray(existing) && Array.isArray(incoming)) return existing.map((item, i) => merge(item, incoming[i]));
  if (isRecord(existing) && isRecord(incoming)) {
    const out: Record<string, unknown> = { ...existing };
    for (const [key, value] of Object.entries(incoming)) out[key] = merge(out[key], value);
    return out;
  }
  return existing;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

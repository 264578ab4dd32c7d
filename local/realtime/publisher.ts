import type { FieldNode, GraphQLSchema } from 'graphql';
import { collectFields, fragmentsOf, type CollectContext } from '../graphql/collect-fields.js';
import { subscribeMutations } from '../graphql/directives.js';
import type { MutationExecuted } from '../graphql/mutation-events.js';

/**
 * mutation field → subscription fields it triggers, from the schema's
 * `@aws_subscribe(mutations: [...])` directives as local/graphql/directives.ts
 * reads them (the cost model reads the same). Fails at start, like AppSync's
 * schema validation, when a directive names an unknown mutation or one whose
 * return type differs from the subscription's.
 */
export function subscriptionsByMutation(schema: GraphQLSchema): ReadonlyMap<string, readonly string[]> {
  const map = new Map<string, string[]>();
  for (const [subscriptionField, mutations] of subscribeMutations(schema)) {
    for (const mutation of mutations) {
      const list = map.get(mutation) ?? [];
      list.push(subscriptionField);
      map.set(mutation, list);
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
 * subscriber's own selection resolves them), so aliases are undone here, at
 * every depth, following the request's selections with local/graphql's
 * collectFields (fragments, `@skip`/`@include` with the request's variables).
 * Fields whose value is null (failed or absent) publish nothing.
 */
export function mutationPublications(event: MutationExecuted): MutationPublication[] {
  if (event.operation.operation !== 'mutation') return [];
  const context: CollectContext = { fragments: fragmentsOf(event.document), variables: event.variables };
  const publications: MutationPublication[] = [];
  for (const { node } of collectFields(context, event.operation.selectionSet)) {
    const value = event.data[node.alias?.value ?? node.name.value];
    if (!isRecord(value)) continue;
    publications.push({ mutationField: node.name.value, result: unalias(value, node, context) as Record<string, unknown> });
  }
  return publications;
}

function unalias(value: unknown, field: FieldNode, context: CollectContext): unknown {
  if (value === null || typeof value !== 'object' || !field.selectionSet) return value;
  if (Array.isArray(value)) return value.map((item) => unalias(item, field, context));
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const { node } of collectFields(context, field.selectionSet)) {
    const key = node.alias?.value ?? node.name.value;
    if (!(key in source)) continue;
    out[node.name.value] = merge(out[node.name.value], unalias(source[key], node, context));
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

import {
  GraphQLError,
  Kind,
  parse,
  validate,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { ApiLimits } from '../../declarations/api.js';
import { fragmentsOf } from './collect-fields.js';
import { QUERY_DEPTH_LIMIT_REACHED, resolverError } from './errors.js';

/**
 * What a document must pass before it runs, checked once per document text
 * (local/graphql/document-cache.ts caches the answer) for queries, mutations
 * and real-time subscriptions alike, and cheaply: every check here is linear
 * in the document (fragments are measured once each, counts saturate), and
 * graphql-js `validate`, whose OverlappingFieldsCanBeMerged rule is quadratic
 * in repeated fields (and was exponential through nested fragment spreads),
 * only sees documents whose expansion is bounded. Then the depth limit as
 * AppSync applies it while a request runs. Pure functions.
 *
 * These walks do not use `collectFields`: they run before validation (unknown
 * fragments, cycles) and before any variables exist (one answer per text), so
 * they count every selection, `@skip`/`@include` or not, and they measure
 * each fragment once rather than expanding it at every spread.
 *
 * How AppSync answers (its guide, "Configuring GraphQL run complexity, query
 * depth, and introspection"): introspection switched off is a validation
 * error; a field past the depth limit fails with `QueryDepthLimitReached`
 * (null, bubbling to its first nullable parent) while the rest resolves.
 */

/**
 * Parser protections, not AppSync settings. The token cap is graphql-java's
 * parser default (AppSync answers with graphql-java's validation messages);
 * the nesting cap keeps graphql-js's recursive parser far from the stack's
 * end (depth 2,000 overflowed it: a 500 instead of an answer), and bounds
 * every recursion below. It counts brackets ({, ( and [) and the longest
 * chain of fragments spreading fragments.
 */
export const MAX_TOKENS = 15_000;
export const MAX_NESTING = 128;
/**
 * Field selections once every fragment spread is expanded, summed over the
 * document's operations and fragments: what validation and execution walk.
 * GraphiQL's full introspection query expands to a few hundred.
 */
export const MAX_EXPANDED_FIELDS = 5_000;
/**
 * Pairs of same-named fields in a merged selection set, over the expanded
 * document: an upper bound on the comparisons OverlappingFieldsCanBeMerged
 * makes (1,000 copies of one field are 500,000 pairs, about half a second).
 */
export const MAX_MERGE_PAIRS = 20_000;

/** A document that passed every check and validation, with what requests need to enforce the rest. */
export interface PreparedQuery {
  readonly document: DocumentNode;
  /** Deepest field level of each operation, by name ('' for an anonymous one); root fields are level 1. */
  readonly depths: ReadonlyMap<string, number>;
}

export type Preparation =
  | { readonly ok: true; readonly query: PreparedQuery }
  | { readonly ok: false; readonly errors: readonly GraphQLError[] };

export interface QueryLimitOptions {
  readonly schema: GraphQLSchema;
  readonly limits: ApiLimits;
}

/**
 * Parses, checks and validates a document: nesting, tokens, fragment cycles,
 * expansion and repeated fields, introspection, then graphql-js `validate`.
 * Refusals are `ValidationError`s, as AppSync reports a document it cannot run.
 */
export function prepareQuery(query: string, options: QueryLimitOptions): Preparation {
  try {
    return prepare(query, options);
  } catch (error) {
    // The caps keep every recursion (the parser's, validation's, these checks') shallow; should one
    // still run out of stack, the answer is a refusal, never a 500.
    if (error instanceof RangeError) return refuse('Query is nested too deeply to process');
    throw error;
  }
}

function refuse(message: string): Preparation {
  return { ok: false, errors: [new GraphQLError(message)] };
}

function prepare(query: string, options: QueryLimitOptions): Preparation {
  if (maxNesting(query, MAX_NESTING) > MAX_NESTING) return refuse(`Query is nested more than ${MAX_NESTING} levels deep`);
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: MAX_TOKENS });
  } catch (error) {
    if (error instanceof GraphQLError) return { ok: false, errors: [error] };
    throw error;
  }
  const fragments = fragmentsOf(document);
  const facts = fragmentFacts(fragments);
  if (facts instanceof GraphQLError) return { ok: false, errors: [facts] };

  const roots = document.definitions.filter(
    (d): d is OperationDefinitionNode | FragmentDefinitionNode =>
      d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION,
  );
  let expanded = 0;
  for (const root of roots) expanded = saturated(expanded + measure(root.selectionSet, facts).size);
  if (expanded > MAX_EXPANDED_FIELDS) {
    return refuse(
      `Query selects ${describeCount(expanded)} fields once its fragments are expanded; at most ${MAX_EXPANDED_FIELDS} are accepted`,
    );
  }
  let pairs = 0;
  for (const root of roots) {
    pairs += mergePairs([root.selectionSet], fragments, MAX_MERGE_PAIRS - pairs);
    if (pairs > MAX_MERGE_PAIRS) break;
  }
  if (pairs > MAX_MERGE_PAIRS)
    return refuse(`Query repeats fields too often (more than ${MAX_MERGE_PAIRS} pairs of same-named fields to merge)`);

  if (!options.limits.introspection) {
    const introspection = introspectionFields(document);
    // AppSync with introspection disabled: graphql-java's FieldUndefined validation error.
    if (introspection.length > 0) {
      return {
        ok: false,
        errors: introspection.map(
          (field) =>
            new GraphQLError(
              `Validation error of type FieldUndefined: Field '${field.name.value}' in type 'Query' is undefined @ '${field.name.value}'`,
              { nodes: field },
            ),
        ),
      };
    }
  }

  let errors: readonly GraphQLError[];
  try {
    errors = validate(options.schema, document);
  } catch (error) {
    // graphql-js 16 throws from SingleFieldSubscriptionsRule on `@skip`/`@include(if: $v)` on a
    // subscription's root field (its collectFields has no variables): a refusal, not a 500.
    if (error instanceof GraphQLError) return { ok: false, errors: [error] };
    throw error;
  }
  if (errors.length > 0) return { ok: false, errors };
  const depths = new Map<string, number>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION)
      depths.set(definition.name?.value ?? '', measure(definition.selectionSet, facts).depth);
  }
  return { ok: true, query: { document, depths } };
}

/** The depth limit one operation of a prepared document runs with: set only when the operation selects fields past it. */
export function operationDepthLimit(
  query: PreparedQuery,
  operation: OperationDefinitionNode,
  limits: Pick<ApiLimits, 'queryDepthLimit'>,
): number | undefined {
  const depth = query.depths.get(operation.name?.value ?? '') ?? 0;
  return limits.queryDepthLimit > 0 && depth > limits.queryDepthLimit ? limits.queryDepthLimit : undefined;
}

/** A field's level in the response: the field names on its path (list indices aside). Root fields are level 1. */
export function fieldLevel(info: Pick<GraphQLResolveInfo, 'path'>): number {
  let level = 0;
  for (let path: GraphQLResolveInfo['path'] | undefined = info.path; path; path = path.prev) {
    if (typeof path.key === 'string') level += 1;
  }
  return level;
}

/** AppSync's field error for a field past the depth limit: the field is null, its subtree never resolved. */
export function depthLimitError(info: GraphQLResolveInfo, limit: number): GraphQLError {
  return resolverError(
    `Query depth limit of ${limit} reached: ${info.parentType.name}.${info.fieldName} is at depth ${fieldLevel(info)}`,
    QUERY_DEPTH_LIMIT_REACHED,
    null,
    info.fieldNodes,
  );
}

/**
 * The deepest bracket nesting of a GraphQL text, in one pass that skips
 * strings, block strings and comments; stops counting once past `stopAbove`.
 */
export function maxNesting(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < text.length && text.charCodeAt(i) !== 0x0a && text.charCodeAt(i) !== 0x0d) i += 1;
    } else if (c === 0x22 /* " */) {
      if (text.startsWith('"""', i)) {
        // Block string: ends at the next """ not escaped as \""".
        i += 3;
        while (i < text.length && !(text.startsWith('"""', i) && text.charCodeAt(i - 1) !== 0x5c)) i += 1;
        i += 2;
      } else {
        i += 1;
        while (i < text.length && text.charCodeAt(i) !== 0x22 && text.charCodeAt(i) !== 0x0a) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      }
    } else if (c === 0x7b || c === 0x28 || c === 0x5b /* { ( [ */) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if ((c === 0x7d || c === 0x29 || c === 0x5d) /* } ) ] */ && depth > 0) {
      depth -= 1;
    }
  }
  return deepest;
}

/** Counts at or beyond this are "too many"; saturating keeps 2^25 expansions (and 100^75 items) finite. */
const SATURATION = Number.MAX_SAFE_INTEGER;

export function saturated(n: number): number {
  return Math.min(n, SATURATION);
}

export function describeCount(n: number): string {
  return n >= SATURATION ? `more than ${SATURATION}` : String(n);
}

interface Measure {
  /** Field selections with every spread expanded (saturating). */
  readonly size: number;
  /** Deepest field level below (introspection subtrees left out: their resolvers are graphql-js's own). */
  readonly depth: number;
}

/**
 * Each fragment's expanded size and depth, computed once, dependencies first
 * (so nothing here recurses along fragment chains); a cycle, or a chain of
 * spreads longer than MAX_NESTING, is an error.
 */
function fragmentFacts(fragments: ReadonlyMap<string, FragmentDefinitionNode>): Map<string, Measure> | GraphQLError {
  const spreads = new Map<string, string[]>();
  for (const [name, fragment] of fragments)
    spreads.set(
      name,
      [...spreadNames(fragment.selectionSet)].filter((s) => fragments.has(s)),
    );
  const facts = new Map<string, Measure>();
  const chain = new Map<string, number>();
  const state = new Map<string, 'open' | 'done'>();
  for (const start of fragments.keys()) {
    if (state.has(start)) continue;
    // Iterative depth-first walk: a fragment is measured once all it spreads are.
    const stack: Array<{ name: string; next: number }> = [{ name: start, next: 0 }];
    state.set(start, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const deps = spreads.get(top.name)!;
      if (top.next < deps.length) {
        const dep = deps[top.next++]!;
        const seen = state.get(dep);
        if (seen === 'open') return new GraphQLError(`Cannot spread fragment "${dep}" within itself.`, { nodes: fragments.get(dep) });
        if (seen === undefined) {
          state.set(dep, 'open');
          stack.push({ name: dep, next: 0 });
        }
        continue;
      }
      stack.pop();
      state.set(top.name, 'done');
      const length = 1 + Math.max(0, ...deps.map((d) => chain.get(d)!));
      if (length > MAX_NESTING)
        return new GraphQLError(`Fragments spread each other more than ${MAX_NESTING} levels deep`, { nodes: fragments.get(top.name) });
      chain.set(top.name, length);
      facts.set(top.name, measure(fragments.get(top.name)!.selectionSet, facts));
    }
  }
  return facts;
}

function spreadNames(selectionSet: SelectionSetNode, into = new Set<string>()): Set<string> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FRAGMENT_SPREAD) into.add(selection.name.value);
    else if (selection.selectionSet) spreadNames(selection.selectionSet, into);
  }
  return into;
}

/** Expanded size and depth of a selection set, given its fragments' (unknown spreads count nothing). */
function measure(selectionSet: SelectionSetNode, facts: ReadonlyMap<string, Measure>): Measure {
  let size = 0;
  let depth = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const introspection = selection.name.value === '__schema' || selection.name.value === '__type';
      const below = selection.selectionSet ? measure(selection.selectionSet, facts) : { size: 0, depth: 0 };
      size = saturated(size + 1 + below.size);
      depth = Math.max(depth, introspection ? 1 : 1 + below.depth);
    } else {
      const inner =
        selection.kind === Kind.INLINE_FRAGMENT
          ? measure(selection.selectionSet, facts)
          : (facts.get(selection.name.value) ?? { size: 0, depth: 0 });
      size = saturated(size + inner.size);
      depth = Math.max(depth, inner.depth);
    }
  }
  return { size, depth };
}

/**
 * Pairs of fields sharing a response name in each merged selection set of the
 * expanded tree (fragments and inline fragments flattened, same-named fields'
 * sub-selections merged): every pair OverlappingFieldsCanBeMerged may compare.
 * Linear in the expansion, which MAX_EXPANDED_FIELDS bounds; stops past `budget`.
 */
function mergePairs(
  selectionSets: readonly SelectionSetNode[],
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  budget: number,
): number {
  const groups = new Map<string, FieldNode[]>();
  const collect = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const group = groups.get(key);
        if (group) group.push(selection);
        else groups.set(key, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  for (const selectionSet of selectionSets) collect(selectionSet);
  let pairs = 0;
  for (const fields of groups.values()) {
    pairs += (fields.length * (fields.length - 1)) / 2;
    if (pairs > budget) return pairs;
    const children = fields.flatMap((field) => (field.selectionSet ? [field.selectionSet] : []));
    if (children.length > 0) pairs += mergePairs(children, fragments, budget - pairs);
    if (pairs > budget) return pairs;
  }
  return pairs;
}

/** Every `__schema`/`__type` field of the document. */
function introspectionFields(document: DocumentNode): FieldNode[] {
  const found: FieldNode[] = [];
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') found.push(node);
    },
  });
  return found;
}

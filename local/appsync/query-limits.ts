import {
  getNamedType,
  GraphQLError,
  isAbstractType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  isNonNullType,
  Kind,
  parse,
  validate,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type GraphQLType,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { effectiveResolverCountLimit, type ApiLimits } from '../../declarations/api.js';
import { DEFAULT_PAGE_SIZE, MAX_ORDER_LINES, MAX_PAGE_SIZE } from '../../declarations/bounds.js';
import { QUERY_DEPTH_LIMIT_REACHED, resolverError, RESOLVER_EXECUTION_LIMIT_REACHED } from './errors.js';

/**
 * The request limits of declarations/api.ts, checked before anything runs, and cheaply:
 * every check here is linear in the document (fragments are measured once
 * each, counts saturate), and graphql-js `validate`, whose
 * OverlappingFieldsCanBeMerged rule is quadratic in repeated fields (and was
 * exponential through nested fragment spreads), only sees documents whose
 * expansion is bounded. Pure functions; the executor and the real-time
 * endpoint call them and cache what they answer.
 *
 * How AppSync answers (its guide, "Configuring GraphQL run complexity, query
 * depth, and introspection"): introspection switched off is a validation
 * error; a field past the depth limit fails with `QueryDepthLimitReached`
 * (null, bubbling to its first nullable parent) while the rest resolves;
 * resolvers past the count limit fail with `ResolverExecutionLimitReached`
 * and do not run. AppSync counts resolvers as it runs them; here the count is
 * a static upper bound, so a query that could exceed it is refused whole,
 * before any resolver runs (see `resolverBound`).
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

/**
 * How many items each list of the schema holds at most (declarations/bounds.ts): a
 * connection's `items` are bounded by its field's `limit` argument (default
 * and maximum page size), other lists by a fixed bound.
 */
export interface ListBounds {
  readonly pageSizeArgument: string;
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
  /** Lists that hold at most this many items whatever the arguments, by `Type.field`. */
  readonly fixed: Readonly<Record<string, number>>;
}

export const storefrontListBounds: ListBounds = {
  pageSizeArgument: 'limit',
  defaultPageSize: DEFAULT_PAGE_SIZE,
  maxPageSize: MAX_PAGE_SIZE,
  fixed: { 'Order.items': MAX_ORDER_LINES },
};

/** A document that passed every check and validation, with what requests need to enforce the rest. */
export interface PreparedQuery {
  readonly document: DocumentNode;
  /** Deepest field level of each operation, by name ('' for an anonymous one); root fields are level 1. */
  readonly depths: ReadonlyMap<string, number>;
}

export type Preparation = { readonly ok: true; readonly query: PreparedQuery } | { readonly ok: false; readonly errors: readonly GraphQLError[] };

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

  const roots = document.definitions.filter((d): d is OperationDefinitionNode | FragmentDefinitionNode => d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION);
  let expanded = 0;
  for (const root of roots) expanded = saturated(expanded + measure(root.selectionSet, facts).size);
  if (expanded > MAX_EXPANDED_FIELDS) {
    return refuse(`Query selects ${describeCount(expanded)} fields once its fragments are expanded; at most ${MAX_EXPANDED_FIELDS} are accepted`);
  }
  let pairs = 0;
  for (const root of roots) {
    pairs += mergePairs([root.selectionSet], fragments, MAX_MERGE_PAIRS - pairs);
    if (pairs > MAX_MERGE_PAIRS) break;
  }
  if (pairs > MAX_MERGE_PAIRS) return refuse(`Query repeats fields too often (more than ${MAX_MERGE_PAIRS} pairs of same-named fields to merge)`);

  if (!options.limits.introspection) {
    const introspection = introspectionFields(document);
    // AppSync with introspection disabled: graphql-java's FieldUndefined validation error.
    if (introspection.length > 0) {
      return {
        ok: false,
        errors: introspection.map((field) => new GraphQLError(`Validation error of type FieldUndefined: Field '${field.name.value}' in type 'Query' is undefined @ '${field.name.value}'`, { nodes: field })),
      };
    }
  }

  const errors = validate(options.schema, document);
  if (errors.length > 0) return { ok: false, errors };
  const depths = new Map<string, number>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) depths.set(definition.name?.value ?? '', measure(definition.selectionSet, facts).depth);
  }
  return { ok: true, query: { document, depths } };
}

/** What executing one operation of a prepared document must enforce as it runs. */
export interface Admission {
  /** Set when the operation selects fields past the depth limit: they fail with QueryDepthLimitReached. */
  readonly depthLimit: number | undefined;
  /** Resolver executions allowed (AppSync counts them as they run; so does the executor, as a backstop). */
  readonly resolverLimit: number;
}

export interface AdmissionOptions extends QueryLimitOptions {
  /** Routed fields by `Type.field`: each resolution of one is a resolver execution. */
  readonly routes: { has(coordinate: string): boolean };
  readonly listBounds?: ListBounds;
}

/**
 * The limits for one request: refuses the operation (ResolverExecutionLimitReached,
 * before any resolver runs) when it could run more resolvers than allowed,
 * else says what execution must still enforce.
 */
export function admitOperation(
  query: PreparedQuery,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  options: AdmissionOptions,
): Admission | readonly GraphQLError[] {
  const { queryDepthLimit } = options.limits;
  const resolverLimit = effectiveResolverCountLimit(options.limits);
  const bound = resolverBound(query.document, operation, variables ?? {}, { ...options, depthLimit: queryDepthLimit });
  if (bound > resolverLimit) {
    return [
      new GraphQLError(`Resolver execution limit reached: this query can run ${describeCount(bound)} resolvers and the API allows ${resolverLimit}`, {
        nodes: operation,
        extensions: { errorType: RESOLVER_EXECUTION_LIMIT_REACHED },
      }),
    ];
  }
  const depth = query.depths.get(operation.name?.value ?? '') ?? 0;
  return { depthLimit: queryDepthLimit > 0 && depth > queryDepthLimit ? queryDepthLimit : undefined, resolverLimit };
}

/**
 * An upper bound on the resolver executions an operation can cause, as
 * AppSync counts them: one per resolution of a routed field, so a routed field
 * under a list counts once per item (a BatchInvoke field too: AppSync runs its
 * resolver per item and batches the calls, so this is never fewer than the
 * invocations). Lists count their most items: a connection's `items` its
 * field's `limit` (default page size when absent, a variable's value, at most
 * the maximum page size), other lists their fixed bound (an undeclared list,
 * the maximum page size; the executor's running count backstops that).
 * Fields past the depth limit never resolve and count nothing; same-named
 * fields are counted each time (graphql merges them: an over-estimate).
 * Fragments are counted once per (fragment, page size, level); sums saturate.
 */
export function resolverBound(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  options: { readonly schema: GraphQLSchema; readonly routes: { has(coordinate: string): boolean }; readonly listBounds?: ListBounds; readonly depthLimit?: number },
): number {
  const { schema, routes } = options;
  const bounds = options.listBounds ?? storefrontListBounds;
  const depthLimit = options.depthLimit ?? 0;
  const fragments = fragmentsOf(document);
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const memo = new Map<string, number>();

  const routed = (parent: GraphQLCompositeType, field: string): boolean =>
    isAbstractType(parent) ? schema.getPossibleTypes(parent).some((type) => routes.has(`${type.name}.${field}`)) : routes.has(`${parent.name}.${field}`);

  const variable = (name: string): unknown => {
    if (Object.hasOwn(variables, name)) return variables[name];
    const defaultValue = operation.variableDefinitions?.find((d) => d.variable.name.value === name)?.defaultValue;
    return defaultValue?.kind === Kind.INT ? Number(defaultValue.value) : undefined;
  };

  /** Items a page-size argument lets through (its value or the default, never more than the maximum). */
  const pageSize = (field: FieldNode): number => {
    const argument = field.arguments?.find((a) => a.name.value === bounds.pageSizeArgument);
    let value: unknown = argument === undefined ? undefined : argument.value.kind === Kind.INT ? Number(argument.value.value) : argument.value.kind === Kind.VARIABLE ? variable(argument.value.name.value) : argument.value.kind === Kind.NULL ? null : NaN;
    if (value === undefined || value === null) value = bounds.defaultPageSize;
    // Anything else fails argument coercion before a resolver runs; count the worst case anyway.
    if (typeof value !== 'number' || !Number.isFinite(value)) return bounds.maxPageSize;
    return Math.min(Math.max(Math.trunc(value), 0), bounds.maxPageSize);
  };

  const countField = (field: FieldNode, parent: GraphQLCompositeType, page: number | undefined, level: number): number => {
    const name = field.name.value;
    // __typename and introspection run no resolver.
    if (name.startsWith('__') || !('getFields' in parent)) return 0;
    const definition = parent.getFields()[name];
    if (!definition) return 0;
    const fieldLevel = level + 1;
    if (depthLimit > 0 && fieldLevel > depthLimit) return 0;
    const own = routed(parent, name) ? 1 : 0;
    const type = getNamedType(definition.type);
    if (!field.selectionSet || !isCompositeType(type)) return own;
    const pageArgument = definition.args.some((a) => a.name === bounds.pageSizeArgument) ? pageSize(field) : undefined;
    const lists = listDepth(definition.type);
    const items = bounds.fixed[`${parent.name}.${name}`] ?? pageArgument ?? page ?? bounds.maxPageSize;
    const multiplier = lists === 0 ? 1 : saturated(items ** lists);
    // A connection's page size bounds its own item list, one level down, and nothing deeper.
    const children = count(field.selectionSet, type, lists === 0 ? pageArgument : undefined, fieldLevel);
    return saturated(own + saturated(multiplier * children));
  };

  const count = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, page: number | undefined, level: number): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        total = saturated(total + countField(selection, parent, page, level));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (isCompositeType(type)) total = saturated(total + count(selection.selectionSet, type, page, level));
      } else {
        const fragment = fragments.get(selection.name.value);
        const type = fragment && schema.getType(fragment.typeCondition.name.value);
        if (!fragment || !isCompositeType(type)) continue;
        const key = `${fragment.name.value}\u0000${page ?? ''}\u0000${level}`;
        let value = memo.get(key);
        if (value === undefined) {
          value = count(fragment.selectionSet, type, page, level);
          memo.set(key, value);
        }
        total = saturated(total + value);
      }
    }
    return total;
  };

  return count(operation.selectionSet, root, undefined, 0);
}

/**
 * Lists of the schema no bound covers: neither fixed nor a connection's
 * `items` (a type only ever returned by fields taking a page-size argument).
 * Empty for this schema; a test keeps it so.
 */
export function unboundedLists(schema: GraphQLSchema, bounds: ListBounds = storefrontListBounds): string[] {
  const types = Object.values(schema.getTypeMap()).filter((t): t is GraphQLObjectType | GraphQLInterfaceType => (isObjectType(t) || isInterfaceType(t)) && !t.name.startsWith('__'));
  const paged = new Map<string, boolean>();
  for (const type of types) {
    for (const field of Object.values(type.getFields())) {
      if (listDepth(field.type) > 0) continue;
      const named = getNamedType(field.type).name;
      paged.set(named, (paged.get(named) ?? true) && field.args.some((a) => a.name === bounds.pageSizeArgument));
    }
  }
  const unbounded: string[] = [];
  for (const type of types) {
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      if (listDepth(field.type) === 0 || coordinate in bounds.fixed || paged.get(type.name) === true) continue;
      if (!field.args.some((a) => a.name === bounds.pageSizeArgument)) unbounded.push(coordinate);
    }
  }
  return unbounded;
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

/** AppSync's field error for a resolver past the count limit: it does not run. */
export function resolverLimitError(info: GraphQLResolveInfo, limit: number): GraphQLError {
  return resolverError(`Resolver execution limit of ${limit} reached`, RESOLVER_EXECUTION_LIMIT_REACHED, null, info.fieldNodes);
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

function saturated(n: number): number {
  return n > SATURATION ? SATURATION : n;
}

function describeCount(n: number): string {
  return n >= SATURATION ? `more than ${SATURATION}` : String(n);
}

function listDepth(type: GraphQLType): number {
  let depth = 0;
  for (let t: GraphQLType = type; ; ) {
    if (isNonNullType(t)) t = t.ofType;
    else if (isListType(t)) {
      depth += 1;
      t = t.ofType;
    } else return depth;
  }
}

/** The document's fragments by name; a duplicate name is validation's to report, the first one counts here. */
function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION && !fragments.has(definition.name.value)) fragments.set(definition.name.value, definition);
  }
  return fragments;
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
  for (const [name, fragment] of fragments) spreads.set(name, [...spreadNames(fragment.selectionSet)].filter((s) => fragments.has(s)));
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
      if (length > MAX_NESTING) return new GraphQLError(`Fragments spread each other more than ${MAX_NESTING} levels deep`, { nodes: fragments.get(top.name) });
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
      const inner = selection.kind === Kind.INLINE_FRAGMENT ? measure(selection.selectionSet, facts) : (facts.get(selection.name.value) ?? { size: 0, depth: 0 });
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
function mergePairs(selectionSets: readonly SelectionSetNode[], fragments: ReadonlyMap<string, FragmentDefinitionNode>, budget: number): number {
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

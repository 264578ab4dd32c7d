import {
  getNamedType,
  getVariableValues,
  GraphQLError,
  isAbstractType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  isNonNullType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type GraphQLType,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { effectiveResolverCountLimit } from '../../declarations/api.js';
import { DEFAULT_PAGE_SIZE, MAX_ORDER_LINES, MAX_PAGE_SIZE } from '../../declarations/bounds.js';
import { fragmentsOf, shouldInclude } from '../graphql/collect-fields.js';
import { describeCount, operationDepthLimit, saturated, type PreparedQuery, type QueryLimitOptions } from '../graphql/document-limits.js';
import { resolverError, RESOLVER_EXECUTION_LIMIT_REACHED } from '../graphql/errors.js';

// The document checks every request passes first (parse, tokens, nesting, expansion, repeated fields,
// introspection, validation) and the depth limit are local/graphql/document-limits.ts's, shared with the
// real-time endpoint; re-exported here for the executor's existing readers.
export {
  depthLimitError,
  fieldLevel,
  MAX_EXPANDED_FIELDS,
  MAX_MERGE_PAIRS,
  MAX_NESTING,
  MAX_TOKENS,
  maxNesting,
  prepareQuery,
  type Preparation,
  type PreparedQuery,
  type QueryLimitOptions,
} from '../graphql/document-limits.js';

/**
 * The resolver count limit of declarations/api.ts, for one request of a
 * prepared document (local/graphql/document-limits.ts checked the rest).
 *
 * How AppSync answers (its guide, "Configuring GraphQL run complexity, query
 * depth, and introspection"): resolvers past the count limit fail with
 * `ResolverExecutionLimitReached` and do not run. AppSync counts resolvers as
 * it runs them; here the count is a static upper bound, so a query that could
 * exceed it is refused whole, before any resolver runs (see `resolverBound`).
 */

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
      new GraphQLError(
        `Resolver execution limit reached: this query can run ${describeCount(bound)} resolvers and the API allows ${resolverLimit}`,
        {
          nodes: operation,
          extensions: { errorType: RESOLVER_EXECUTION_LIMIT_REACHED },
        },
      ),
    ];
  }
  return { depthLimit: operationDepthLimit(query, operation, options.limits), resolverLimit };
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
 * Fields past the depth limit never resolve and count nothing, nor do
 * selections `@skip`/`@include` leave out (local/graphql's `shouldInclude`,
 * the rule every walk follows); same-named fields are counted each time
 * (graphql merges them: an over-estimate). Fragments are counted once per
 * (fragment, page size, level), which keeps this linear in the document
 * rather than in its expansion (why it does not flatten selections with
 * `collectFields`); sums saturate.
 */
export function resolverBound(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  options: {
    readonly schema: GraphQLSchema;
    readonly routes: { has(coordinate: string): boolean };
    readonly listBounds?: ListBounds;
    readonly depthLimit?: number;
  },
): number {
  const { schema, routes } = options;
  const bounds = options.listBounds ?? storefrontListBounds;
  const depthLimit = options.depthLimit ?? 0;
  const fragments = fragmentsOf(document);
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const memo = new Map<string, number>();
  // `@skip`/`@include` read the variables as execution coerces them (defaults applied); variables that
  // fail coercion stop the request before any resolver runs, and their raw values decide here.
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 1 });
  const conditions = coerced.coerced ?? variables;

  const routed = (parent: GraphQLCompositeType, field: string): boolean =>
    isAbstractType(parent)
      ? schema.getPossibleTypes(parent).some((type) => routes.has(`${type.name}.${field}`))
      : routes.has(`${parent.name}.${field}`);

  const variable = (name: string): unknown => {
    if (Object.hasOwn(variables, name)) return variables[name];
    const defaultValue = operation.variableDefinitions?.find((d) => d.variable.name.value === name)?.defaultValue;
    return defaultValue?.kind === Kind.INT ? Number(defaultValue.value) : undefined;
  };

  /** Items a page-size argument lets through (its value or the default, never more than the maximum). */
  const pageSize = (field: FieldNode): number => {
    const argument = field.arguments?.find((a) => a.name.value === bounds.pageSizeArgument);
    let value: unknown =
      argument === undefined
        ? undefined
        : argument.value.kind === Kind.INT
          ? Number(argument.value.value)
          : argument.value.kind === Kind.VARIABLE
            ? variable(argument.value.name.value)
            : argument.value.kind === Kind.NULL
              ? null
              : NaN;
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
      if (!shouldInclude(selection, conditions)) continue;
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
  const types = Object.values(schema.getTypeMap()).filter(
    (t): t is GraphQLObjectType | GraphQLInterfaceType => (isObjectType(t) || isInterfaceType(t)) && !t.name.startsWith('__'),
  );
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

/** AppSync's field error for a resolver past the count limit: it does not run. */
export function resolverLimitError(info: GraphQLResolveInfo, limit: number): GraphQLError {
  return resolverError(`Resolver execution limit of ${limit} reached`, RESOLVER_EXECUTION_LIMIT_REACHED, null, info.fieldNodes);
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

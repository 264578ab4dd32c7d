import {
  defaultFieldResolver,
  execute,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type FieldNode,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { AppSyncIdentity } from 'aws-lambda';
import type { ResolvedField } from '../../declarations/functions.js';
import { UNHANDLED_ERROR_TYPE, unwrapFieldResult } from '../../lib/lambda-response.js';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import { toSubscriptionFilter, type SubscriptionFilter, type SubscriptionFilters } from '../../lib/appsync/subscription-filter.js';
import { api, apiLimitsOf, type ApiLimits } from '../../declarations/api.js';
import { DocumentCache } from '../graphql/document-cache.js';
import { depthLimitError, fieldLevel, type PreparedQuery } from '../graphql/document-limits.js';
import { resolverError, toAppSyncError, VALIDATION_ERROR, type AppSyncError } from '../graphql/errors.js';
import { MutationEvents, type MutationListener, type MutationSource } from '../graphql/mutation-events.js';
import type { Caller, FieldAuthorization } from './field-authorization.js';
import { fragmentsOf } from '../graphql/collect-fields.js';
import { dependsOnVariables } from '../graphql/variable-dependence.js';
import { admitOperation, resolverLimitError, storefrontListBounds, type Admission, type ListBounds } from './query-limits.js';
import { selectionSetGraphQL, selectionSetList } from './selection-set.js';

export type { InvokeResult } from '../lambda/invoke-result.js';
import type { InvokeResult } from '../lambda/invoke-result.js';
import type { Lane } from '../lambda/fair-queue.js';

/** `lane`: the request the invocation belongs to; its invocations take turns with other requests' (local/lambda/fair-queue.ts). */
export type Invoke = (functionName: string, payload: ResolverEvent | ResolverEvent[], lane?: Lane) => Promise<InvokeResult>;

export interface GraphQLRequest {
  readonly query: string;
  readonly variables?: Record<string, unknown> | null;
  readonly operationName?: string | null;
}

export interface RequestContext {
  readonly caller: Caller;
  readonly identity: AppSyncIdentity;
  readonly headers: Readonly<Record<string, string | undefined>>;
}

export interface ExecutionResponse {
  data?: Record<string, unknown> | null;
  errors?: AppSyncError[];
}

export interface ExecutorOptions {
  readonly schema: GraphQLSchema;
  readonly routes: ReadonlyMap<string, ResolvedField>;
  readonly authorization: FieldAuthorization;
  readonly invoke: Invoke;
  /** Query depth, resolver count, introspection: declarations/api.ts's `limits` by default. */
  readonly limits?: ApiLimits;
  /** How many items each list can hold, for the resolver count bound (declarations/bounds.ts's by default). */
  readonly listBounds?: ListBounds;
  /**
   * Where documents are prepared (parsed, checked, validated) once per
   * distinct query text, refusals included: one to share with the real-time
   * endpoint, else the executor's own (of `documentCacheSize` entries and
   * `documentCacheChars` of text), with `limits`.
   */
  readonly documents?: DocumentCache;
  readonly documentCacheSize?: number;
  /** Bound on the total length of the cached query texts (16 MB by default). */
  readonly documentCacheChars?: number;
}

/** What every field resolution of one request shares. */
interface ExecutionContext {
  readonly request: RequestContext;
  /**
   * This request's lane: a request fanning out into a thousand resolver calls
   * takes turns with the others for environments instead of queueing ahead of them.
   */
  readonly lane: Lane;
  readonly batches: Map<string, PendingBatchItem[]>;
  /** Set when the operation selects fields past the depth limit; they fail without resolving. */
  readonly depthLimit: number | undefined;
  readonly resolverLimit: number;
  /** Resolver executions so far: AppSync's running count, a backstop behind the static bound. */
  resolvers: number;
  /**
   * The members every event of this request shares, built once: the events of
   * a BatchInvoke then hold the same objects, which the function runtime sends
   * once per batch instead of once per event (local/lambda/event-transfer.ts).
   */
  readonly shared: SharedEventMembers;
}

interface SharedEventMembers {
  request?: ResolverEvent['request'];
  readonly stash: ResolverEvent['stash'];
  /** Each field's `info`, by the field nodes graphql-js hands every item of a list. */
  readonly info: Map<readonly FieldNode[], ResolverEvent['info']>;
}

function sharedEventMembers(): SharedEventMembers {
  return { stash: {}, info: new Map() };
}

interface PendingBatchItem {
  readonly event: ResolverEvent;
  readonly info: GraphQLResolveInfo;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Executes GraphQL requests the way AppSync does for direct Lambda resolvers:
 * every field in the function map becomes a Lambda invocation with AppSync's
 * event shape; fields declared with maxBatchSize are gathered across the
 * whole response and sent as BatchInvoke arrays; every field is authorized
 * against the schema's @aws_* directives before its resolver runs.
 */
export class AppSyncExecutor implements MutationSource {
  readonly #options: ExecutorOptions;
  readonly #limits: ApiLimits;
  readonly #documents: DocumentCache;
  readonly #mutations = new MutationEvents();
  readonly #selections = new WeakMap<readonly FieldNode[], Selection>();
  /** A field's selection, by its node in a cached document, when no variable can change it. */
  readonly #fieldSelections = new WeakMap<FieldNode, Selection | 'per-request'>();
  /** An operation's admission, by its node in a cached document, when no variable can change it. */
  readonly #admissions = new WeakMap<OperationDefinitionNode, Admission | readonly GraphQLError[] | 'per-request'>();
  /** The routed fields by type name, then field name: looked up on every field resolution, without building a key. */
  readonly #routes = new Map<string, Map<string, ResolvedField>>();
  /** Requests executed so far: each gets a lane of its own. */
  #requests = 0;

  constructor(options: ExecutorOptions) {
    this.#options = options;
    this.#limits = apiLimitsOf({ limits: options.limits ?? api.limits });
    for (const [coordinate, route] of options.routes) {
      const [typeName = '', fieldName = ''] = coordinate.split('.');
      const fields = this.#routes.get(typeName) ?? new Map<string, ResolvedField>();
      fields.set(fieldName, route);
      this.#routes.set(typeName, fields);
    }
    if (options.documents && options.documents.schema !== options.schema)
      throw new Error('The executor’s DocumentCache must validate against the executor’s schema');
    this.#documents =
      options.documents ??
      new DocumentCache({
        schema: options.schema,
        limits: this.#limits,
        maxEntries: options.documentCacheSize,
        maxChars: options.documentCacheChars,
      });
  }

  /** The documents this executor prepares and caches: hand them to attachRealtime so both sides share one cache. */
  get documents(): DocumentCache {
    return this.#documents;
  }

  /**
   * Calls `listener` after each mutation request that produced data, with the
   * document, operation, coerced variables and response data (keyed by
   * aliases), before the response is returned; returns the unsubscribe function.
   */
  onMutationExecuted(listener: MutationListener): () => void {
    return this.#mutations.onMutationExecuted(listener);
  }

  async execute(request: GraphQLRequest, context: RequestContext): Promise<ExecutionResponse> {
    const prepared = this.#documents.prepare(request.query);
    if (!prepared.ok) return refused(prepared.errors);
    const document = prepared.query.document;
    const operation = getOperationAST(document, request.operationName ?? undefined);
    if (operation?.operation === 'subscription') {
      return refused([new GraphQLError('Subscriptions are served over the real-time WebSocket endpoint')]);
    }
    // An unknown operation is left to graphql-js, which reports it before anything runs.
    const admission = operation
      ? this.#admit(prepared.query, operation, request.variables)
      : { depthLimit: undefined, resolverLimit: Infinity };
    if ('length' in admission) return refused(admission);
    const contextValue: ExecutionContext = {
      request: context,
      lane: `request-${++this.#requests}`,
      batches: new Map(),
      depthLimit: admission.depthLimit,
      resolverLimit: admission.resolverLimit,
      resolvers: 0,
      shared: sharedEventMembers(),
    };
    const result = await execute({
      schema: this.#options.schema,
      document,
      variableValues: request.variables ?? undefined,
      operationName: request.operationName ?? undefined,
      contextValue,
      fieldResolver: this.#fieldResolver,
    });
    const response: ExecutionResponse = { data: (result.data as Record<string, unknown> | null | undefined) ?? null };
    if (operation?.operation === 'mutation' && response.data && this.#mutations.listening) {
      this.#mutations.emit({ document, operation, variables: this.#coercedVariables(operation, request.variables), data: response.data });
    }
    if (result.errors?.length) {
      // Errors before execution (variable coercion, unknown operation) are request validation errors.
      const fallback = result.data === undefined ? 'ValidationError' : UNHANDLED_ERROR_TYPE;
      response.errors = result.errors.map((error) => toAppSyncError(error, fallback));
    }
    return response;
  }

  /**
   * The resolver-count and depth admission of `operation`: worked out once per
   * cached document when no variable can change it (a page size given by a
   * variable, a @skip/@include), else per request.
   */
  #admit(
    query: PreparedQuery,
    operation: OperationDefinitionNode,
    variables: GraphQLRequest['variables'],
  ): Admission | readonly GraphQLError[] {
    const known = this.#admissions.get(operation);
    if (known !== undefined && known !== 'per-request') return known;
    const admission = admitOperation(query, operation, variables, {
      schema: this.#options.schema,
      limits: this.#limits,
      routes: this.#options.routes,
      listBounds: this.#options.listBounds,
    });
    if (known === undefined) {
      const pageSize = (this.#options.listBounds ?? storefrontListBounds).pageSizeArgument;
      const perRequest = dependsOnVariables(operation, fragmentsOf(query.document), (name) => name === pageSize);
      this.#admissions.set(operation, perRequest ? 'per-request' : admission);
    }
    return admission;
  }

  /**
   * AppSync runs the resolver attached to a subscription field when a client
   * subscribes; an error refuses the subscription. When it accepts, the
   * enhanced filter its function answered (null for none, or no resolver).
   */
  async subscribe(
    fieldName: string,
    args: Record<string, unknown>,
    variables: Record<string, unknown>,
    context: RequestContext,
  ): Promise<{ errorType: string; message: string } | { filter: SubscriptionFilter | null }> {
    const route = this.#options.routes.get(`Subscription.${fieldName}`);
    if (!route) return { filter: null };
    const event = resolverEvent(
      context,
      {
        source: null,
        args,
        fieldName,
        parentTypeName: 'Subscription',
        variables,
        selection: { list: [], graphql: '' },
      },
      sharedEventMembers(),
    );
    const invocation = await this.#options.invoke(route.functionName, event, `subscribe-${++this.#requests}`);
    if (!invocation.ok) return { errorType: UNHANDLED_ERROR_TYPE, message: invocation.error.errorMessage };
    const field = unwrapFieldResult(invocation.payload);
    if (!field.ok) return { errorType: field.errorType, message: field.message };
    // As the deployed resolver code: `{ filter }` through util.transform.toSubscriptionFilter (stacks/appsync/lambda-resolver.js).
    const filters = field.data as Partial<SubscriptionFilters> | null;
    if (filters !== null && (typeof filters !== 'object' || Array.isArray(filters))) {
      return { errorType: UNHANDLED_ERROR_TYPE, message: 'A subscription function must answer null or { filter, invalidationFilter }' };
    }
    return { filter: filters?.filter ? toSubscriptionFilter(filters.filter) : null };
  }

  /** The variables as execution coerced them (it succeeded: data came back), for listeners' `@skip`/`@include`. */
  #coercedVariables(operation: OperationDefinitionNode, variables: GraphQLRequest['variables']): Record<string, unknown> {
    const coerced = getVariableValues(this.#options.schema, operation.variableDefinitions ?? [], variables ?? {});
    return coerced.coerced ?? { ...variables };
  }

  readonly #fieldResolver: GraphQLFieldResolver<unknown, ExecutionContext> = (source, args, context, info) => {
    // AppSync's depth limit: the field fails (null, bubbling to a nullable parent) and nothing below it resolves.
    if (context.depthLimit !== undefined && fieldLevel(info) > context.depthLimit) throw depthLimitError(info, context.depthLimit);
    const typeName = info.parentType.name;
    if (!this.#options.authorization.allows(context.request.caller, typeName, info.fieldName)) {
      throw resolverError(`Not Authorized to access ${info.fieldName} on type ${typeName}`, 'Unauthorized', null, info.fieldNodes);
    }
    const route = this.#routes.get(typeName)?.get(info.fieldName);
    if (!route) return defaultFieldResolver(source, args, context, info);
    context.resolvers += 1;
    if (context.resolvers > context.resolverLimit) throw resolverLimitError(info, context.resolverLimit);
    const event = this.#event(source, args, context, info);
    if (route.maxBatchSize) return this.#enqueue(route, event, info, context);
    return this.#invokeOne(route, event, info, context.lane);
  };

  #event(source: unknown, args: Record<string, unknown>, context: ExecutionContext, info: GraphQLResolveInfo): ResolverEvent {
    // graphql-js hands every item of a list the same fieldNodes array, so a
    // batched field's selection set is derived once, not once per item.
    let selection = this.#selections.get(info.fieldNodes);
    if (!selection) {
      selection = this.#selectionOf(info);
      this.#selections.set(info.fieldNodes, selection);
    }
    return resolverEvent(
      context.request,
      {
        source,
        args,
        fieldName: info.fieldName,
        parentTypeName: info.parentType.name,
        variables: info.variableValues,
        selection,
        fieldNodes: info.fieldNodes,
      },
      context.shared,
    );
  }

  /**
   * The field's selectionSetList and selectionSetGraphQL. graphql-js builds new
   * fieldNodes arrays each request, but their nodes are the cached document's:
   * a single node whose selections no @skip/@include can change has the same
   * selection in every request, so it is derived once per node.
   */
  #selectionOf(info: GraphQLResolveInfo): Selection {
    const [node] = info.fieldNodes;
    const reusable = node !== undefined && info.fieldNodes.length === 1;
    const known = reusable ? this.#fieldSelections.get(node) : undefined;
    if (known !== undefined && known !== 'per-request') return known;
    const selection: Selection = {
      list: selectionSetList(info.fieldNodes, info.fragments, info.variableValues),
      graphql: selectionSetGraphQL(info.fieldNodes),
    };
    if (reusable && known === undefined) {
      this.#fieldSelections.set(node, dependsOnVariables(node, info.fragments) ? 'per-request' : selection);
    }
    return selection;
  }

  async #invokeOne(route: ResolvedField, event: ResolverEvent, info: GraphQLResolveInfo, lane: Lane): Promise<unknown> {
    const invocation = await this.#options.invoke(route.functionName, event, lane);
    if (!invocation.ok) throw resolverError(invocation.error.errorMessage, UNHANDLED_ERROR_TYPE, null, info.fieldNodes);
    return fieldValue(invocation.payload, info);
  }

  /** Gathers events of a batched field until the current execution step settles, then flushes. */
  #enqueue(route: ResolvedField, event: ResolverEvent, info: GraphQLResolveInfo, context: ExecutionContext): Promise<unknown> {
    const { batches, lane } = context;
    const key = `${route.typeName}.${route.fieldName}`;
    return new Promise((resolve, reject) => {
      let pending = batches.get(key);
      if (!pending) {
        pending = [];
        batches.set(key, pending);
        setImmediate(() => {
          batches.delete(key);
          void this.#flush(route, pending!, lane);
        });
      }
      pending.push({ event, info, resolve, reject });
    });
  }

  async #flush(route: ResolvedField, items: PendingBatchItem[], lane: Lane): Promise<void> {
    const size = route.maxBatchSize ?? items.length;
    const chunks: PendingBatchItem[][] = [];
    for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          const invocation = await this.#options.invoke(
            route.functionName,
            chunk.map((item) => item.event),
            lane,
          );
          if (!invocation.ok) throw new Error(invocation.error.errorMessage);
          const payload = invocation.payload;
          if (!Array.isArray(payload) || payload.length !== chunk.length) {
            throw new Error(`BatchInvoke response must be an array of ${chunk.length} results`);
          }
          chunk.forEach((item, index) => {
            try {
              item.resolve(fieldValue(payload[index], item.info));
            } catch (error) {
              item.reject(error);
            }
          });
        } catch (error) {
          for (const item of chunk) {
            item.reject(resolverError((error as Error).message, UNHANDLED_ERROR_TYPE, null, item.info.fieldNodes));
          }
        }
      }),
    );
  }
}

/** A request refused before execution: data null, as AppSync answers a document it will not run. */
function refused(errors: readonly GraphQLError[]): ExecutionResponse {
  return { data: null, errors: errors.map((error) => toAppSyncError(error, VALIDATION_ERROR)) };
}

interface Selection {
  readonly list: string[];
  readonly graphql: string;
}

/**
 * AppSync's direct Lambda resolver event for one field. Everything but
 * `arguments` and `source` is the same object in every event of one request
 * and field (from `shared`): events are serialized to the function, never
 * mutated here, and each function receives its own copies.
 */
function resolverEvent(
  request: RequestContext,
  field: {
    source: unknown;
    args: Record<string, unknown>;
    fieldName: string;
    parentTypeName: string;
    variables: Record<string, unknown>;
    selection: Selection;
    fieldNodes?: readonly FieldNode[];
  },
  shared: SharedEventMembers,
): ResolverEvent {
  shared.request ??= { headers: { ...request.headers }, domainName: null };
  let info = field.fieldNodes && shared.info.get(field.fieldNodes);
  if (!info || info.fieldName !== field.fieldName || info.parentTypeName !== field.parentTypeName || info.variables !== field.variables) {
    info = {
      fieldName: field.fieldName,
      parentTypeName: field.parentTypeName,
      variables: field.variables,
      selectionSetList: field.selection.list,
      selectionSetGraphQL: field.selection.graphql,
    };
    if (field.fieldNodes) shared.info.set(field.fieldNodes, info);
  }
  return {
    arguments: field.args,
    identity: request.identity,
    source: (field.source ?? null) as ResolverEvent['source'],
    request: shared.request,
    info,
    prev: null,
    stash: shared.stash,
  };
}

function fieldValue(payload: unknown, info: GraphQLResolveInfo): unknown {
  const field = unwrapFieldResult(payload);
  if (!field.ok) throw resolverError(field.message, field.errorType, field.errorInfo, info.fieldNodes);
  return field.data;
}

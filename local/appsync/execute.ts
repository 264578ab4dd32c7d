import {
  defaultFieldResolver,
  execute,
  getOperationAST,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type FieldNode,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import type { AppSyncIdentity } from 'aws-lambda';
import type { ResolvedField } from '../../resolvers/functions.js';
import { UNHANDLED_ERROR_TYPE, unwrapFieldResult } from '../../lib/lambda-response.js';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import { resolverError, toAppSyncError, type AppSyncError } from './errors.js';
import type { Caller, FieldAuthorization } from './field-authorization.js';
import { selectionSetGraphQL, selectionSetList } from './selection-set.js';
import { mutationPublications } from '../realtime/publisher.js';

/** What invoking a function returns: Lambda's payload, or its function error. */
export type Invocation =
  | { readonly ok: true; readonly payload: unknown }
  | { readonly ok: false; readonly error: { readonly errorType: string; readonly errorMessage: string } };

export type Invoke = (functionName: string, payload: ResolverEvent | ResolverEvent[]) => Promise<Invocation>;

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
  /** Documents are parsed once per distinct query text. */
  readonly documentCacheSize?: number;
  /**
   * Called with each root mutation field that succeeded, and its value as the
   * mutation selected it: what AppSync publishes to `@aws_subscribe` subscribers.
   */
  readonly onMutationResult?: (mutationField: string, result: Record<string, unknown>) => void;
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
export class AppSyncExecutor {
  readonly #options: ExecutorOptions;
  readonly #documents = new Map<string, DocumentNode | readonly GraphQLError[]>();
  readonly #selections = new WeakMap<readonly FieldNode[], Selection>();

  constructor(options: ExecutorOptions) {
    this.#options = options;
  }

  async execute(request: GraphQLRequest, context: RequestContext): Promise<ExecutionResponse> {
    const document = this.#document(request.query);
    if (!('kind' in document)) {
      return { data: null, errors: document.map((error) => toAppSyncError(error, 'ValidationError')) };
    }
    const operation = getOperationAST(document, request.operationName ?? undefined);
    if (operation?.operation === 'subscription') {
      return {
        data: null,
        errors: [toAppSyncError(new GraphQLError('Subscriptions are served over the real-time WebSocket endpoint'), 'ValidationError')],
      };
    }
    const batches = new Map<string, PendingBatchItem[]>();
    const result = await execute({
      schema: this.#options.schema,
      document,
      variableValues: request.variables ?? undefined,
      operationName: request.operationName ?? undefined,
      contextValue: { request: context, batches },
      fieldResolver: this.#fieldResolver,
    });
    const response: ExecutionResponse = { data: (result.data as Record<string, unknown> | null | undefined) ?? null };
    if (this.#options.onMutationResult) {
      // Aliases are undone at every depth: subscribers filter and select by field name.
      for (const { mutationField, result: value } of mutationPublications(document, response.data, request.operationName, request.variables)) {
        this.#options.onMutationResult(mutationField, value);
      }
    }
    if (result.errors?.length) {
      // Errors before execution (variable coercion, unknown operation) are request validation errors.
      const fallback = result.data === undefined ? 'ValidationError' : UNHANDLED_ERROR_TYPE;
      response.errors = result.errors.map((error) => toAppSyncError(error, fallback));
    }
    return response;
  }

  /**
   * AppSync runs the resolver attached to a subscription field when a client
   * subscribes; an error refuses the subscription. Null when the field has no
   * resolver or it accepted, else the error to send back.
   */
  async subscribe(
    fieldName: string,
    args: Record<string, unknown>,
    variables: Record<string, unknown>,
    context: RequestContext,
  ): Promise<{ errorType: string; message: string } | null> {
    const route = this.#options.routes.get(`Subscription.${fieldName}`);
    if (!route) return null;
    const event = resolverEvent(context, {
      source: null,
      args,
      fieldName,
      parentTypeName: 'Subscription',
      variables,
      selection: { list: [], graphql: '' },
    });
    const invocation = await this.#options.invoke(route.functionName, event);
    if (!invocation.ok) return { errorType: UNHANDLED_ERROR_TYPE, message: invocation.error.errorMessage };
    const field = unwrapFieldResult(invocation.payload);
    return field.ok ? null : { errorType: field.errorType, message: field.message };
  }

  #document(query: string): DocumentNode | readonly GraphQLError[] {
    const cached = this.#documents.get(query);
    if (cached) return cached;
    let parsed: DocumentNode | readonly GraphQLError[];
    try {
      const document = parse(query);
      const errors = validate(this.#options.schema, document);
      parsed = errors.length > 0 ? errors : document;
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      parsed = [error];
    }
    if (this.#documents.size >= (this.#options.documentCacheSize ?? 1000)) this.#documents.clear();
    this.#documents.set(query, parsed);
    return parsed;
  }

  readonly #fieldResolver: GraphQLFieldResolver<unknown, { request: RequestContext; batches: Map<string, PendingBatchItem[]> }> = (
    source,
    args,
    context,
    info,
  ) => {
    const typeName = info.parentType.name;
    if (!this.#options.authorization.allows(context.request.caller, typeName, info.fieldName)) {
      throw resolverError(`Not Authorized to access ${info.fieldName} on type ${typeName}`, 'Unauthorized', null, info.fieldNodes);
    }
    const route = this.#options.routes.get(`${typeName}.${info.fieldName}`);
    if (!route) return defaultFieldResolver(source, args, context, info);
    const event = this.#event(source, args, context.request, info);
    if (route.maxBatchSize) return this.#enqueue(route, event, info, context.batches);
    return this.#invokeOne(route, event, info);
  };

  #event(source: unknown, args: Record<string, unknown>, request: RequestContext, info: GraphQLResolveInfo): ResolverEvent {
    // graphql-js hands every item of a list the same fieldNodes array, so a
    // batched field's selection set is derived once, not once per item.
    let selection = this.#selections.get(info.fieldNodes);
    if (!selection) {
      selection = { list: selectionSetList(info.fieldNodes, info.fragments), graphql: selectionSetGraphQL(info.fieldNodes) };
      this.#selections.set(info.fieldNodes, selection);
    }
    return resolverEvent(request, {
      source,
      args,
      fieldName: info.fieldName,
      parentTypeName: info.parentType.name,
      variables: info.variableValues,
      selection,
    });
  }


  async #invokeOne(route: ResolvedField, event: ResolverEvent, info: GraphQLResolveInfo): Promise<unknown> {
    const invocation = await this.#options.invoke(route.functionName, event);
    if (!invocation.ok) throw resolverError(invocation.error.errorMessage, UNHANDLED_ERROR_TYPE, null, info.fieldNodes);
    return fieldValue(invocation.payload, info);
  }

  /** Gathers events of a batched field until the current execution step settles, then flushes. */
  #enqueue(route: ResolvedField, event: ResolverEvent, info: GraphQLResolveInfo, batches: Map<string, PendingBatchItem[]>): Promise<unknown> {
    const key = `${route.typeName}.${route.fieldName}`;
    return new Promise((resolve, reject) => {
      let pending = batches.get(key);
      if (!pending) {
        pending = [];
        batches.set(key, pending);
        setImmediate(() => {
          batches.delete(key);
          void this.#flush(route, pending!);
        });
      }
      pending.push({ event, info, resolve, reject });
    });
  }

  async #flush(route: ResolvedField, items: PendingBatchItem[]): Promise<void> {
    const size = route.maxBatchSize ?? items.length;
    const chunks: PendingBatchItem[][] = [];
    for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          const invocation = await this.#options.invoke(route.functionName, chunk.map((item) => item.event));
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

interface Selection {
  readonly list: string[];
  readonly graphql: string;
}

/** AppSync's direct Lambda resolver event for one field. */
function resolverEvent(
  request: RequestContext,
  field: {
    source: unknown;
    args: Record<string, unknown>;
    fieldName: string;
    parentTypeName: string;
    variables: Record<string, unknown>;
    selection: Selection;
  },
): ResolverEvent {
  return {
    arguments: field.args,
    identity: request.identity,
    source: (field.source ?? null) as ResolverEvent['source'],
    request: { headers: { ...request.headers }, domainName: null },
    info: {
      fieldName: field.fieldName,
      parentTypeName: field.parentTypeName,
      variables: field.variables,
      // Shared across a batch's events: they are serialized to the function, never mutated here.
      selectionSetList: field.selection.list,
      selectionSetGraphQL: field.selection.graphql,
    },
    prev: null,
    stash: {},
  };
}

function fieldValue(payload: unknown, info: GraphQLResolveInfo): unknown {
  const field = unwrapFieldResult(payload);
  if (!field.ok) throw resolverError(field.message, field.errorType, field.errorInfo, info.fieldNodes);
  return field.data;
}

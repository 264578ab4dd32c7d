import {
  defaultFieldResolver,
  executeSync,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { api, apiLimitsOf, type ApiLimits } from '../../declarations/api.js';
import { DocumentCache } from '../appsync/document-cache.js';
import { resolverError, toAppSyncError } from '../appsync/errors.js';
import type { Caller, FieldAuthorization } from '../appsync/field-authorization.js';
import { depthLimitError, fieldLevel, prepareQuery } from '../appsync/query-limits.js';
import { errors, type RealtimeError } from './protocol.js';

/** A parsed, validated subscription document, shared by every subscriber sending the same text. */
export interface PreparedDocument {
  readonly document: DocumentNode;
  readonly operationName: string | null;
  readonly rootField: FieldNode;
  readonly fieldName: string;
  /** Set when the document selects fields past the API's depth limit: they come back null with QueryDepthLimitReached. */
  readonly depthLimit: number | undefined;
}

export interface SubscriptionRequest {
  readonly prepared: PreparedDocument;
  /** Variables as the client sent them (projection re-coerces them, like any execution). */
  readonly variables: Readonly<Record<string, unknown>>;
  /** The root field's coerced arguments: what argument filtering compares. */
  readonly args: Readonly<Record<string, unknown>>;
}

/**
 * Turns `start` payloads into subscription requests (parse, validate, a single
 * subscription operation, variables, root arguments) and published results
 * into the payload each subscriber receives.
 */
export class SubscriptionDocuments {
  readonly #schema: GraphQLSchema;
  readonly #subscriptionType: GraphQLObjectType | null | undefined;
  readonly #authorization: FieldAuthorization;
  readonly #cache: DocumentCache<PreparedDocument | RealtimeError[]>;
  readonly #limits: ApiLimits;

  constructor(schema: GraphQLSchema, authorization: FieldAuthorization, cacheSize = 1000, limits: ApiLimits = api.limits) {
    this.#schema = schema;
    this.#subscriptionType = schema.getSubscriptionType();
    this.#authorization = authorization;
    this.#cache = new DocumentCache({ maxEntries: cacheSize });
    this.#limits = apiLimitsOf({ limits });
  }

  request(query: string, operationName: string | null, variables: Readonly<Record<string, unknown>>): SubscriptionRequest | RealtimeError[] {
    const prepared = this.#prepare(query, operationName);
    if (Array.isArray(prepared)) return prepared;
    const operation = getOperationAST(prepared.document, prepared.operationName ?? undefined);
    const fieldDef = this.#subscriptionType?.getFields()[prepared.fieldName];
    if (!operation || !fieldDef) return [errors.validation('Unknown subscription operation')];
    const coerced = getVariableValues(this.#schema, operation.variableDefinitions ?? [], variables, { maxErrors: 10 });
    if (coerced.errors) return coerced.errors.map((error) => errors.validation(error.message));
    try {
      return { prepared, variables, args: getArgumentValues(fieldDef, prepared.rootField, coerced.coerced) };
    } catch (error) {
      if (error instanceof GraphQLError) return [errors.validation(error.message)];
      throw error;
    }
  }

  /**
   * The `data` message payload for one published result: the subscription
   * document executed with the result as its root field's value, so nested
   * selections, aliases, fragments, __typename and per-field authorization
   * behave as in a query. A refused nested field is null with an Unauthorized error.
   */
  project(request: SubscriptionRequest, caller: Caller, result: Readonly<Record<string, unknown>>): string {
    const execution = executeSync({
      schema: this.#schema,
      document: request.prepared.document,
      operationName: request.prepared.operationName ?? undefined,
      variableValues: request.variables,
      contextValue: { caller, result, depthLimit: request.prepared.depthLimit },
      fieldResolver: this.#fieldResolver,
    });
    const payload: { data: unknown; errors?: unknown[] } = { data: execution.data ?? null };
    if (execution.errors?.length) payload.errors = execution.errors.map((error) => toAppSyncError(error, 'Unhandled'));
    return JSON.stringify(payload);
  }

  readonly #fieldResolver: GraphQLFieldResolver<unknown, { caller: Caller; result: Readonly<Record<string, unknown>>; depthLimit: number | undefined }> = (
    source,
    args,
    context,
    info,
  ) => {
    // The root field was authorized at `start`; its value is the published result itself.
    if (info.parentType === this.#subscriptionType) return context.result;
    if (context.depthLimit !== undefined && fieldLevel(info) > context.depthLimit) throw depthLimitError(info, context.depthLimit);
    if (!this.#authorization.allows(context.caller, info.parentType.name, info.fieldName)) {
      throw resolverError(`Not Authorized to access ${info.fieldName} on type ${info.parentType.name}`, 'Unauthorized', null, info.fieldNodes);
    }
    return defaultFieldResolver(source, args, context, info);
  };

  #prepare(query: string, operationName: string | null): PreparedDocument | RealtimeError[] {
    const key = `${operationName ?? ''}\u0000${query}`;
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const prepared = this.#parse(query, operationName);
    this.#cache.set(key, prepared);
    return prepared;
  }

  #parse(query: string, operationName: string | null): PreparedDocument | RealtimeError[] {
    // The same checks as a query's (local/appsync/query-limits.ts), before graphql-js validates.
    const prepared = prepareQuery(query, { schema: this.#schema, limits: this.#limits });
    if (!prepared.ok) return prepared.errors.map((error) => errors.validation(error.message));
    const document = prepared.query.document;
    const operation = getOperationAST(document, operationName ?? undefined);
    if (!operation) {
      return [errors.validation(operationName ? `Unknown operation named "${operationName}"` : 'The document must contain exactly one operation, or name one with operationName')];
    }
    if (operation.operation !== 'subscription') return [errors.unsupported(operation.operation)];
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) {
      if (definition.kind === 'FragmentDefinition') fragments.set(definition.name.value, definition);
    }
    // Validation (SingleFieldSubscriptionsRule) guarantees exactly one root field.
    const rootField = firstField(operation.selectionSet, fragments);
    if (!rootField) return [errors.validation('A subscription must select exactly one top level field')];
    const depth = prepared.query.depths.get(operation.name?.value ?? '') ?? 0;
    const depthLimit = this.#limits.queryDepthLimit > 0 && depth > this.#limits.queryDepthLimit ? this.#limits.queryDepthLimit : undefined;
    return { document, operationName, rootField, fieldName: rootField.name.value, depthLimit };
  }

  /** The schema's subscription root type name (what start-time authorization checks against). */
  get subscriptionTypeName(): string {
    return this.#subscriptionType?.name ?? 'Subscription';
  }
}

function firstField(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): FieldNode | undefined {
  for (const selection of selectionSet.selections) {
    if (selection.kind === 'Field') return selection;
    const inner = selection.kind === 'InlineFragment' ? selection.selectionSet : fragments.get(selection.name.value)?.selectionSet;
    const found = inner && firstField(inner, fragments);
    if (found) return found;
  }
  return undefined;
}

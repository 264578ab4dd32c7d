import {
  defaultFieldResolver,
  executeSync,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type DocumentNode,
  type FieldNode,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { api, type ApiLimits } from '../../declarations/api.js';
import type { Caller, FieldAuthorizer } from '../graphql/authorization.js';
import { collectFields, fragmentsOf } from '../graphql/collect-fields.js';
import { DocumentCache } from '../graphql/document-cache.js';
import { depthLimitError, fieldLevel, operationDepthLimit, type PreparedQuery } from '../graphql/document-limits.js';
import { resolverError, toAppSyncError } from '../graphql/errors.js';
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
 * into the payload each subscriber receives. Documents are prepared by a
 * local/graphql DocumentCache, the executor's when the runtime shares it.
 */
export class SubscriptionDocuments {
  readonly #schema: GraphQLSchema;
  readonly #subscriptionType: GraphQLObjectType | null | undefined;
  readonly #authorization: FieldAuthorizer;
  readonly #documents: DocumentCache;
  /**
   * Subscription documents by preparation and operation name: every
   * subscriber sending the same text gets the same PreparedDocument (the
   * real-time server projects each event once per document and caller).
   */
  readonly #subscriptions = new WeakMap<PreparedQuery, Map<string, PreparedDocument>>();

  /** `documents`: a DocumentCache to share (its limits apply), or the size of an own one with `limits`. */
  constructor(
    schema: GraphQLSchema,
    authorization: FieldAuthorizer,
    documents: DocumentCache | number = 1000,
    limits: ApiLimits = api.limits,
  ) {
    this.#schema = schema;
    this.#subscriptionType = schema.getSubscriptionType();
    this.#authorization = authorization;
    if (typeof documents !== 'number' && documents.schema !== schema)
      throw new Error('The real-time DocumentCache must validate against the real-time schema');
    this.#documents = typeof documents === 'number' ? new DocumentCache({ schema, limits, maxEntries: documents }) : documents;
  }

  request(
    query: string,
    operationName: string | null,
    variables: Readonly<Record<string, unknown>>,
  ): SubscriptionRequest | RealtimeError[] {
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

  readonly #fieldResolver: GraphQLFieldResolver<
    unknown,
    { caller: Caller; result: Readonly<Record<string, unknown>>; depthLimit: number | undefined }
  > = (source, args, context, info) => {
    // The root field was authorized at `start`; its value is the published result itself.
    if (info.parentType === this.#subscriptionType) return context.result;
    if (context.depthLimit !== undefined && fieldLevel(info) > context.depthLimit) throw depthLimitError(info, context.depthLimit);
    if (!this.#authorization.allows(context.caller, info.parentType.name, info.fieldName)) {
      throw resolverError(
        `Not Authorized to access ${info.fieldName} on type ${info.parentType.name}`,
        'Unauthorized',
        null,
        info.fieldNodes,
      );
    }
    return defaultFieldResolver(source, args, context, info);
  };

  #prepare(query: string, operationName: string | null): PreparedDocument | RealtimeError[] {
    // The same checks and cache as a query's (local/graphql/document-cache.ts), before graphql-js validates.
    const prepared = this.#documents.prepare(query);
    if (!prepared.ok) return prepared.errors.map((error) => errors.validation(error.message));
    let byName = this.#subscriptions.get(prepared.query);
    if (!byName) {
      byName = new Map();
      this.#subscriptions.set(prepared.query, byName);
    }
    const cached = byName.get(operationName ?? '');
    if (cached) return cached;
    const subscription = this.#subscription(prepared.query, operationName);
    // Only documents are kept: refusals are cheap to redo, and keying them by any name sent would grow without bound.
    if (!Array.isArray(subscription)) byName.set(operationName ?? '', subscription);
    return subscription;
  }

  #subscription(prepared: PreparedQuery, operationName: string | null): PreparedDocument | RealtimeError[] {
    const document = prepared.document;
    const operation = getOperationAST(document, operationName ?? undefined);
    if (!operation) {
      return [
        errors.validation(
          operationName
            ? `Unknown operation named "${operationName}"`
            : 'The document must contain exactly one operation, or name one with operationName',
        ),
      ];
    }
    if (operation.operation !== 'subscription') return [errors.unsupported(operation.operation)];
    // Validation (SingleFieldSubscriptionsRule) allows at most one root field, conditioned on no variable
    // (document-limits.ts refuses `@skip`/`@include(if: $v)` there); `@skip(if: true)` can leave none.
    const rootField = collectFields({ fragments: fragmentsOf(document), variables: {} }, operation.selectionSet)[0]?.node;
    if (!rootField) return [errors.validation('A subscription must select exactly one top level field')];
    const depthLimit = operationDepthLimit(prepared, operation, this.#documents.limits);
    return { document, operationName, rootField, fieldName: rootField.name.value, depthLimit };
  }

  /** The schema's subscription root type name (what start-time authorization checks against). */
  get subscriptionTypeName(): string {
    return this.#subscriptionType?.name ?? 'Subscription';
  }
}

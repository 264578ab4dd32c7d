import { GraphQLError, type ASTNode } from 'graphql';

/**
 * AppSync's errorTypes for a request it refuses or cuts short ("Configuring
 * GraphQL run complexity, query depth, and introspection"): a document it
 * cannot run is a `ValidationError` (data null); a field past the depth limit
 * and a resolver past the count limit are field errors (that field null).
 */
export const VALIDATION_ERROR = 'ValidationError';
export const QUERY_DEPTH_LIMIT_REACHED = 'QueryDepthLimitReached';
export const RESOLVER_EXECUTION_LIMIT_REACHED = 'ResolverExecutionLimitReached';

/** One entry of `errors[]` as AppSync writes it (query responses and subscription data messages alike). */
export interface AppSyncError {
  path: ReadonlyArray<string | number> | null;
  data: null;
  errorType: string;
  errorInfo: Record<string, unknown> | null;
  locations: Array<{ line: number; column: number; sourceName: null }>;
  message: string;
}

/** A field error carrying AppSync's errorType through graphql-js execution. */
export function resolverError(
  message: string,
  errorType: string,
  errorInfo: Record<string, unknown> | null,
  nodes?: readonly ASTNode[],
): GraphQLError {
  return new GraphQLError(message, { nodes, extensions: { errorType, errorInfo } });
}

export function toAppSyncError(error: GraphQLError, fallbackType: string): AppSyncError {
  const extensions = error.extensions as { errorType?: unknown; errorInfo?: unknown };
  // Errors thrown outside our resolvers (e.g. an output scalar failing to serialize) arrive wrapped.
  const original = error.originalError as { extensions?: { errorType?: unknown; errorInfo?: unknown } } | undefined;
  const errorType = extensions.errorType ?? original?.extensions?.errorType;
  const errorInfo = extensions.errorInfo ?? original?.extensions?.errorInfo;
  return {
    path: error.path ?? null,
    data: null,
    errorType: typeof errorType === 'string' ? errorType : fallbackType,
    errorInfo: (errorInfo as Record<string, unknown> | null | undefined) ?? null,
    locations: (error.locations ?? []).map(({ line, column }) => ({ line, column, sourceName: null })),
    message: error.message,
  };
}

/**
 * Domain errors. Each carries the `errorType` that reaches the client in
 * `errors[].errorType`, exactly as AppSync reports a resolver error.
 */
export const errorTypes = [
  'NotFound',
  'ConditionFailed',
  'InsufficientStock',
  'ValidationError',
  'Unauthorized',
  'IdempotencyConflict',
  'InvalidState',
] as const;

export type ErrorType = (typeof errorTypes)[number];

export class DomainError extends Error {
  readonly errorType: ErrorType;
  readonly errorInfo: Record<string, unknown> | null;

  constructor(errorType: ErrorType, message: string, errorInfo: Record<string, unknown> | null = null) {
    super(message);
    // Lambda reports a thrown error's `name` as its errorType: keep them equal.
    this.name = errorType;
    this.errorType = errorType;
    this.errorInfo = errorInfo;
  }
}

export const notFound = (what: string, id: string): DomainError => new DomainError('NotFound', `${what} ${id} not found`, { id });

export const validationError = (message: string, errorInfo: Record<string, unknown> | null = null): DomainError =>
  new DomainError('ValidationError', message, errorInfo);

/**
 * What an unexpected failure (a bug, DynamoDB unreachable, throttling…)
 * becomes before it leaves the function: Lambda reports a thrown error's
 * message to AppSync, which shows it to the client as `Lambda:Unhandled`, so
 * the message says nothing but the request id. The original error, with its
 * stack and message (endpoints, table names, DynamoDB's wording), goes to the
 * function's log under that id (lib/resolver-handler.ts).
 */
export class InternalError extends Error {
  readonly requestId: string;

  constructor(requestId: string | undefined) {
    const id = requestId || 'unknown';
    super(`An internal error occurred (request id ${id})`);
    this.name = 'InternalError';
    this.requestId = id;
  }
}

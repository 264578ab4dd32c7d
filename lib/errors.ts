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

export const notFound = (what: string, id: string): DomainError =>
  new DomainError('NotFound', `${what} ${id} not found`, { id });

export const validationError = (message: string, errorInfo: Record<string, unknown> | null = null): DomainError =>
  new DomainError('ValidationError', message, errorInfo);

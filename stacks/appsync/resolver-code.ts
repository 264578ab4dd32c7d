import { readFileSync } from 'node:fs';

export type LambdaOperation = 'Invoke' | 'BatchInvoke';

export const LAMBDA_OPERATIONS: readonly LambdaOperation[] = ['Invoke', 'BatchInvoke'];

export const lambdaResolverFile = new URL('./lambda-resolver.js', import.meta.url);

const OPERATION_LINE = "const OPERATION = 'Invoke';";

/**
 * The checked-in resolver code for one operation. AppSync gives resolver code
 * no way to learn its own maxBatchSize, so the operation is a constant in the
 * code: the file as written is the Invoke variant, and batched fields get the
 * same file with that single line changed.
 */
export function lambdaResolverCode(operation: LambdaOperation, source = readFileSync(lambdaResolverFile, 'utf8')): string {
  const occurrences = source.split(OPERATION_LINE).length - 1;
  if (occurrences !== 1) throw new Error(`${lambdaResolverFile.pathname} must contain exactly one ${OPERATION_LINE}`);
  return source.replace(OPERATION_LINE, `const OPERATION = '${operation}';`);
}

export interface DeployedResolverCode {
  readonly operation: LambdaOperation;
  /** Where the variant would live beside the checked-in file (`lambda-resolver.BatchInvoke.js`): for linters and messages. */
  readonly path: string;
  readonly code: string;
}

/** Every APPSYNC_JS text the stacks deploy, one per operation. */
export function deployedResolverCode(): DeployedResolverCode[] {
  const source = readFileSync(lambdaResolverFile, 'utf8');
  return LAMBDA_OPERATIONS.map((operation) => ({
    operation,
    path: lambdaResolverFile.pathname.replace(/\.js$/, `.${operation}.js`),
    code: lambdaResolverCode(operation, source),
  }));
}

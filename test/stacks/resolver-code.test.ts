import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { unwrapFieldResult } from '../../lib/lambda-response.js';
import { lambdaResolverCode, lambdaResolverFile, type LambdaOperation } from '../../stacks/appsync/resolver-code.js';
import { cognitoIdentity, resolverEvent } from '../support/fixtures.js';

interface ResolverModule {
  request(ctx: object): { operation: string; payload: Record<string, unknown> };
  response(ctx: object): unknown;
}

class AppSyncError extends Error {
  constructor(
    message: string,
    readonly type: string | undefined,
    readonly data: unknown,
    readonly errorInfo: unknown,
  ) {
    super(message);
  }
}

/**
 * Evaluates the resolver code as AppSync would, with `util` from
 * @aws-appsync/utils stubbed: util.error throws (ending the handler), as in AppSync.
 */
function load(operation: LambdaOperation): ResolverModule {
  const source = lambdaResolverCode(operation)
    .replace("import { util } from '@aws-appsync/utils';", '')
    .replace(/^export function /gm, 'function ');
  const util = {
    error(message: string, type?: string, data?: unknown, errorInfo?: unknown): never {
      throw new AppSyncError(message, type, data, errorInfo);
    },
  };
  return runInNewContext(`${source}\n({ request, response })`, { util }) as ResolverModule;
}

const ctx = resolverEvent({
  parentTypeName: 'OrderItem',
  fieldName: 'product',
  arguments: { id: 'p1' },
  identity: cognitoIdentity({ username: 'user-1', groups: ['admin'] }),
  source: { productId: 'p1' },
  headers: { 'x-api-key': 'da2-x' },
});

describe('the AppSync resolver code (stacks/appsync/lambda-resolver.js)', () => {
  it('sends the direct-Lambda-resolver event, with Invoke or BatchInvoke', () => {
    for (const operation of ['Invoke', 'BatchInvoke'] as const) {
      expect(load(operation).request(ctx)).toEqual({ operation, payload: ctx });
    }
  });

  it('differs between the variants in the operation only', () => {
    const invoke = lambdaResolverCode('Invoke').split('\n');
    const batch = lambdaResolverCode('BatchInvoke').split('\n');
    expect(invoke).toEqual(readFileSync(lambdaResolverFile, 'utf8').split('\n'));
    expect(batch.filter((line, i) => line !== invoke[i])).toEqual(["const OPERATION = 'BatchInvoke';"]);
  });

  it('unwraps FieldResult envelopes exactly as the local runtime does', () => {
    const { response } = load('BatchInvoke');
    const envelopes: unknown[] = [
      { data: { id: 'p1', name: 'Book' } },
      { data: null },
      { data: 0 },
      { data: null, errorType: 'NotFound', errorMessage: 'No product p1', errorInfo: { id: 'p1' } },
      { data: null, errorType: 'ConditionFailed', errorMessage: 'Version changed', errorInfo: null },
      { data: null, errorType: 'InvalidState' },
      null,
      'not an envelope',
      { value: 1 },
    ];
    for (const envelope of envelopes) {
      const expected = unwrapFieldResult(envelope);
      let actual: ReturnType<typeof unwrapFieldResult>;
      try {
        actual = { ok: true, data: response({ ...ctx, result: envelope }) };
      } catch (error) {
        if (!(error instanceof AppSyncError)) throw error;
        expect(error.data ?? null).toBeNull();
        actual = {
          ok: false,
          errorType: error.type ?? '',
          message: error.message,
          errorInfo: (error.errorInfo as Record<string, unknown> | null | undefined) ?? null,
        };
      }
      expect(actual, JSON.stringify(envelope)).toEqual(expected);
    }
  });

  it("reports a failed invocation with AppSync's own error type", () => {
    const { response } = load('Invoke');
    expect(() => response({ ...ctx, error: { message: 'Task timed out', type: 'Lambda:Unhandled' }, result: null })).toThrowError(
      expect.objectContaining({ message: 'Task timed out', type: 'Lambda:Unhandled' }) as Error,
    );
  });

  it('stays within what APPSYNC_JS accepts', () => {
    const code = readFileSync(lambdaResolverFile, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const unsupported of [
      /\btry\b/,
      /\bcatch\b/,
      /\bthrow\b/,
      /\bwhile\b/,
      /\bfor\s*\(/,
      /\bclass\b/,
      /\basync\b/,
      /\bawait\b/,
      /`/,
      /\bnew\b/,
    ]) {
      expect(code, String(unsupported)).not.toMatch(unsupported);
    }
    expect(code.match(/^export function (\w+)/gm)).toEqual(['export function request', 'export function response']);
  });
});

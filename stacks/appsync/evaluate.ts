/**
 * Runs the APPSYNC_JS resolver code in Node, for tests that check what the
 * deployed code does: the event its `request` builds, and what its `response`
 * makes of a function's answer. AppSync's runtime provides `util` and
 * `extensions` (the npm package @aws-appsync/utils holds only their types), so
 * they are played here: `util.error` throws, ending the handler as in AppSync;
 * `util.transform.toSubscriptionFilter` is the same transformation
 * (lib/appsync/subscription-filter.ts); `extensions` calls are recorded.
 */
import { runInNewContext } from 'node:vm';
import { toSubscriptionFilter } from '../../lib/appsync/subscription-filter.js';

/** What `util.error(message, type, data, errorInfo)` raised: the field's GraphQL error in AppSync. */
export class AppSyncError extends Error {
  constructor(
    message: string,
    readonly type: string | undefined,
    readonly data: unknown,
    readonly errorInfo: unknown,
  ) {
    super(message);
  }
}

export interface LambdaRequest {
  readonly operation: string;
  readonly payload: Record<string, unknown>;
}

/** One call the code made on `extensions`, in order. */
export type ExtensionCall = readonly [method: string, argument: unknown];

export interface EvaluatedResolver {
  request(ctx: object): LambdaRequest;
  response(ctx: object): unknown;
  readonly calls: ExtensionCall[];
}

const IMPORT_LINE = /^import \{ ([\w, ]+) \} from '@aws-appsync\/utils';$/m;

/** Evaluates resolver code (one deployed variant) in a fresh context. */
export function evaluateResolverCode(code: string): EvaluatedResolver {
  const imported = IMPORT_LINE.exec(code);
  if (!imported?.[1]) throw new Error("Resolver code must import what it uses from '@aws-appsync/utils' in one line");
  const source = code.replace(IMPORT_LINE, '').replace(/^export function /gm, 'function ');
  const calls: ExtensionCall[] = [];
  const record = (method: string) => (argument: unknown) => void calls.push([method, argument]);
  const runtime: Record<string, unknown> = {
    util: {
      error(message: string, type?: string, data?: unknown, errorInfo?: unknown): never {
        throw new AppSyncError(message, type, data, errorInfo);
      },
      transform: { toSubscriptionFilter },
    },
    extensions: {
      setSubscriptionFilter: record('setSubscriptionFilter'),
      setSubscriptionInvalidationFilter: record('setSubscriptionInvalidationFilter'),
      invalidateSubscriptions: record('invalidateSubscriptions'),
    },
  };
  const globals: Record<string, unknown> = {};
  for (const name of imported[1].split(',').map((part) => part.trim())) {
    if (!(name in runtime)) throw new Error(`Resolver code imports ${name}, which this evaluator does not provide`);
    globals[name] = runtime[name];
  }
  const module = runInNewContext(`${source}\n({ request, response })`, globals) as Omit<EvaluatedResolver, 'calls'>;
  return { request: module.request, response: module.response, calls };
}

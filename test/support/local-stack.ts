import { print, type DocumentNode } from 'graphql';
import { afterAll, beforeAll } from 'vitest';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/runtime.js';
import type { FunctionName } from '../../declarations/functions.js';
import { api } from '../../declarations/api.js';
import { leaseBundleDir } from './bundle-dirs.js';
import { borrowWorkerDynamoDB } from './worker-dynamodb.js';

export interface GraphQLResponse<T> {
  status: number;
  data: T | null;
  errors?: Array<{ errorType: string; message: string; path?: Array<string | number> | null; errorInfo?: unknown }>;
}

export type Auth = { apiKey: string } | { token: string } | { headers: Record<string, string> } | null;

/** A client that speaks to the local AppSync endpoint over real HTTP. */
export class ApiClient {
  constructor(private readonly stack: LocalStack) {}

  get asApiKey(): Auth {
    return { apiKey: this.stack.apiKey };
  }

  user(username: string, groups: string[] = []): Auth {
    return { token: this.stack.userPool.mint({ username, sub: username, groups }) };
  }

  admin(): Auth {
    return this.user('admin-user', [api.adminGroup]);
  }

  /** The local partner's token (AWS_LAMBDA mode), as its integration would send it. */
  get asPartner(): Auth {
    return { token: this.stack.partner.token };
  }

  async request<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables> | DocumentNode | string,
    variables: TVariables | Record<string, unknown> | undefined,
    auth: Auth,
  ): Promise<GraphQLResponse<TData>> {
    const query = typeof document === 'string' ? document : print(document);
    return this.raw(JSON.stringify({ query, variables }), auth) as Promise<GraphQLResponse<TData>>;
  }

  async raw(body: string, auth: Auth, method = 'POST'): Promise<GraphQLResponse<unknown>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth && 'apiKey' in auth) headers['x-api-key'] = auth.apiKey;
    if (auth && 'token' in auth) headers['authorization'] = auth.token;
    if (auth && 'headers' in auth) Object.assign(headers, auth.headers);
    const response = await fetch(this.stack.graphqlUrl, { method, headers, body: method === 'GET' ? undefined : body });
    const json = (await response.json()) as Omit<GraphQLResponse<unknown>, 'status'>;
    return { status: response.status, data: json.data ?? null, ...(json.errors ? { errors: json.errors } : {}) };
  }

  /** Invocations a function has served so far (for BatchInvoke and authorizer-cache proofs). */
  invocations(functionName: FunctionName): number {
    return this.stack.functions.get(functionName)!.stats().invocations;
  }
}

export interface TestStackOptions extends LocalStackOptions {
  /**
   * Start a DynamoDB Local of its own instead of borrowing the worker's (support/worker-dynamodb.ts): for
   * a file that kills or restarts it. Implied by `persistDir` and `dynamodb`.
   */
  readonly ownDynamoDB?: boolean;
}

/**
 * Starts a local stack as `startLocalStack` does, with the function bundles in a directory this worker
 * reuses (support/bundle-dirs.ts) unless `options.bundleDir` names one, and its tables in the worker's
 * DynamoDB Local (support/worker-dynamodb.ts) unless it needs its own.
 */
export async function startTestStack(testOptions: TestStackOptions = {}): Promise<{ stack: LocalStack; api: ApiClient }> {
  const { ownDynamoDB, ...options } = testOptions;
  const borrowed = ownDynamoDB || options.persistDir || options.dynamodb ? undefined : await borrowWorkerDynamoDB();
  const lease = options.bundleDir ? undefined : leaseBundleDir(options.cache ?? 'redis');
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      ...options,
      ...(lease?.dir ? { bundleDir: lease.dir } : {}),
      ...(borrowed ? { dynamodb: Promise.resolve(borrowed.handle), tablePrefix: options.tablePrefix ?? borrowed.tablePrefix } : {}),
    });
  } catch (error) {
    lease?.release();
    throw error;
  }
  const stop = stack.stop.bind(stack);
  const stopAndRelease = async (): Promise<void> => {
    try {
      await stop();
    } finally {
      lease?.release();
    }
  };
  return { stack: Object.assign(stack, { stop: stopAndRelease }), api: new ApiClient(stack) };
}

/**
 * How long a test file may wait for its stack: above the processes' own readiness deadline
 * (90 s, local/process/loopback-child.ts), so a slow start fails with the message that names
 * what did not start, not with a bare hook timeout.
 */
export const STACK_START_TIMEOUT_MS = 180_000;

/**
 * Starts a local stack for the calling test file and stops it afterwards.
 * Read `.stack`/`.api` inside tests (they are set once beforeAll has run).
 */
export function useLocalStack(options: TestStackOptions = {}): { stack: LocalStack; api: ApiClient } {
  const handle = {} as { stack: LocalStack; api: ApiClient };
  beforeAll(async () => {
    Object.assign(handle, await startTestStack(options));
  }, STACK_START_TIMEOUT_MS);
  afterAll(async () => handle.stack?.stop());
  return handle;
}

export interface HealthBody {
  status: 'ok' | 'unavailable';
  down?: string[];
  dependencies: Record<'dynamodb' | 'redis' | 'functions' | 'streams', { status: string } & Record<string, unknown>>;
  notices: Array<{ at: string; dependency: string; message: string }>;
}

/** GET /health over HTTP, as a developer or a monitor would call it. */
export async function fetchHealth(stack: LocalStack): Promise<{ status: number; body: HealthBody }> {
  const response = await fetch(`${stack.url}/health`);
  return { status: response.status, body: (await response.json()) as HealthBody };
}

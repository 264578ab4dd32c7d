import type { IpcChildMessage } from '../local/process/ipc-child.js';
/** Messages between a fuzzer/soak process and its stack process (fuzz/stack-process.ts), over the fork() IPC channel. */

export interface StackInfo {
  readonly pid: number;
  readonly url: string;
  readonly graphqlUrl: string;
  readonly realtimeUrl: string;
  readonly apiKey: string;
  /** `partner-<id>.<secret>`: the Lambda authorizer's one local partner. */
  readonly partnerToken: string;
  readonly iamPrincipal: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly dynamoDbEndpoint: string;
  readonly tables: Readonly<Record<string, string>>;
  readonly cache: 'redis' | 'none';
  readonly seededProducts: number;
}

/** Heap figures one execution environment (worker isolate) last reported. */
export interface EnvironmentMemory {
  readonly usedHeapBytes: number;
  readonly totalHeapBytes: number;
  readonly externalBytes: number;
}

export interface FunctionMemory {
  readonly environments: number;
  readonly invocations: number;
  readonly coldStarts: number;
  readonly queued: number;
  /** Summed over the function's live environments, when the runtime reports it. */
  readonly memory?: EnvironmentMemory;
  readonly idleShutdowns?: number;
}

export interface StackMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly functions: Record<string, FunctionMemory>;
  readonly realtime: { readonly connections: number; readonly subscriptions: number };
  readonly deadLetters: number;
}

export type ParentMessage =
  | { readonly id: number; readonly type: 'memory' }
  | { readonly id: number; readonly type: 'gc' }
  | { readonly id: number; readonly type: 'snapshot'; readonly path: string; readonly workers?: boolean }
  | { readonly id: number; readonly type: 'mint'; readonly username: string; readonly groups: readonly string[] }
  | { readonly id: number; readonly type: 'stop' };

/** What the stack process sends (local/process/ipc-child.ts). */
export type ChildMessage = IpcChildMessage<StackInfo>;

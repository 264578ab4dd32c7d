import type { FunctionName } from '../../declarations/functions.js';
import type { IpcChildMessage } from '../../local/process/ipc-child.js';

/**
 * What the two server processes of the load comparison (bench/peer/runtime-server.ts,
 * bench/peer/yoga-server.ts) and the bench exchange over their IPC channel.
 * The runtime's process owns the stack (DynamoDB Local, redis-server, the
 * bundles) and the data; the yoga process is handed the bundles and the
 * functions' environments, so both serve the same code against the same data.
 */

/** A built function bundle, as the runtime's process built it. */
export interface BundleFile {
  readonly name: FunctionName;
  readonly file: string;
}

export interface RuntimeServerInfo {
  readonly pid: number;
  readonly nodeVersion: string;
  readonly graphqlUrl: string;
  readonly apiKey: string;
  readonly productIds: readonly string[];
  readonly orderId: string;
  readonly orderItems: number;
  /** ID token of the order's owner (minted by the stack's dev user pool). */
  readonly ownerToken: string;
  /** The dev user pool's signing key file: the peer verifies the same tokens with it. */
  readonly userPoolKeyFile: string;
  readonly bundles: readonly BundleFile[];
  readonly functionEnvironments: Readonly<Record<FunctionName, Readonly<Record<string, string>>>>;
}

export interface YogaServerInfo {
  readonly pid: number;
  readonly nodeVersion: string;
  readonly graphqlUrl: string;
}

/** What the yoga process is started with (one JSON command-line argument). */
export interface YogaServerConfig {
  readonly apiKey: string;
  readonly userPoolKeyFile: string;
  readonly bundles: readonly BundleFile[];
  readonly functionEnvironments: RuntimeServerInfo['functionEnvironments'];
}

/** Requests the bench sends; every one is answered with `{ id, ok, value | error }` (`counters`: ServerCounters). */
export type ServerRequest = { readonly id: number; readonly type: 'counters' } | { readonly id: number; readonly type: 'stop' };

/** What a server process sends (local/process/ipc-child.ts). */
export type ServerMessage<Info> = IpcChildMessage<Info>;

/** Invocations per function since the server started (the runtime's LocalFunction counters; the peer's own calls). */
export type InvocationCounts = Record<string, number>;

/** What a server has done since it started; the bench takes the difference over a run. */
export interface ServerCounters {
  readonly invocations: InvocationCounts;
  /** The server process's CPU time, every thread of it (user + system, process.cpuUsage()). */
  readonly cpuMicros: number;
  /** The runtime's hand-off to its functions' environments and back (LocalFunctionStats.handOffMs), summed; the peer has none. */
  readonly handOffMs: number | null;
}

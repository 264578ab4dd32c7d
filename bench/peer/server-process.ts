import { forkIpcChild } from '../../local/process/ipc-child.js';
import type { InvocationCounts, ServerCounters, ServerMessage, ServerRequest } from './protocol.js';

/**
 * A server of the load comparison in a process of its own, so that neither
 * the load generator nor the other server shares its event loop or heap.
 * Started with `fork()` under tsx; it sends `{ type: 'ready', info }` once it
 * listens, then answers `counters` and `stop` requests.
 */

export interface ServerProcess<Info> {
  readonly info: Info;
  readonly pid: number;
  request<T>(type: ServerRequest['type'], timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** DynamoDB Local, redis-server and the bundles take 10-30 s on 2 shared cores. */
  readonly startTimeoutMs?: number;
}

export async function startServerProcess<Info>(entry: string, options: ServerProcessOptions = {}): Promise<ServerProcess<Info>> {
  const child = await forkIpcChild<Info, { readonly type: ServerRequest['type'] }>(entry, {
    name: entry,
    ...(options.args ? { args: options.args } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
  });
  return {
    info: child.info,
    pid: child.pid,
    request: (type, timeoutMs) => child.request({ type }, timeoutMs),
    stop: () => child.stop(),
  };
}

/**
 * The child's side: answers the bench's requests with `handlers`, and stops
 * (then exits) on `stop`, on SIGTERM/SIGINT, or when the bench goes away.
 * Both servers' CPU time is taken here, the same way.
 */
export function serveRequests(handlers: {
  invocations: () => InvocationCounts;
  /** The runtime's LocalFunctionStats.handOffMs, summed over its functions. */
  handOffMs?: () => number;
  stop: () => Promise<void>;
}): void {
  if (!process.send) {
    console.error('This server is started by the bench (fork with IPC), not by hand');
    process.exit(2);
  }
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      await handlers.stop().catch((error: unknown) => console.error('stop failed', error));
    }
    process.exit(code);
  };
  process.on('message', (raw: unknown) => {
    const message = raw as ServerRequest;
    if (message.type === 'stop') {
      process.send?.({ id: message.id, ok: true, value: null });
      void stop(0);
      return;
    }
    try {
      const { user, system } = process.cpuUsage();
      const counters: ServerCounters = {
        invocations: handlers.invocations(),
        cpuMicros: user + system,
        handOffMs: handlers.handOffMs?.() ?? null,
      };
      process.send?.({ id: message.id, ok: true, value: counters });
    } catch (error) {
      process.send?.({ id: message.id, ok: false, error: String(error) });
    }
  });
  process.on('disconnect', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
}

export function sendReady<Info>(info: Info): void {
  process.send?.({ type: 'ready', info } satisfies ServerMessage<Info>);
}

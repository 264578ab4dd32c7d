import { fork, type ChildProcess } from 'node:child_process';
import type { ServerMessage, ServerRequest } from './protocol.js';

/**
 * A server of the load comparison in a process of its own, so that neither
 * the load generator nor the other server shares its event loop or heap.
 * Started with `fork()` under tsx; it sends `{ type: 'ready', info }` once it
 * listens, then answers `invocations` and `stop` requests.
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
  const child: ChildProcess = fork(entry, [...(options.args ?? [])], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR', ...options.env },
  });
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  let nextId = 1;
  let exited = false;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const info = await new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`${entry} was not ready within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    child.on('message', (raw: unknown) => {
      const message = raw as ServerMessage<Info>;
      if ('type' in message) {
        clearTimeout(timer);
        resolve(message.info);
        return;
      }
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(message.error));
    });
    child.on('exit', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      const error = new Error(`${entry} exited (code ${code}, signal ${signal})`);
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    });
  });

  const request = <T>(type: ServerRequest['type'], timeoutMs = 60_000): Promise<T> => {
    if (exited) return Promise.reject(new Error(`${entry} has exited`));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${entry}: no answer to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      child.send({ id, type } satisfies ServerRequest);
    });
  };

  return {
    info,
    pid: child.pid!,
    request,
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await request('stop', 30_000).catch(() => undefined);
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await gone;
      clearTimeout(killTimer);
    },
  };
}

/**
 * The child's side: answers the bench's requests with `handlers`, and stops
 * (then exits) on `stop`, on SIGTERM/SIGINT, or when the bench goes away.
 */
export function serveRequests(handlers: { invocations: () => unknown; stop: () => Promise<void> }): void {
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
      process.send?.({ id: message.id, ok: true, value: handlers.invocations() });
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

import { fork, type ChildProcess } from 'node:child_process';

/**
 * A TypeScript entry forked under tsx with an IPC channel, for tooling that must keep a server out of its own
 * event loop and heap (the fuzzer's and soak's stack process, the benchmark's comparison servers). The child
 * sends `{ type: 'ready', info }` once it serves, then answers each `{ id, type, ... }` request with
 * `{ id, ok: true, value }` or `{ id, ok: false, error }`; `{ type: 'stop' }` makes it stop and exit.
 */

/** What a child sends on its channel. */
export type IpcChildMessage<Info> =
  | { readonly type: 'ready'; readonly info: Info }
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

export interface IpcChild<Info, Request extends { readonly type: string }> {
  readonly info: Info;
  readonly pid: number;
  /** Sends a request (an id is added) and resolves with the child's answer. */
  request<T>(message: Request, timeoutMs?: number): Promise<T>;
  /** Asks the child to stop, SIGKILL after 30 s; resolves once it exited. */
  stop(): Promise<void>;
}

export interface IpcChildOptions {
  /** Names the child in errors. */
  readonly name: string;
  readonly args?: readonly string[];
  /** Node options besides tsx's loader (e.g. `--expose-gc`). */
  readonly execArgv?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** The child's stderr goes here; default: ours, as it is. */
  readonly onStderr?: (text: string) => void;
  /** Start-up bound: DynamoDB Local, redis-server and the bundles take 10-30 s on 2 shared cores. Default 120 s. */
  readonly startTimeoutMs?: number;
}

export async function forkIpcChild<Info, Request extends { readonly type: string }>(
  entry: string,
  options: IpcChildOptions,
): Promise<IpcChild<Info, Request>> {
  const { name } = options;
  const child: ChildProcess = fork(entry, [...(options.args ?? [])], {
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    stdio: ['ignore', 'ignore', options.onStderr ? 'pipe' : 'inherit', 'ipc'],
    // The functions' own log lines (REPORT etc.) are off; Powertools warnings stay quiet too.
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR', ...options.env },
  });
  if (options.onStderr) {
    const onStderr = options.onStderr;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => onStderr(text));
  }

  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  let nextId = 1;
  let exited = false;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const info = await new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`${name} was not ready within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    child.on('message', (raw: unknown) => {
      const message = raw as IpcChildMessage<Info>;
      if ('type' in message) {
        if (message.type !== 'ready') return;
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
      const error = new Error(`${name} exited (code ${code}, signal ${signal})`);
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    });
  });

  const request = <T>(message: Request, timeoutMs = 60_000): Promise<T> => {
    if (exited) return Promise.reject(new Error(`${name} has exited`));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${name}: no answer to ${message.type} within ${timeoutMs} ms`));
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
      child.send({ ...message, id });
    });
  };

  return {
    info,
    pid: child.pid!,
    request,
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await request({ type: 'stop' } as Request, 30_000).catch(() => undefined);
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await gone;
      clearTimeout(killTimer);
    },
  };
}

/**
 * A real `redis-server` for the local stack: loopback only, in memory (no RDB
 * snapshots, no AOF), on a free port, bounded in size with LRU eviction as a
 * cache should be. `stop()`/`start()` let tests take it away and bring it
 * back on the same port to simulate an outage.
 *
 * There is deliberately no stand-in: without the binary the stack runs with
 * no cache at all (CACHE_BACKEND=none), which is a supported configuration,
 * rather than against a fake that would prove nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export interface RedisServerHandle {
  /** `redis://127.0.0.1:PORT`, stable across stop/start. */
  readonly url: string;
  readonly port: number;
  running(): boolean;
  /** Stops the server (SIGTERM, then SIGKILL); its data is gone, as after a node replacement. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

export const REDIS_MISSING_MESSAGE = 'redis-server not found: running without the cache (apt-get install -y redis-server)';

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const BIND_ATTEMPTS = 3;
const MAX_MEMORY = '256mb';

/** The redis-server binary on PATH, if any. */
export function findRedisServer(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

let missingReported = false;

/** Says once per process that the cache is off for lack of a binary. */
export function reportRedisMissing(log: (line: string) => void = (line) => console.warn(line)): void {
  if (missingReported) return;
  missingReported = true;
  log(REDIS_MISSING_MESSAGE);
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (!address || typeof address === 'string') throw new Error('Could not pick a free port');
  return address.port;
}

class BindError extends Error {}

async function launch(binary: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory', MAX_MEMORY, '--maxmemory-policy', 'allkeys-lru', '--loglevel', 'notice'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not become ready on port ${port} within ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const message = `redis-server exited (code ${code}) before it was ready:\n${output.slice(-2000)}`;
      reject(/Address already in use/i.test(output) ? new BindError(message) : new Error(message));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  try {
    await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  // Past readiness its log is not needed, but the pipes must keep draining.
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts redis-server on 127.0.0.1 (a free port unless `port` is given), or
 * answers undefined, after saying so once, when no binary is installed.
 */
export async function startRedisServer(options: { port?: number; log?: (line: string) => void } = {}): Promise<RedisServerHandle | undefined> {
  const binary = findRedisServer();
  if (!binary) {
    reportRedisMissing(options.log);
    return undefined;
  }
  let child: ChildProcess | undefined;
  let port = options.port ?? 0;
  for (let attempt = 1; !child; attempt++) {
    if (options.port === undefined) port = await freePort();
    try {
      child = await launch(binary, port);
    } catch (error) {
      // An auto-picked port can be taken between probing and binding.
      if (!(error instanceof BindError && options.port === undefined && attempt < BIND_ATTEMPTS)) throw error;
    }
  }
  // Never leave a server behind if this process exits without stopping it.
  const killOnExit = (): void => void child?.kill('SIGKILL');
  process.once('exit', killOnExit);
  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    running,
    async stop() {
      if (child) await terminate(child);
      child = undefined;
      process.removeListener('exit', killOnExit);
    },
    async start() {
      if (running()) return;
      child = await launch(binary, port);
      process.once('exit', killOnExit);
    },
  };
}

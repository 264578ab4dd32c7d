/**
 * A real `redis-server` for the local stack: loopback only, in memory (no RDB
 * snapshots, no AOF), on a free port, bounded in size with LRU eviction as a
 * cache should be, supervised by local/process/loopback-child.ts: a crash
 * (an exit nobody asked for) is restarted, empty, on the same port, which the
 * functions' REDIS_URL names. `stop()`/`start()` let tests take it away on
 * purpose (no restart) and bring it back, to simulate an outage; `kill()`
 * simulates a crash (SIGKILL) or an unreachable server that keeps its data
 * (SIGSTOP, then SIGCONT).
 *
 * There is deliberately no stand-in: without the binary the stack runs with
 * no cache at all (CACHE_BACKEND=none), which is a supported configuration,
 * rather than against a fake that would prove nothing.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import {
  DEFAULT_RESTART_POLICY,
  LoopbackChild,
  type ChildEvents,
  type ChildHealth,
  type RestartPolicy,
} from '../process/loopback-child.js';
import { LOOPBACK_HOST } from '../process/ports.js';

export interface RedisServerHandle {
  /** `redis://127.0.0.1:PORT`, stable across stop/start and restarts. */
  readonly url: string;
  readonly port: number;
  running(): boolean;
  /** Stops the server on purpose (SIGTERM, then SIGKILL; no restart follows); its data is gone, as after a node replacement. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Signals the process as the OS would (tests: SIGKILL is a crash, restarted empty; SIGSTOP/SIGCONT freeze it with its data). */
  kill(signal?: NodeJS.Signals): boolean;
  health(): ChildHealth;
  on<K extends keyof ChildEvents>(event: K, listener: ChildEvents[K]): () => void;
}

export const REDIS_MISSING_MESSAGE = 'redis-server not found: running without the cache (apt-get install -y redis-server)';

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

/**
 * Starts redis-server on 127.0.0.1 (a free port unless `port` is given), or
 * answers undefined, after saying so once, when no binary is installed. A
 * crash (an exit stop() did not ask for) is restarted on the same port, empty,
 * unless `restart` is false.
 */
export async function startRedisServer(
  options: { port?: number; log?: (line: string) => void; restart?: boolean | RestartPolicy; readyTimeoutMs?: number } = {},
): Promise<RedisServerHandle | undefined> {
  const binary = findRedisServer();
  if (!binary) {
    reportRedisMissing(options.log);
    return undefined;
  }
  const child = new LoopbackChild({
    name: 'redis-server',
    command: binary,
    args: (port) => [
      '--port',
      String(port),
      '--bind',
      LOOPBACK_HOST,
      // A cache, not a store: no RDB snapshots, no AOF, bounded with LRU eviction.
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory',
      MAX_MEMORY,
      '--maxmemory-policy',
      'allkeys-lru',
      '--loglevel',
      'notice',
    ],
    ...(options.port !== undefined ? { port: options.port } : {}),
    readyLine: /Ready to accept connections/,
    isBindFailure: (_exit, output) => output.some((line) => /Address already in use/i.test(line)),
    ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    restart:
      options.restart === false
        ? false
        : options.restart === undefined || options.restart === true
          ? DEFAULT_RESTART_POLICY
          : options.restart,
  });
  await child.start();
  return {
    url: `redis://${LOOPBACK_HOST}:${child.port}`,
    port: child.port,
    running: () => child.running(),
    stop: () => child.stop(),
    start: () => child.start(),
    kill: (signal) => child.kill(signal),
    health: () => child.health(),
    on: (event, listener) => child.on(event, listener),
  };
}

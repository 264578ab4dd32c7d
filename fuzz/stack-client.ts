import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { forkIpcChild } from '../local/process/ipc-child.js';
import type { ParentMessage, StackInfo, StackMemory } from './stack-protocol.js';

/**
 * The parent's handle on a stack process (fuzz/stack-process.ts): its
 * connection details, and memory figures, GC, heap snapshots and tokens on
 * request over IPC.
 */
export interface StackProcess {
  readonly info: StackInfo;
  readonly pid: number;
  memory(): Promise<StackMemory>;
  /** Full GC in the stack process (several passes). */
  gc(): Promise<void>;
  /** Writes a heap snapshot of the stack process's main thread; returns its path. */
  snapshot(path: string): Promise<string>;
  /** Writes a heap snapshot of every live execution environment (`<prefix>.<function>-<n>.heapsnapshot`); returns the paths. */
  workerSnapshots(prefix: string): Promise<string[]>;
  mint(username: string, groups?: readonly string[]): Promise<string>;
  /** RSS of the stack process and of each of its child processes (DynamoDB Local's JVM, redis-server), from /proc. */
  processTree(): Promise<ProcessRss[]>;
  stop(): Promise<void>;
}

export interface ProcessRss {
  readonly pid: number;
  readonly name: string;
  readonly rssBytes: number;
}

export interface StackProcessOptions {
  readonly cache?: 'redis' | 'none';
  /** Sample products written straight to the table before `ready`. */
  readonly seedProducts?: number;
  readonly maxConcurrency?: number;
  /** Start-up bound: DynamoDB Local and the bundles take 10-30 s on 2 shared cores. */
  readonly startTimeoutMs?: number;
  /** Extra environment for the stack process (e.g. MALLOC_ARENA_MAX). */
  readonly env?: Readonly<Record<string, string>>;
  /** The stack's stderr (its warnings, crash reports) goes here; default: our stderr. */
  readonly onStderr?: (text: string) => void;
}

/** Omit distributed over a union. */
type WithoutId<M> = M extends unknown ? Omit<M, 'id'> : never;

const ENTRY = fileURLToPath(new URL('./stack-process.ts', import.meta.url));

export async function startStackProcess(options: StackProcessOptions = {}): Promise<StackProcess> {
  const args = ['--cache', options.cache ?? 'redis', '--seed', String(options.seedProducts ?? 0)];
  if (options.maxConcurrency !== undefined) args.push('--max-concurrency', String(options.maxConcurrency));
  const child = await forkIpcChild<StackInfo, WithoutId<ParentMessage>>(ENTRY, {
    name: 'The stack process',
    args,
    execArgv: ['--expose-gc'],
    onStderr: options.onStderr ?? ((text) => process.stderr.write(text)),
    ...(options.env ? { env: options.env } : {}),
    ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
  });
  const { info, request } = child;

  const pid = child.pid;
  return {
    info,
    pid,
    memory: () => request<StackMemory>({ type: 'memory' }),
    gc: () => request<void>({ type: 'gc' }),
    snapshot: (path) => request<string>({ type: 'snapshot', path }, 300_000),
    workerSnapshots: (prefix) => request<string[]>({ type: 'snapshot', path: prefix, workers: true }, 600_000),
    mint: (username, groups = []) => request<string>({ type: 'mint', username, groups }),
    processTree: () => processTree(pid),
    stop: () => child.stop(),
  };
}

/** The process and its descendants, with their resident set sizes (Linux /proc; empty elsewhere). */
export async function processTree(rootPid: number): Promise<ProcessRss[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        try {
          const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
          // pid (comm) state ppid …; comm may hold spaces and parentheses.
          const close = stat.lastIndexOf(')');
          const fields = stat.slice(close + 2).split(' ');
          parents.set(Number(entry), Number(fields[1]));
          names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
        } catch {
          // The process ended while we looked.
        }
      }),
  );
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, parent] of parents) if (parent === tree[i]) tree.push(pid);
  }
  const result: ProcessRss[] = [];
  for (const pid of tree) {
    const rssBytes = await rssOf(pid);
    if (rssBytes !== undefined) result.push({ pid, name: names.get(pid) ?? '?', rssBytes });
  }
  return result;
}

export async function rssOf(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A fresh local stack in a process of its own, for `npm run fuzz` and the
 * benchmark's soak: the load generator runs in the parent, so the stack's RSS
 * (this process: HTTP server, executor, function worker threads) is measured
 * without the client's allocations in it.
 *
 * Started by `startStackProcess()` (fuzz/stack-client.ts) with `fork()` and an
 * IPC channel; it answers the parent's requests over that channel:
 *   memory   → process.memoryUsage(), per-function environments and their heaps, realtime and dead-letter counts
 *   gc       → a full collection (needs --expose-gc, which the parent passes)
 *   snapshot → v8.writeHeapSnapshot(path)
 *   mint     → a user-pool token for { username, groups }
 *   stop     → stack.stop(), then exit
 * Everything binds 127.0.0.1 (port 0: a free port).
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { writeHeapSnapshot } from 'node:v8';
import type { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { startLocalStack, type LocalStack } from '../local/runtime.js';
import { seedCatalog } from '../local/seed.js';
import type { ParentMessage, ChildMessage, StackInfo, StackMemory } from './stack-protocol.js';

const { values } = parseArgs({
  options: {
    cache: { type: 'string', default: 'redis' },
    seed: { type: 'string', default: '0' },
    'max-concurrency': { type: 'string' },
  },
  strict: true,
});

const send = (message: ChildMessage): void => {
  process.send?.(message);
};

if (!process.send) {
  console.error('fuzz/stack-process.ts is started by the fuzzer or the soak (fork with IPC), not by hand');
  process.exit(2);
}

let stack: LocalStack | undefined;
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await stack?.stop().catch((error: unknown) => console.error('stack stop failed', error));
  }
  process.exit(code);
}

function memory(current: LocalStack): StackMemory {
  const usage = process.memoryUsage();
  const functions: StackMemory['functions'] = {};
  for (const [name, fn] of current.functions) {
    const stats = fn.stats();
    functions[name] = {
      environments: stats.environments,
      invocations: stats.invocations,
      coldStarts: stats.coldStarts,
      queued: stats.queued,
      memory: stats.memory,
      idleShutdowns: stats.idleShutdowns,
    };
  }
  const realtime = current.realtime.stats();
  return {
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    functions,
    realtime: { connections: realtime.connections, subscriptions: realtime.subscriptions },
    deadLetters: current.deadLetters().length,
  };
}

/**
 * A heap snapshot of every live execution environment (worker isolate), for
 * diagnosing growth inside the functions: `<prefix>.<function>-<n>.heapsnapshot`.
 * Taking one runs a full GC in that isolate first, so the sizes are live objects.
 * Reaches into LocalFunction's environments: a diagnostic, not an API.
 */
async function workerSnapshots(current: LocalStack, prefix: string): Promise<string[]> {
  const paths: string[] = [];
  for (const [name, fn] of current.functions) {
    const environments = (fn as unknown as { environments: Set<{ id: number; worker: Worker; state: string }> }).environments;
    for (const environment of environments) {
      if (environment.state === 'dead') continue;
      const path = `${prefix}.${name}-${environment.id}.heapsnapshot`;
      // An environment may be shut down (idle timeout) while its snapshot is taken: give up on that one.
      const exited = new Promise<'exited'>((resolve) => environment.worker.once('exit', () => resolve('exited')));
      const taken = (async () => {
        await pipeline(await environment.worker.getHeapSnapshot(), createWriteStream(path));
        return 'taken' as const;
      })();
      if ((await Promise.race([taken, exited])) === 'taken') paths.push(path);
    }
  }
  return paths;
}

process.on('message', (raw: unknown) => {
  const message = raw as ParentMessage;
  void (async () => {
    try {
      if (!stack) throw new Error('stack not started');
      switch (message.type) {
        case 'memory':
          send({ id: message.id, ok: true, value: memory(stack) });
          return;
        case 'gc': {
          const gc = (globalThis as { gc?: () => void }).gc;
          if (!gc) throw new Error('start with --expose-gc');
          // Several passes: weak references and finalizers free more on the next one.
          for (let i = 0; i < 3; i++) {
            gc();
            await new Promise((resolve) => setImmediate(resolve));
          }
          send({ id: message.id, ok: true, value: null });
          return;
        }
        case 'snapshot':
          send({
            id: message.id,
            ok: true,
            value: message.workers ? await workerSnapshots(stack, message.path) : writeHeapSnapshot(message.path),
          });
          return;
        case 'mint':
          send({
            id: message.id,
            ok: true,
            value: stack.userPool.mint({
              username: message.username,
              sub: message.username,
              groups: [...message.groups],
              expiresInSeconds: 6 * 3600,
            }),
          });
          return;
        case 'stop':
          send({ id: message.id, ok: true, value: null });
          await stop(0);
      }
    } catch (error) {
      send({ id: message.id, ok: false, error: String(error) });
    }
  })();
});
// The parent going away (crash, Ctrl+C) takes the stack with it: no orphaned JVM or redis-server.
process.on('disconnect', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

try {
  const maxConcurrency = values['max-concurrency'] === undefined ? undefined : Number(values['max-concurrency']);
  stack = await startLocalStack({
    port: 0,
    cache: values.cache === 'none' ? 'none' : 'redis',
    ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
  });
  const seeded = Number(values.seed) > 0 ? await seedCatalog(stack, Number(values.seed)) : 0;
  const info: StackInfo = {
    pid: process.pid,
    url: stack.url,
    graphqlUrl: stack.graphqlUrl,
    realtimeUrl: stack.realtimeUrl,
    apiKey: stack.apiKey,
    partnerToken: stack.partner.token,
    iamPrincipal: { accessKeyId: stack.iamPrincipal.accessKeyId, secretAccessKey: stack.iamPrincipal.secretAccessKey },
    dynamoDbEndpoint: stack.dynamoDbEndpoint,
    tables: { ...stack.tables },
    cache: stack.redis ? 'redis' : 'none',
    seededProducts: seeded,
  };
  send({ type: 'ready', info });
} catch (error) {
  console.error('The local stack did not start:', error);
  await stop(1);
}

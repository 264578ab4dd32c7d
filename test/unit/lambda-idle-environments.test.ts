/**
 * local/lambda/function-runtime.ts: an idle execution environment is shut down
 * after idleTimeoutSeconds, as Lambda recycles them (memory is released), and
 * the next invocation is a cold start in a fresh module instance. stats()
 * reports the environments' heaps.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalFunction, type InvokeResult } from '../../local/lambda/function-runtime.js';

const open: LocalFunction[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((fn) => fn.close()));
});

const payloadOf = (result: InvokeResult): { count: number; instanceId: string } => {
  if (!result.ok) throw new Error(`expected success, got ${result.error.errorMessage}`);
  return result.payload as { count: number; instanceId: string };
};

describe('idle execution environments', () => {
  it('shut down after idleTimeoutSeconds; the next call is a cold start in a new instance', async () => {
    const fn = new LocalFunction({
      name: 'idle-test',
      bundlePath: fileURLToPath(new URL('../fixtures/lambda/stateful.mjs', import.meta.url)),
      environment: {},
      memoryMb: 256,
      timeoutSeconds: 10,
      maxConcurrency: 1,
      idleTimeoutSeconds: 0.3,
      log: () => undefined,
    });
    open.push(fn);
    const first = payloadOf(await fn.invoke({}));
    expect(first.count).toBe(1);
    expect(fn.stats().environments).toBe(1);
    await vi.waitFor(() => expect(fn.stats()).toMatchObject({ environments: 0, idleShutdowns: 1 }), { timeout: 10_000, interval: 20 });

    const second = payloadOf(await fn.invoke({}));
    expect(second.count).toBe(1);
    expect(second.instanceId).not.toBe(first.instanceId);
    expect(fn.stats().coldStarts).toBe(2);
  });

  it('report their heaps in stats()', async () => {
    const fn = new LocalFunction({
      name: 'heap-test',
      bundlePath: fileURLToPath(new URL('../fixtures/lambda/stateful.mjs', import.meta.url)),
      environment: {},
      memoryMb: 256,
      timeoutSeconds: 10,
      maxConcurrency: 1,
      log: () => undefined,
    });
    open.push(fn);
    await fn.invoke({});
    await vi.waitFor(() => expect(fn.stats().memory.totalHeapBytes).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
  });
});

/**
 * Runs once per `vitest run`, in the main process (vitest.config.ts `globalSetup`), before any file.
 *
 * - One directory for the run under which each worker keeps its function bundles
 *   (support/bundle-dirs.ts): a stack a worker starts after its first one finds its bundles built and
 *   unchanged (build/bundle-stamp.ts) instead of running esbuild again. The directory is removed at the
 *   end of the run; being per run, two vitest processes in one checkout never share one.
 * - One DynamoDB Local per worker (support/worker-dynamodb.ts), for the stacks its files start. They are
 *   spawned here and not waited for: a stack waits for its worker's to answer (and starts its own if it
 *   never does), and a run that ends before they are up (unit tests only) cancels their start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynamoDBLocal } from '../../local/dynamodb/dynamodb-local.js';
import { findFreePort } from '../../local/process/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's directory for reusable function bundles (support/bundle-dirs.ts). */
    bundleRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bundleRoot = await mkdtemp(join(tmpdir(), 'storefront-test-bundles-'));
  project.provide('bundleRoot', bundleRoot);

  const workers = Math.max(1, project.config.maxWorkers);
  const ports = await Promise.all(Array.from({ length: workers }, () => findFreePort()));
  // quickStart: the flags vitest.config.ts gives the workers' JVMs through JAVA_TOOL_OPTIONS (same archive).
  // Aborted at the end: a short run (unit tests only) ends before they are up, and waits for none of them.
  const end = new AbortController();
  const jvms = ports.map((port) => startDynamoDBLocal({ port, quickStart: true, signal: end.signal }).catch(() => undefined));
  project.provide(
    'workerDynamoDBEndpoints',
    ports.map((port) => `http://127.0.0.1:${port}`),
  );

  return async () => {
    end.abort(new Error('The test run ended'));
    await Promise.all(
      jvms.map(async (starting) => {
        const jvm = await starting;
        if (!jvm) return;
        // Not stop(): a JVM that started without a class-data archive would spend the end of the run recording one.
        jvm.kill('SIGKILL');
        await jvm.stop();
      }),
    );
    await rm(bundleRoot, { recursive: true, force: true });
  };
}

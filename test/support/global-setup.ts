/**
 * Runs once per `vitest run`, in the main process (vitest.config.ts `globalSetup`), before any file.
 *
 * - The directory under which each worker keeps its function bundles (support/bundle-dirs.ts): a stack
 *   finds its bundles built and unchanged (build/bundle-stamp.ts) instead of running esbuild again, from
 *   the previous run on. It is kept between runs in the repository's cache, claimed by one run at a time
 *   (support/directory-claim.ts); a run that finds it claimed by another live one uses a directory of its
 *   own, removed at its end, so two vitest processes in one checkout never build into the same files.
 * - One DynamoDB Local per worker (support/worker-dynamodb.ts), for the stacks its files start. They are
 *   spawned here and not waited for: a stack waits for its worker's to answer (and starts its own if it
 *   never does), and a run that ends before they are up (unit tests only) cancels their start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { cacheRoot } from '../../declarations/paths.js';
import { startDynamoDBLocal } from '../../local/dynamodb/dynamodb-local.js';
import { findFreePort } from '../../local/process/ports.js';
import { claimDirectory } from './directory-claim.js';

const KEPT_BUNDLE_ROOT = join(cacheRoot, 'test-bundles');

declare module 'vitest' {
  export interface ProvidedContext {
    /** The directory this run keeps its reusable function bundles in (support/bundle-dirs.ts). */
    bundleRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const releaseKept = claimDirectory(KEPT_BUNDLE_ROOT);
  const bundleRoot = releaseKept ? KEPT_BUNDLE_ROOT : await mkdtemp(join(tmpdir(), 'storefront-test-bundles-'));
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
    if (releaseKept) releaseKept();
    else await rm(bundleRoot, { recursive: true, force: true });
  };
}

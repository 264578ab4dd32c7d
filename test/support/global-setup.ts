/**
 * Runs once per `vitest run`, in the main process (vitest.config.ts `globalSetup`), before any file.
 *
 * It makes one directory for the run under which each worker keeps its function bundles
 * (support/bundle-dirs.ts): a stack a worker starts after its first one finds its bundles built and
 * unchanged (build/bundle-stamp.ts) instead of running esbuild again. The directory is removed at
 * the end of the run; being per run, two vitest processes in one checkout never share one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's directory for reusable function bundles (support/bundle-dirs.ts). */
    bundleRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bundleRoot = await mkdtemp(join(tmpdir(), 'storefront-test-bundles-'));
  project.provide('bundleRoot', bundleRoot);
  return () => rm(bundleRoot, { recursive: true, force: true });
}

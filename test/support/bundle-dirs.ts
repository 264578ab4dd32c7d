/**
 * Where a test stack's function bundles go. Bundling every function with esbuild is seconds of CPU per
 * stack, and a run starts some twenty stacks on two cores; the bundles only change when the code does.
 * So each worker keeps its bundles in a directory kept between runs (support/global-setup.ts), and the
 * runtime's bundle stamp (build/bundle-stamp.ts: input hashes, options, esbuild version) decides whether
 * they can be reused or must be rebuilt: correctness never depends on this cache.
 *
 * A directory is used by one stack at a time (two stacks of one file starting together would otherwise
 * rebuild into the same files), and per cache mode, since that decides which cache client a bundle holds.
 */
import { join } from 'node:path';
import { inject } from 'vitest';

const inUse = new Set<string>();

/**
 * A bundle directory for one stack (or one other build), and the function that gives it back once the
 * stack stopped. `kind` names what is built there: a stack's cache mode (`redis`, `none`), or a build of
 * its own (`artifacts-none`, stacks/deployed-artifacts). Undefined without the global setup (a file run
 * through another config): the runtime then bundles into a private temporary directory of its own, as it
 * does outside tests.
 */
export function leaseBundleDir(kind: string): { dir: string | undefined; release: () => void } {
  const root = inject('bundleRoot') as string | undefined;
  if (!root) return { dir: undefined, release: () => undefined };
  const worker = process.env.VITEST_POOL_ID ?? String(process.pid);
  let slot = 0;
  while (inUse.has(`${kind}-${slot}`)) slot += 1;
  const key = `${kind}-${slot}`;
  inUse.add(key);
  return { dir: join(root, `worker-${worker}`, key), release: () => void inUse.delete(key) };
}

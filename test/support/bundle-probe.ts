/**
 * Builds a small entry with the functions' esbuild options (build/bundle.ts `functionBuildOptions`), with or
 * without their plugins, runs it in a fresh `node`, and returns the code it was bundled into and the JSON its
 * last output line printed. For tests of what the build's plugins change in a real bundle.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { repositoryRoot } from '../../declarations/paths.js';
import { functionBuildOptions } from '../../build/bundle.js';
import type { CacheBackendKind } from '../../build/cache-backend.js';

export interface BundleProbeOptions {
  /** The entry's source, an ES module that prints one JSON line last. */
  readonly source: string;
  /** A directory of the test's; the probe writes into a new directory under it. */
  readonly scratch: string;
  readonly withPlugins: boolean;
  readonly cacheBackend?: CacheBackendKind;
}

export async function bundleProbe<T>(options: BundleProbeOptions): Promise<{ code: string; printed: T }> {
  const directory = mkdtempSync(join(options.scratch, 'probe-'));
  const entry = join(directory, 'entry.mjs');
  writeFileSync(entry, options.source);
  const outdir = join(directory, 'out');
  const buildOptions = functionBuildOptions(entry, outdir, options.cacheBackend ?? 'none');
  const result = await build({
    ...buildOptions,
    entryPoints: { index: entry },
    // The entry lives outside the repository; its packages are the repository's.
    nodePaths: [join(repositoryRoot, 'node_modules')],
    plugins: options.withPlugins ? buildOptions.plugins : [],
    logLevel: 'silent',
  });
  const code = Object.keys(result.metafile?.outputs ?? {})
    .filter((file) => file.endsWith('.mjs'))
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
  const output = execFileSync(process.execPath, [join(outdir, 'index.mjs')], { encoding: 'utf8' });
  return { code, printed: JSON.parse(output.trim().split('\n').at(-1)!) as T };
}

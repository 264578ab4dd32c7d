import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleFunctions, type FunctionBundle } from '../../build/bundle.js';
import type { CacheBackendKind } from '../../build/cache-backend.js';
import { repositoryRoot } from '../../declarations/paths.js';
import { functionNames, type FunctionName } from '../../declarations/functions.js';
import type { CacheConfig } from '../config.js';
import { createZip, type ZipEntry } from './zip.js';

/** A function's deployment package: a zip on disk and the hash Lambda compares to decide on a redeploy. */
export interface FunctionArtifact {
  readonly name: string;
  readonly zipFile: string;
  readonly bytes: number;
  /** base64 sha256 of the zip, the format of Lambda's `source_code_hash`. */
  readonly sourceCodeHash: string;
}

/** One directory per cache backend below it (`none`, `redis`, `dax`): each holds that variant's bundles and zips. */
export const defaultBuildDirectory = join(repositoryRoot, 'cdktf.out', 'functions');

/** The cache backend an environment's functions are built with (build/cache-backend.ts). */
export function cacheBackendOf(cache: CacheConfig): CacheBackendKind {
  switch (cache.kind) {
    case 'none':
      return 'none';
    case 'elasticache':
      return 'redis';
    case 'dax':
      return 'dax';
  }
}

/**
 * What goes into a function's zip: its JavaScript (index.mjs and the chunks it
 * may load), not its source maps. The maps stay beside the zip in the build
 * directory (`<buildDir>/bundles/<name>/*.map`), matching the deployed code byte
 * for byte; README "Function artifacts" explains why they do not ship.
 */
export async function packageEntries(bundle: FunctionBundle, options: { withSourceMaps?: boolean } = {}): Promise<ZipEntry[]> {
  const files = bundle.files.filter((file) => file.endsWith('.mjs') || (options.withSourceMaps === true && file.endsWith('.mjs.map')));
  const directory = join(bundle.file, '..');
  return Promise.all(files.map(async (name) => ({ name, content: await readFile(join(directory, name)) })));
}

export interface BuildArtifactsOptions {
  /** The environment's cache backend (`cacheBackendOf(config.cache)`): which client the bundles contain. */
  readonly cacheBackend: CacheBackendKind;
  /** Default `defaultBuildDirectory/<cacheBackend>`. */
  readonly buildDir?: string;
  readonly only?: readonly FunctionName[];
}

/**
 * Bundles every function (the same esbuild bundles the local runtime runs) for
 * one cache backend and packs each into `<buildDir>/<name>.zip`, deflated and
 * byte-identical on every machine (stacks/lib/zip.ts).
 */
export async function buildFunctionArtifacts(options: BuildArtifactsOptions): Promise<FunctionArtifact[]> {
  const buildDir = options.buildDir ?? join(defaultBuildDirectory, options.cacheBackend);
  const bundles = await bundleFunctions(join(buildDir, 'bundles'), {
    cacheBackend: options.cacheBackend,
    only: options.only ?? functionNames,
  });
  await mkdir(buildDir, { recursive: true });
  return Promise.all(
    bundles.map(async (bundle) => {
      const zip = createZip(await packageEntries(bundle));
      const zipFile = join(buildDir, `${bundle.name}.zip`);
      await writeFile(zipFile, zip);
      return {
        name: bundle.name,
        zipFile,
        bytes: zip.byteLength,
        sourceCodeHash: createHash('sha256').update(zip).digest('base64'),
      };
    }),
  );
}

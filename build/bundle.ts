import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { BuildOptions, Metafile } from 'esbuild';
import { functionNames, functions, type FunctionName } from '../declarations/functions.js';
import { repositoryRoot } from '../declarations/paths.js';
import {
  discardPreviousBuild,
  FileStateReader,
  reusableBundle,
  writeBundleStamp,
  type BuiltFiles,
  type BundleFingerprint,
} from './bundle-stamp.js';
import { assertCacheBackendKind, cacheBackendPlugin, functionCacheBackend, type CacheBackendKind } from './cache-backend.js';
import { ioredisPrototypePlugin } from './ioredis-prototypes.js';
import { nodeHttpRequirePlugin } from './node-http-require.js';

/** What one bundled entry produced. */
export interface EntryBundle {
  /** Absolute path of the entry chunk (index.mjs), what Lambda runs as `index.handler`. */
  readonly file: string;
  /** Every file written, relative to the bundle's directory, `/`-separated and sorted: index.mjs, lazily loaded chunks, source maps. */
  readonly files: readonly string[];
  /** Size of index.mjs. */
  readonly bytes: number;
  /** index.mjs and the chunks it imports statically: what init loads, whatever the invocations do. */
  readonly initFiles: readonly string[];
  readonly initBytes: number;
  /** Size of every JavaScript file (index.mjs and its chunks), source maps excluded. */
  readonly codeBytes: number;
  /** Hash of every file's name, size and content hash: unchanged code gives the same hash and no redeploy. */
  readonly sha256: string;
  /** Every input file esbuild read, relative to the repository root (what the bundle cache compares). */
  readonly inputs: readonly string[];
  /** True when the previous build in the same directory was reused (see build/bundle-stamp.ts). */
  readonly reused: boolean;
}

export interface FunctionBundle extends EntryBundle {
  readonly name: FunctionName;
  /** The cache client it contains (`none` for functions reading no cached table). */
  readonly cacheBackend: CacheBackendKind;
}

export interface BundleEntryOptions {
  /** Which cache client the bundle contains (build/cache-backend.ts); only matters for code importing lib/cache. */
  readonly cacheBackend: CacheBackendKind;
  /** Skip esbuild when the stamp beside the output says nothing changed (default true). */
  readonly reuse?: boolean;
  /** Shared by the entries of one round, so that inputs they have in common are looked at once. */
  readonly files?: FileStateReader;
}

const ENTRY_NAME = 'index';

/**
 * The esbuild options of every function bundle, in one place so the benchmark's
 * floor handler is built exactly like the functions (`bundleEntry`).
 *
 * - ESM with code splitting: what a function imports dynamically (ioredis on
 *   first cache use, the Secrets Manager client only with REDIS_AUTH_SECRET_ARN,
 *   the DAX client) becomes a chunk beside index.mjs that init never reads;
 * - `mainFields: module` first: the AWS SDK's ES module builds tree-shake far
 *   better than its CommonJS ones (README "Function artifacts" has the figures);
 * - minified, no legal comments, a linked source map (kept beside the zip, see
 *   stacks/lib/artifacts.ts);
 * - plugins: the cache client of the backend only (./cache-backend.ts), ioredis's
 *   command prototype built without V8's quadratic slow path (./ioredis-prototypes.ts),
 *   and `node:http` loaded with require, which on Node 22 does not load undici with it
 *   (./node-http-require.ts).
 */
export function functionBuildOptions(entry: string, outDir: string, cacheBackend: CacheBackendKind): BuildOptions {
  return {
    entryPoints: { [ENTRY_NAME]: entry },
    outdir: outDir,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    minify: true,
    treeShaking: true,
    charset: 'utf8',
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    // Some dependencies are CommonJS and call require(); give ESM bundles one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    plugins: [cacheBackendPlugin(cacheBackend), ioredisPrototypePlugin(), nodeHttpRequirePlugin()],
  };
}

/** What decides a bundle's bytes besides its input files; part of the stamp. */
function fingerprintOf(options: BuildOptions, cacheBackend: CacheBackendKind): BundleFingerprint {
  const { plugins: _plugins, outdir: _outdir, ...rest } = options;
  return { options: JSON.stringify(rest), cacheBackend };
}

const posixPath = (path: string): string => path.split(sep).join('/');

/**
 * Sizes and hash of a build's outputs, from the states its stamp holds: a reused build's as verified, a new
 * one's as just written. Reading and hashing each function's ~3 MB of code and source maps again was, over
 * five functions, most of the CPU a warm dev start spent checking its bundles, while DynamoDB Local's JVM
 * was starting beside it. Read only when no stamp could be written.
 */
async function describeOutput(outDir: string, built: BuiltFiles, reused: boolean): Promise<EntryBundle> {
  const hash = createHash('sha256');
  let bytes = 0;
  let codeBytes = 0;
  let initBytes = 0;
  const files = new FileStateReader();
  for (const name of built.outputs) {
    const state = built.outputStates?.[name] ?? (await files.state(join(outDir, name)));
    if (!state) throw new Error(`Cannot read ${name} of the bundle in ${outDir}`);
    const { size, sha256: contentHash } = state;
    hash.update(`${name}\0${size}\0${contentHash}\n`);
    if (name.endsWith('.mjs')) codeBytes += size;
    if (name === `${ENTRY_NAME}.mjs`) bytes = size;
    if (built.initFiles.includes(name)) initBytes += size;
  }
  return {
    file: join(outDir, `${ENTRY_NAME}.mjs`),
    files: built.outputs,
    bytes,
    initFiles: built.initFiles,
    initBytes,
    codeBytes,
    sha256: hash.digest('hex'),
    inputs: built.inputs,
    reused,
  };
}

/** The chunks index.mjs loads before it runs: its static imports, transitively. */
function initChunks(metafile: Metafile, outDir: string): string[] {
  const relativeName = (path: string): string => posixPath(relative(outDir, join(repositoryRoot, path)));
  const byName = new Map(Object.entries(metafile.outputs).map(([path, output]) => [relativeName(path), output]));
  const seen = new Set<string>();
  const pending = [`${ENTRY_NAME}.mjs`];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    for (const imported of byName.get(name)?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) pending.push(relativeName(imported.path));
    }
  }
  return [...seen].sort();
}

/** Output paths of a metafile, relative to `outDir`, sorted. */
function outputFiles(metafile: Metafile, outDir: string): string[] {
  return Object.keys(metafile.outputs)
    .map((path) => posixPath(relative(outDir, join(repositoryRoot, path))))
    .sort();
}

/**
 * Input files of a metafile, as esbuild names them (relative to the repository root). Inputs a plugin
 * served from a namespace of its own (`<namespace>:<path>`, e.g. build/cache-backend.ts's stand-ins for
 * the clients a backend leaves out) are no files: the fingerprint's backend already covers them.
 */
function inputFiles(metafile: Metafile): string[] {
  return Object.keys(metafile.inputs)
    .filter((input) => !/^[\w-]+:/.test(input))
    .sort();
}

/**
 * Bundles one entry (a module exporting `handler`) into `outDir` with exactly
 * the functions' options: `outDir/index.mjs`, its chunks and source maps.
 * Unless `reuse` is false, an unchanged entry (same input files, options,
 * cache backend and esbuild version) is not rebuilt.
 */
export async function bundleEntry(entry: string, outDir: string, options: BundleEntryOptions): Promise<EntryBundle> {
  assertCacheBackendKind(options.cacheBackend);
  const buildOptions = functionBuildOptions(entry, outDir, options.cacheBackend);
  const fingerprint = fingerprintOf(buildOptions, options.cacheBackend);
  if (options.reuse !== false) {
    const previous = await reusableBundle(outDir, fingerprint, options.files);
    if (previous) return describeOutput(outDir, previous, true);
  }
  await mkdir(outDir, { recursive: true });
  await discardPreviousBuild(outDir);
  // Loaded here: a start whose bundles are all reused never needs esbuild.
  const { build } = await import('esbuild');
  const result = await build({ ...buildOptions, absWorkingDir: repositoryRoot });
  const metafile = result.metafile ?? { inputs: {}, outputs: {} };
  const built: BuiltFiles = {
    inputs: inputFiles(metafile),
    outputs: outputFiles(metafile, outDir),
    initFiles: initChunks(metafile, outDir),
  };
  // The stamp hashes every output; describing the build takes those states rather than reading the files again.
  const outputStates = await writeBundleStamp(outDir, fingerprint, built);
  return describeOutput(outDir, outputStates ? { ...built, outputStates } : built, false);
}

export interface BundleFunctionsOptions {
  /** The environment's cache backend; each function gets it if it reads a cached table, else `none`. */
  readonly cacheBackend: CacheBackendKind;
  readonly only?: readonly FunctionName[];
  /** Skip esbuild for functions whose inputs are unchanged since the last build in `outDir` (default true). */
  readonly reuse?: boolean;
}

/**
 * Bundles each function of the function map into `<outDir>/<name>/`: one
 * minified, tree-shaken ESM entry (index.mjs) with its lazily loaded chunks
 * and source maps. The same bundles run in the local runtime and are zipped
 * for Lambda (Node.js 22), so both execute identical code.
 */
export async function bundleFunctions(
  outDir = join(repositoryRoot, 'dist', 'functions'),
  options: BundleFunctionsOptions,
): Promise<FunctionBundle[]> {
  const only = options.only ?? functionNames;
  const files = new FileStateReader();
  return Promise.all(
    only.map(async (name) => {
      const cacheBackend = functionCacheBackend(name, options.cacheBackend);
      const bundle = await bundleEntry(join(repositoryRoot, functions[name].entry), join(outDir, name), {
        cacheBackend,
        files,
        ...(options.reuse === undefined ? {} : { reuse: options.reuse }),
      });
      return { ...bundle, name, cacheBackend };
    }),
  );
}

// @ts-check
/**
 * `npm run dev`: runs local/dev.ts (arguments and all) from a bundle that
 * esbuild builds when its sources changed and that is reused while they have
 * not, instead of through tsx. tsx transpiles each of the ~150 modules on every
 * start, through loader hooks on a thread of their own: on the 2-core machine
 * that was ~0.45 s before dev.ts ran and ~0.65 s to import the stack, while
 * DynamoDB Local's JVM, spawned meanwhile, wanted the same cores. The bundle
 * imports in ~0.4 s with no loader at all.
 *
 * - Only the repository's code is bundled; packages stay imports of
 *   node_modules (`packages: 'external'`), so a dependency update needs no
 *   rebuild. Code splitting keeps dev.ts's `await import('./runtime.js')` a
 *   chunk of its own: the JVM is still spawned before the AWS SDK and graphql load.
 * - Every module keeps its own `import.meta.url` (the worker script, the
 *   DynamoDB Local launcher and the GraphiQL page are found next to their
 *   sources), as if it ran unbundled.
 * - The stamp (build/file-states.mjs) covers every input esbuild read, plus
 *   this file, the stamp code, tsconfig.json and esbuild's own version. Each
 *   build goes to a directory of its own, named in the stamp, so a second
 *   `npm run dev` never reads a half-written one; older builds are removed.
 * - Stack traces point into the bundle (its sections are commented with their
 *   source paths); `NODE_OPTIONS=--enable-source-maps npm run dev` maps them
 *   back to the TypeScript, at some start-up cost.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { validStamp, writeStamp } from './file-states.mjs';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = 'local/dev.ts';
/**
 * Where builds and their stamp live: `dev-server` under declarations/paths.ts `cacheRoot` (spelled out here,
 * since this file runs before any TypeScript can be loaded); STOREFRONT_DEV_CACHE_DIR moves it (the
 * launcher's tests use their own). Inside the repository either way: the bundle's package imports resolve from where it lies, and
 * only from there do they find the repository's node_modules.
 */
const CACHE_DIR = resolve(
  process.env.STOREFRONT_DEV_CACHE_DIR || join(repositoryRoot, 'node_modules', '.cache', 'storefront', 'dev-server'),
);
if (relative(repositoryRoot, CACHE_DIR).startsWith('..') || isAbsolute(relative(repositoryRoot, CACHE_DIR))) {
  console.error(`npm run dev: STOREFRONT_DEV_CACHE_DIR must be inside ${repositoryRoot}, got ${CACHE_DIR}`);
  process.exit(2);
}
const STAMP_PATH = join(CACHE_DIR, 'stamp.json');
const STAMP_FORMAT = 1;
/** Inputs esbuild does not list in its metafile but that decide the bundle. */
const BUILD_INPUTS = ['build/dev-launch.mjs', 'build/file-states.mjs', 'tsconfig.json', 'node_modules/esbuild/package.json'];
/** Stands in for `import.meta.url` in every bundled module; each module declares its own. */
const SOURCE_URL = '__sourceFileUrl';

/**
 * @typedef {import('./file-states.d.mts').Stamp & { format: number, dir: string }} LaunchStamp
 * Inputs are relative to the repository root, outputs to the build directory `dir` (under CACHE_DIR).
 */

/** The previous build's entry when every input and output is as stamped, else undefined. */
async function reusableEntry() {
  /** @type {LaunchStamp | undefined} */
  const stamp = await validStamp(STAMP_PATH, {
    accept: (candidate) => candidate.format === STAMP_FORMAT && typeof candidate.dir === 'string' && /^build-[\w-]+$/.test(candidate.dir),
    inputsRoot: repositoryRoot,
    outputsRoot: (found) => join(CACHE_DIR, /** @type {LaunchStamp} */ (found).dir),
  });
  return stamp && join(CACHE_DIR, stamp.dir, 'dev.mjs');
}

/** @type {import('esbuild').Plugin} */
const sourceLocation = {
  name: 'source-location',
  setup(build) {
    build.onLoad({ filter: /\.(ts|mts|mjs|js)$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const source = await readFile(args.path, 'utf8');
      // On the first line, so that every other line keeps its number for the source map.
      const declaration = `const ${SOURCE_URL} = ${JSON.stringify(pathToFileURL(args.path).href)};`;
      return { contents: `${declaration}${source}`, loader: args.path.endsWith('ts') ? 'ts' : 'js' };
    });
  },
};

/** Builds local/dev.ts into a new directory, stamps it, removes older builds; returns the entry. */
async function buildEntry() {
  const { build } = await import('esbuild');
  const dirName = `build-${Date.now().toString(36)}-${process.pid}`;
  const dir = join(CACHE_DIR, dirName);
  await mkdir(dir, { recursive: true });
  const result = await build({
    absWorkingDir: repositoryRoot,
    entryPoints: { dev: ENTRY },
    outdir: dir,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'error',
    define: { 'import.meta.url': SOURCE_URL },
    plugins: [sourceLocation],
  });
  // A file gone since esbuild read it leaves no stamp: the next start builds again.
  await writeStamp(STAMP_PATH, {
    fields: { format: STAMP_FORMAT, dir: dirName },
    inputsRoot: repositoryRoot,
    inputs: [...Object.keys(result.metafile.inputs), ...BUILD_INPUTS],
    outputsRoot: dir,
    outputs: Object.keys(result.metafile.outputs).map((path) => relative(dir, join(repositoryRoot, path)).split(sep).join('/')),
  });
  await removeBuildsBut(dirName);
  return join(dir, 'dev.mjs');
}

/**
 * Removes earlier builds, keeping the newest other one too: a dev server started from it a moment ago may
 * still be loading its chunks.
 * @param {string} current
 */
async function removeBuildsBut(current) {
  const builds = (await readdir(CACHE_DIR)).filter((name) => name.startsWith('build-') && name !== current);
  const byAge = builds.sort((a, b) => Number.parseInt(b.split('-')[1] ?? '0', 36) - Number.parseInt(a.split('-')[1] ?? '0', 36));
  await Promise.all(byAge.slice(1).map((name) => rm(join(CACHE_DIR, name), { recursive: true, force: true })));
}

let entry;
try {
  entry = (await reusableEntry()) ?? (await buildEntry());
} catch (error) {
  // esbuild has printed what it could not compile (logLevel 'error'); say what failed and stop, as tsx would.
  const message = error instanceof Error ? error.message : String(error);
  console.error(`npm run dev: could not build ${ENTRY}: ${message.split('\n')[0]}`);
  process.exit(1);
}
await import(pathToFileURL(entry).href);

/**
 * The bundle cache of the dev loop: a stamp beside a bundle's output records
 * what the bundle was built from, so an unchanged entry is not rebuilt.
 *
 * Correct before fast: the stamp holds the content hash of every input file
 * esbuild read (its metafile: resolvers/, lib/, declarations/, node_modules/),
 * the build options, the cache backend, the esbuild version and the build code
 * itself, plus the hash of every output. Any difference, a missing file or an
 * unreadable stamp means a rebuild. A new file can only change a bundle
 * through an import, and adding that import changes an input already listed.
 *
 * Fast where that is safe (build/file-states.mjs): a file whose size and
 * modification time match its stamp is not read again. Checking the five
 * functions' ~960 distinct inputs takes a stat each, where hashing them (3,650
 * reads, the AWS SDK's files once per function) took most of a second of the
 * dev start.
 */
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repositoryRoot } from '../declarations/paths.js';
import { type FileState, FileStateReader, sha256, type Stamp, validStamp, writeStamp } from './file-states.mjs';

export { FileStateReader } from './file-states.mjs';

/**
 * esbuild's version, read from its package.json (the same string its API exports): a dev start that reuses
 * every bundle never needs esbuild, and importing its API only to read the version took ~50 ms of it.
 */
const esbuildVersion = (createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version;

/** Beside index.mjs; not a bundle output, so never zipped. */
export const STAMP_FILE = 'bundle-stamp.json';
const STAMP_FORMAT = 3;

/**
 * The files whose code decides how a bundle is built: build/bundle.ts and every build/ module it imports,
 * directly or not (test/unit/build-bundle.test.ts checks the list against those imports).
 */
export const BUILD_CODE: readonly string[] = [
  'build/bundle.ts',
  'build/bundle-stamp.ts',
  'build/file-states.mjs',
  'build/cache-backend.ts',
  'build/ioredis-prototypes.ts',
  'build/node-http-require.ts',
];

export interface BundleFingerprint {
  /** The esbuild options, serialized (plugins and output directory left out). */
  readonly options: string;
  readonly cacheBackend: string;
}

/** What a build wrote and read, as bundle.ts describes it. */
export interface BuiltFiles {
  /** Input paths, relative to the repository root as esbuild names them. */
  readonly inputs: readonly string[];
  /** Output paths, relative to the bundle directory, sorted. */
  readonly outputs: readonly string[];
  /** The outputs index.mjs loads at init (its static imports). */
  readonly initFiles: readonly string[];
  /**
   * Each output's size and content hash when its stamp holds them: a reused build's, after the check that
   * every output is still as stamped; a new build's, as just stamped.
   */
  readonly outputStates?: Readonly<Record<string, FileState>>;
}

/** Inputs are relative to the repository root (as esbuild names them), outputs to the bundle directory. */
interface BundleStamp extends Stamp {
  readonly format: number;
  readonly esbuild: string;
  readonly buildCode: string;
  readonly fingerprint: BundleFingerprint;
  readonly initFiles: readonly string[];
}

async function buildCodeHash(files: FileStateReader): Promise<string> {
  const parts = await Promise.all(BUILD_CODE.map(async (file) => `${file}:${(await files.hash(join(repositoryRoot, file))) ?? '-'}`));
  return sha256(parts.join('\n'));
}

/**
 * The outputs of the previous build in `outDir` when that build can stand for
 * a new one: same fingerprint, esbuild and build code, every input file
 * unchanged, every output file still as written. Otherwise undefined.
 */
export async function reusableBundle(
  outDir: string,
  fingerprint: BundleFingerprint,
  files: FileStateReader = new FileStateReader(),
): Promise<BuiltFiles | undefined> {
  const stamp = await validStamp<BundleStamp>(join(outDir, STAMP_FILE), {
    accept: async (candidate) => {
      const found = candidate as Partial<BundleStamp>;
      return (
        found.format === STAMP_FORMAT &&
        found.esbuild === esbuildVersion &&
        found.fingerprint?.options === fingerprint.options &&
        found.fingerprint.cacheBackend === fingerprint.cacheBackend &&
        Array.isArray(found.initFiles) &&
        found.buildCode === (await buildCodeHash(files))
      );
    },
    inputsRoot: repositoryRoot,
    outputsRoot: () => outDir,
    files,
  });
  if (!stamp) return undefined;
  return {
    inputs: Object.keys(stamp.inputs).sort(),
    outputs: Object.keys(stamp.outputs).sort(),
    initFiles: stamp.initFiles,
    outputStates: stamp.outputs,
  };
}

/**
 * Before a rebuild: deletes what the previous build wrote (its stamp first), so
 * chunks of older builds do not pile up beside the new ones.
 */
export async function discardPreviousBuild(outDir: string): Promise<void> {
  let outputs: string[] = [];
  try {
    outputs = Object.keys((JSON.parse(await readFile(join(outDir, STAMP_FILE), 'utf8')) as Partial<Stamp>).outputs ?? {});
  } catch {
    // No stamp (or an unreadable one): nothing known to delete.
  }
  await rm(join(outDir, STAMP_FILE), { force: true });
  for (const output of outputs) {
    if (!output.startsWith('..') && !output.includes('/')) await rm(join(outDir, output), { force: true });
  }
}

/**
 * Records a finished build; written last, so an interrupted build leaves no stamp to trust. Answers the
 * outputs' states it hashed for the stamp (undefined when a file could not be read and none was written).
 */
export async function writeBundleStamp(
  outDir: string,
  fingerprint: BundleFingerprint,
  built: BuiltFiles,
): Promise<Readonly<Record<string, FileState>> | undefined> {
  return writeStamp(join(outDir, STAMP_FILE), {
    fields: {
      format: STAMP_FORMAT,
      esbuild: esbuildVersion,
      buildCode: await buildCodeHash(new FileStateReader()),
      fingerprint,
      initFiles: built.initFiles,
    },
    inputsRoot: repositoryRoot,
    inputs: built.inputs,
    outputsRoot: outDir,
    outputs: built.outputs,
  });
}

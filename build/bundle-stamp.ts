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
 */
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { version as esbuildVersion } from 'esbuild';
import { repositoryRoot } from '../declarations/paths.js';

/** Beside index.mjs; not a bundle output, so never zipped. */
export const STAMP_FILE = 'bundle-stamp.json';
const STAMP_FORMAT = 2;

/** The files whose code decides how a bundle is built. */
const BUILD_CODE = ['build/bundle.ts', 'build/bundle-stamp.ts', 'build/cache-backend.ts'];

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
}

interface Stamp {
  readonly format: number;
  readonly esbuild: string;
  readonly buildCode: string;
  readonly fingerprint: BundleFingerprint;
  /** Input path (relative to the repository root, as esbuild names it) → sha256 of its content. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Output path (relative to the bundle directory) → sha256 of its content. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly initFiles: readonly string[];
}

const sha256 = (content: Uint8Array | string): string => createHash('sha256').update(content).digest('hex');

async function hashOf(path: string): Promise<string | undefined> {
  try {
    return sha256(await readFile(path));
  } catch {
    return undefined;
  }
}

async function buildCodeHash(): Promise<string> {
  const parts = await Promise.all(BUILD_CODE.map(async (file) => `${file}:${(await hashOf(join(repositoryRoot, file))) ?? '-'}`));
  return sha256(parts.join('\n'));
}

async function hashAll(root: string, paths: readonly string[]): Promise<Record<string, string | undefined>> {
  const hashes = await Promise.all(paths.map(async (path) => [path, await hashOf(join(root, path))] as const));
  return Object.fromEntries(hashes);
}

async function readStamp(outDir: string): Promise<Stamp | undefined> {
  try {
    const stamp = JSON.parse(await readFile(join(outDir, STAMP_FILE), 'utf8')) as Stamp;
    return stamp.format === STAMP_FORMAT ? stamp : undefined;
  } catch {
    return undefined;
  }
}

const sameRecord = (expected: Readonly<Record<string, string>>, actual: Readonly<Record<string, string | undefined>>): boolean =>
  Object.entries(expected).every(([path, hash]) => actual[path] === hash);

/**
 * The outputs of the previous build in `outDir` when that build can stand for
 * a new one: same fingerprint, esbuild and build code, every input file
 * unchanged, every output file still as written. Otherwise undefined.
 */
export async function reusableBundle(outDir: string, fingerprint: BundleFingerprint): Promise<BuiltFiles | undefined> {
  const stamp = await readStamp(outDir);
  if (!stamp) return undefined;
  if (stamp.esbuild !== esbuildVersion || stamp.buildCode !== (await buildCodeHash())) return undefined;
  if (stamp.fingerprint.options !== fingerprint.options || stamp.fingerprint.cacheBackend !== fingerprint.cacheBackend) return undefined;
  const outputs = Object.keys(stamp.outputs);
  if (outputs.length === 0 || !sameRecord(stamp.outputs, await hashAll(outDir, outputs))) return undefined;
  if (!sameRecord(stamp.inputs, await hashAll(repositoryRoot, Object.keys(stamp.inputs)))) return undefined;
  return { inputs: Object.keys(stamp.inputs).sort(), outputs: outputs.sort(), initFiles: stamp.initFiles };
}

/**
 * Before a rebuild: deletes what the previous build wrote (its stamp first), so
 * chunks of older builds do not pile up beside the new ones.
 */
export async function discardPreviousBuild(outDir: string): Promise<void> {
  const stamp = await readStamp(outDir);
  await rm(join(outDir, STAMP_FILE), { force: true });
  for (const output of Object.keys(stamp?.outputs ?? {})) {
    if (!output.startsWith('..') && !output.includes('/')) await rm(join(outDir, output), { force: true });
  }
}

/** Records a finished build; written last, so an interrupted build leaves no stamp to trust. */
export async function writeBundleStamp(outDir: string, fingerprint: BundleFingerprint, built: BuiltFiles): Promise<void> {
  const inputHashes = await hashAll(repositoryRoot, built.inputs);
  const outputHashes = await hashAll(outDir, built.outputs);
  const unreadable = [...Object.entries(inputHashes), ...Object.entries(outputHashes)].filter(([, hash]) => hash === undefined);
  if (unreadable.length > 0) {
    // Nothing to compare a later build against: leave no stamp, so the next build runs esbuild.
    await rm(join(outDir, STAMP_FILE), { force: true });
    return;
  }
  const stamp: Stamp = {
    format: STAMP_FORMAT,
    esbuild: esbuildVersion,
    buildCode: await buildCodeHash(),
    fingerprint,
    inputs: inputHashes as Record<string, string>,
    outputs: outputHashes as Record<string, string>,
    initFiles: built.initFiles,
  };
  await writeFile(join(outDir, STAMP_FILE), `${JSON.stringify(stamp, null, 1)}\n`);
}

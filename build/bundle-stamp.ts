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
import { join } from 'node:path';
import { version as esbuildVersion } from 'esbuild';
import { repositoryRoot } from '../declarations/paths.js';
import {
  FileStateReader,
  type FileState,
  nowNs,
  parseStampTime,
  recheckAll,
  sha256,
  statesOf,
  writeJsonAtomically,
} from './file-states.mjs';

export { FileStateReader } from './file-states.mjs';

/** Beside index.mjs; not a bundle output, so never zipped. */
export const STAMP_FILE = 'bundle-stamp.json';
const STAMP_FORMAT = 3;

/** The files whose code decides how a bundle is built. */
const BUILD_CODE = ['build/bundle.ts', 'build/bundle-stamp.ts', 'build/file-states.mjs', 'build/cache-backend.ts'];

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
  /** When the file states were taken (ns since the epoch): files younger than this by the racy window are checked by content. */
  readonly stampedAtNs: string;
  /** Input path (relative to the repository root, as esbuild names it) → its state. */
  readonly inputs: Readonly<Record<string, FileState>>;
  /** Output path (relative to the bundle directory) → its state. */
  readonly outputs: Readonly<Record<string, FileState>>;
  readonly initFiles: readonly string[];
}

async function buildCodeHash(files: FileStateReader): Promise<string> {
  const parts = await Promise.all(BUILD_CODE.map(async (file) => `${file}:${(await files.hash(join(repositoryRoot, file))) ?? '-'}`));
  return sha256(parts.join('\n'));
}

async function readStamp(outDir: string): Promise<Stamp | undefined> {
  try {
    const stamp = JSON.parse(await readFile(join(outDir, STAMP_FILE), 'utf8')) as Stamp;
    return stamp.format === STAMP_FORMAT ? stamp : undefined;
  } catch {
    return undefined;
  }
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
  // Before any file is looked at: what this check reads is at least this recent.
  const checkedAtNs = nowNs();
  const stamp = await readStamp(outDir);
  if (!stamp) return undefined;
  if (stamp.esbuild !== esbuildVersion || stamp.buildCode !== (await buildCodeHash(files))) return undefined;
  if (stamp.fingerprint.options !== fingerprint.options || stamp.fingerprint.cacheBackend !== fingerprint.cacheBackend) return undefined;
  const stampedAtNs = parseStampTime(stamp.stampedAtNs);
  if (Object.keys(stamp.outputs).length === 0 || stampedAtNs === undefined) return undefined;
  const outputs = await recheckAll(files, outDir, stamp.outputs, stampedAtNs);
  if (!outputs) return undefined;
  const inputs = await recheckAll(files, repositoryRoot, stamp.inputs, stampedAtNs);
  if (!inputs) return undefined;
  if (outputs.read || inputs.read) {
    // As git refreshes its index: files confirmed by content now carry this check's time, so the next
    // check can trust their size and time (a failed write only means hashing them again next time).
    await writeJsonAtomically(join(outDir, STAMP_FILE), {
      ...stamp,
      stampedAtNs: String(checkedAtNs),
      inputs: inputs.states,
      outputs: outputs.states,
    }).catch(() => undefined);
  }
  return { inputs: Object.keys(stamp.inputs).sort(), outputs: Object.keys(stamp.outputs).sort(), initFiles: stamp.initFiles };
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
  // Fresh reads: this round's reader may hold states from before esbuild wrote the outputs.
  const files = new FileStateReader();
  // Taken before the states: a file changed after this instant is younger than the stamp, hence checked by content.
  const stampedAtNs = nowNs();
  const inputs = await statesOf(files, repositoryRoot, built.inputs);
  const outputs = await statesOf(files, outDir, built.outputs);
  if (!inputs || !outputs) {
    // Nothing to compare a later build against: leave no stamp, so the next build runs esbuild.
    await rm(join(outDir, STAMP_FILE), { force: true });
    return;
  }
  const stamp: Stamp = {
    format: STAMP_FORMAT,
    esbuild: esbuildVersion,
    buildCode: await buildCodeHash(files),
    fingerprint,
    stampedAtNs: String(stampedAtNs),
    inputs,
    outputs,
    initFiles: built.initFiles,
  };
  await writeJsonAtomically(join(outDir, STAMP_FILE), stamp);
}

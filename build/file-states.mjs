// @ts-check
/**
 * Whether files still have the content a build was made from, as git's index
 * tells: each file is stamped with its content's hash, size and modification
 * time (ns), and a later check that finds the same size and time does not
 * read the file again. Only a file that was already older than its stamp by
 * more than any file system's time granularity is trusted that way; a younger
 * one ("racy": it could change again within the same clock tick, size
 * unchanged) is always compared by content, and once it is confirmed the stamp
 * is refreshed so the next check can trust it.
 *
 * A stamp is a JSON file beside a build's outputs: `stampedAtNs`, the states of
 * the `inputs` (relative to where the build read them) and `outputs` (relative
 * to where it wrote them), and whatever else decides the build (format,
 * options, tool versions), which the caller checks. `validStamp` and
 * `writeStamp` are the one implementation of checking and writing one, used by
 * the function bundles (build/bundle-stamp.ts), the dev server's launcher
 * (build/dev-launch.mjs) and the GraphiQL page (local/appsync/graphiql.ts).
 * Plain JavaScript (typed by file-states.d.mts) so that the launcher runs
 * without a TypeScript loader.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How much older than its stamp a file must have been for its size and time to
 * stand for its content: more than the coarsest modification-time granularity
 * in use (2 s, FAT; ext4, tmpfs and overlayfs keep ns).
 */
const RACY_WINDOW_NS = 2_000_000_000n;

/** @typedef {import('./file-states.d.mts').FileState} FileState */
/** @typedef {{ size: number, mtimeNs: bigint }} FileStat */

/** @param {Uint8Array | string} content */
export const sha256 = (content) => createHash('sha256').update(content).digest('hex');

/** Now, in ns since the epoch, as file modification times count. */
export const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/**
 * Reads file states for one check, each path at most once (the functions'
 * bundles share most of their inputs). Create one per check, never keep one:
 * a file edited after it was read would still look as it was.
 */
export class FileStateReader {
  /** @type {Map<string, Promise<FileStat | undefined>>} */
  #stats = new Map();
  /** @type {Map<string, Promise<string | undefined>>} */
  #hashes = new Map();

  /** Size and modification time, or undefined for a missing or unreadable file. @param {string} path */
  stat(path) {
    let pending = this.#stats.get(path);
    if (!pending) {
      // Synchronous: a check stats about a thousand files, and a promise per stat (a thread-pool round trip)
      // cost several times the stat itself, on the main thread, while a dev start's JVM wants the CPU.
      /** @type {import('node:fs').BigIntStats | undefined} */
      let stats;
      try {
        stats = statSync(path, { bigint: true, throwIfNoEntry: false });
      } catch {
        stats = undefined; // unresolvable (a link loop, no permission): as missing
      }
      pending = Promise.resolve(stats?.isFile() ? { size: Number(stats.size), mtimeNs: stats.mtimeNs } : undefined);
      this.#stats.set(path, pending);
    }
    return pending;
  }

  /** sha256 of the content, or undefined for a missing or unreadable file. @param {string} path */
  hash(path) {
    let pending = this.#hashes.get(path);
    if (!pending) {
      pending = readFile(path).then(sha256, () => undefined);
      this.#hashes.set(path, pending);
    }
    return pending;
  }

  /** The file's state now, or undefined when it cannot be read. @param {string} path @returns {Promise<FileState | undefined>} */
  async state(path) {
    const [stats, hash] = await Promise.all([this.stat(path), this.hash(path)]);
    return stats && hash ? { sha256: hash, size: stats.size, mtimeNs: String(stats.mtimeNs) } : undefined;
  }

  /**
   * The file's state now if it still has the stamped content, else undefined;
   * `read` when its size and time could not be trusted and it was hashed.
   * @param {string} path @param {FileState} stamped @param {bigint} stampedAtNs
   * @returns {Promise<{ state: FileState, read: boolean } | undefined>}
   */
  async recheck(path, stamped, stampedAtNs) {
    const stats = await this.stat(path);
    if (!stats || stats.size !== stamped.size) return undefined;
    if (String(stats.mtimeNs) === stamped.mtimeNs && stats.mtimeNs < stampedAtNs - RACY_WINDOW_NS) return { state: stamped, read: false };
    if ((await this.hash(path)) !== stamped.sha256) return undefined;
    return { state: { sha256: stamped.sha256, size: stats.size, mtimeNs: String(stats.mtimeNs) }, read: true };
  }
}

/**
 * The states of `paths` (relative to `root`), or undefined when any cannot be read.
 * @param {FileStateReader} files @param {string} root @param {readonly string[]} paths
 * @returns {Promise<Record<string, FileState> | undefined>}
 */
export async function statesOf(files, root, paths) {
  const states = await Promise.all(paths.map(async (path) => /** @type {const} */ ([path, await files.state(join(root, path))])));
  if (states.some(([, state]) => state === undefined)) return undefined;
  return /** @type {Record<string, FileState>} */ (Object.fromEntries(states));
}

/**
 * The files' states now when every one still has its stamped content, else
 * undefined; `read` when any had to be hashed (then the stamp is worth refreshing).
 * @param {FileStateReader} files @param {string} root @param {Readonly<Record<string, FileState>>} stamped @param {bigint} stampedAtNs
 * @returns {Promise<{ states: Record<string, FileState>, read: boolean } | undefined>}
 */
export async function recheckAll(files, root, stamped, stampedAtNs) {
  const checks = await Promise.all(
    Object.entries(stamped).map(
      async ([path, state]) => /** @type {const} */ ([path, await files.recheck(join(root, path), state, stampedAtNs)]),
    ),
  );
  /** @type {Record<string, FileState>} */
  const states = {};
  let read = false;
  for (const [path, check] of checks) {
    if (!check) return undefined;
    states[path] = check.state;
    read ||= check.read;
  }
  return { states, read };
}

/**
 * `stampedAtNs` as a stamp stores it (a decimal string), or undefined when it is not one.
 * @param {unknown} value
 */
export function parseStampTime(value) {
  return typeof value === 'string' && /^\d+$/.test(value) ? BigInt(value) : undefined;
}

/** @param {unknown} value @returns {value is Record<string, FileState>} */
function isStateRecord(value) {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every(
      (state) => typeof state?.sha256 === 'string' && typeof state.size === 'number' && parseStampTime(state.mtimeNs) !== undefined,
    )
  );
}

/**
 * The stamp at `path` when `accept` takes it and every input and output still
 * has its stamped content, else undefined (no stamp, an unreadable one, a
 * changed file). When some file had to be read to tell, the stamp is
 * rewritten with this check's time, so the next check can trust their size and
 * time (a failed write only means reading them again next time).
 * @template {import('./file-states.d.mts').Stamp} S
 * @param {string} path
 * @param {import('./file-states.d.mts').StampCheck<S>} check
 * @returns {Promise<S | undefined>}
 */
export async function validStamp(path, check) {
  // Before any file is looked at: what this check reads is at least this recent.
  const checkedAtNs = nowNs();
  /** @type {any} */
  let stamp;
  try {
    stamp = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof stamp !== 'object' || stamp === null || !isStateRecord(stamp.inputs) || !isStateRecord(stamp.outputs)) return undefined;
  const stampedAtNs = parseStampTime(stamp.stampedAtNs);
  if (stampedAtNs === undefined || Object.keys(stamp.outputs).length === 0 || !(await check.accept(stamp))) return undefined;
  const files = check.files ?? new FileStateReader();
  const [outputs, inputs] = await Promise.all([
    recheckAll(files, check.outputsRoot(stamp), stamp.outputs, stampedAtNs),
    recheckAll(files, check.inputsRoot, stamp.inputs, stampedAtNs),
  ]);
  if (!outputs || !inputs) return undefined;
  if (outputs.read || inputs.read) {
    await writeJsonAtomically(path, { ...stamp, stampedAtNs: String(checkedAtNs), inputs: inputs.states, outputs: outputs.states }).catch(
      () => undefined,
    );
  }
  return stamp;
}

/**
 * Records a finished build at `path`: its fields, and the states of the files
 * it read and wrote. Written last and in one step, so an interrupted build
 * leaves no stamp to trust; when a file cannot be read, no stamp is left at
 * all (the next check builds again).
 * @param {string} path
 * @param {import('./file-states.d.mts').StampWrite} build
 * @returns {Promise<Record<string, FileState> | undefined>} the outputs' states as stamped, or undefined when no stamp was written
 */
export async function writeStamp(path, build) {
  // Fresh reads, and the time taken before them: a file changed after this instant is checked by content.
  const files = new FileStateReader();
  const stampedAtNs = nowNs();
  const [inputs, outputs] = await Promise.all([
    statesOf(files, build.inputsRoot, build.inputs),
    statesOf(files, build.outputsRoot, build.outputs),
  ]);
  if (!inputs || !outputs) {
    await rm(path, { force: true });
    return undefined;
  }
  await writeJsonAtomically(path, { ...build.fields, stampedAtNs: String(stampedAtNs), inputs, outputs });
  return outputs;
}

/**
 * Replaces a JSON file in one step: a reader never sees half of one.
 * @param {string} path @param {unknown} value
 */
export async function writeJsonAtomically(path, value) {
  await writeFileAtomically(path, `${JSON.stringify(value, null, 1)}\n`);
}

/**
 * Replaces a file in one step: a reader never sees half of one.
 * @param {string} path @param {string | Uint8Array} content
 */
export async function writeFileAtomically(path, content) {
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, content);
  await rename(partial, path);
}

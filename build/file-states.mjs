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
 * Used by the function bundles' stamp (build/bundle-stamp.ts) and the dev
 * server's launcher (build/dev-launch.mjs). Plain JavaScript (typed by
 * file-states.d.mts) so that the launcher runs without a TypeScript loader.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
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
      pending = stat(path, { bigint: true }).then(
        (stats) => (stats.isFile() ? { size: Number(stats.size), mtimeNs: stats.mtimeNs } : undefined),
        () => undefined,
      );
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

/**
 * Replaces a JSON file in one step: a reader never sees half of one.
 * @param {string} path @param {unknown} value
 */
export async function writeJsonAtomically(path, value) {
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, `${JSON.stringify(value, null, 1)}\n`);
  await rename(partial, path);
}

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { deflateRawSync, gzipSync } from 'node:zlib';

/**
 * Sizes of what a function ships and loads: the bundle init reads (its entry
 * and every chunk the entry imports statically; lazily imported chunks are
 * not read at init), raw and gzip; and the deployed zip: its bytes, whether
 * every entry is deflated, and whether two builds give identical bytes.
 */

export interface BundleSize {
  readonly name: string;
  /** index.mjs alone. */
  readonly entryBytes: number;
  /** index.mjs and the chunks it imports statically, transitively: what init parses. */
  readonly initBytes: number;
  readonly initGzipBytes: number;
  /** Those files, relative to the bundle's directory. */
  readonly initFiles: string[];
}

/** Relative `.mjs` modules a minified ESM file imports statically (`import"./x.mjs"`, `from"./x.mjs"`), not `import("./x.mjs")`. */
export function staticImports(code: string): string[] {
  const found = new Set<string>();
  for (const match of code.matchAll(/(?:\bfrom|\bimport)\s*["'](\.\/[^"']+\.mjs)["']/g)) found.add(match[1]!.slice(2));
  return [...found];
}

export async function bundleSize(name: string, entryFile: string): Promise<BundleSize> {
  const directory = dirname(entryFile);
  const entryName = entryFile.slice(directory.length + 1);
  const seen = new Set<string>();
  const contents: Buffer[] = [];
  const queue = [entryName];
  let entryBytes = 0;
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const content = await readFile(join(directory, file));
    if (file === entryName) entryBytes = content.byteLength;
    contents.push(content);
    queue.push(...staticImports(content.toString('utf8')));
  }
  const all = Buffer.concat(contents);
  return { name, entryBytes, initBytes: all.byteLength, initGzipBytes: gzipSync(all).byteLength, initFiles: [...seen] };
}

export interface ZipEntryInfo {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly compressedBytes: number;
  readonly bytes: number;
  /** Where its local header starts. */
  readonly offset: number;
}

/** The entries of a (non-ZIP64) zip, from its central directory. */
export function zipEntries(zip: Uint8Array): ZipEntryInfo[] {
  const view = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = -1;
  for (let offset = view.byteLength - 22; offset >= Math.max(0, view.byteLength - 22 - 0xffff); offset--) {
    if (view.readUInt32LE(offset) === 0x06054b50) {
      end = offset;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip: no end of central directory record');
  const count = view.readUInt16LE(end + 10);
  let offset = view.readUInt32LE(end + 16);
  const entries: ZipEntryInfo[] = [];
  for (let i = 0; i < count; i++) {
    if (offset + 46 > view.byteLength || view.readUInt32LE(offset) !== 0x02014b50) throw new Error(`zip: bad central directory entry ${i}`);
    const nameLength = view.readUInt16LE(offset + 28);
    entries.push({
      name: view.toString('utf8', offset + 46, offset + 46 + nameLength),
      method: view.readUInt16LE(offset + 10),
      compressedBytes: view.readUInt32LE(offset + 20),
      bytes: view.readUInt32LE(offset + 24),
      offset: view.readUInt32LE(offset + 42),
    });
    offset += 46 + nameLength + view.readUInt16LE(offset + 30) + view.readUInt16LE(offset + 32);
  }
  return entries;
}

/** The stored bytes of an entry (method 0), from its local header. */
export function storedContent(zip: Uint8Array, entry: ZipEntryInfo): Buffer {
  const view = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  if (entry.method !== 0) throw new Error(`${entry.name} is not stored`);
  if (view.readUInt32LE(entry.offset) !== 0x04034b50) throw new Error(`zip: bad local header for ${entry.name}`);
  const start = entry.offset + 30 + view.readUInt16LE(entry.offset + 26) + view.readUInt16LE(entry.offset + 28);
  return view.subarray(start, start + entry.bytes);
}

/**
 * Deflated, or stored because deflate would not make it smaller (a tiny
 * file), which is what a deflating writer should do with such an entry.
 */
export function compressedAsFarAsUseful(zip: Uint8Array, entry: ZipEntryInfo): boolean {
  if (entry.method === 8) return true;
  if (entry.method !== 0) return false;
  const content = storedContent(zip, entry);
  return deflateRawSync(content, { level: 9 }).byteLength >= content.byteLength;
}

export interface ZipReport {
  readonly name: string;
  readonly zipBytes: number;
  readonly entries: ZipEntryInfo[];
  /** Every entry deflated (method 8), or stored because deflate would not shrink it. */
  readonly deflated: boolean;
  /** Two builds into different directories gave the same bytes. */
  readonly deterministic: boolean;
  readonly sha256: string;
}

/** Judges the two builds' zips of one function. */
export function zipReport(name: string, first: Uint8Array, second: Uint8Array): ZipReport {
  const entries = zipEntries(first);
  const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
  const sha256 = digest(first);
  return {
    name,
    zipBytes: first.byteLength,
    entries,
    deflated: entries.length > 0 && entries.every((entry) => compressedAsFarAsUseful(first, entry)),
    deterministic: sha256 === digest(second),
    sha256,
  };
}

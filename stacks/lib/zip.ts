/**
 * A ZIP writer whose output depends on nothing but the entries: fixed
 * timestamps, fixed permissions, entries in name order, and deflate by fflate
 * (pure JavaScript, pinned in package-lock.json) at a fixed level and memory
 * setting. Lambda's `source_code_hash` is the sha256 of these bytes, so an
 * unchanged bundle must give an identical archive on every machine and every
 * run, or Terraform would redeploy unchanged code. Node's own zlib is not used:
 * its output may change with the zlib build inside Node; fflate's cannot.
 * An entry deflate does not shrink (a tiny file) is stored instead.
 */
import { deflateSync } from 'fflate';

export interface ZipEntry {
  /** Path inside the archive, `/`-separated, no leading slash. */
  readonly name: string;
  readonly content: Uint8Array;
}

/** 1980-01-01 00:00:00, the earliest MS-DOS timestamp ZIP can express. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** -rw-r--r--, in the upper half of the external attributes, as Unix zip tools write it. */
const UNIX_FILE_MODE = 0o100644;
/** 2.0: deflate. */
const VERSION_NEEDED = 20;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;
/** Part of the format: changing either changes every archive's bytes (and redeploys every function). */
export const DEFLATE_LEVEL = 9;
const DEFLATE_MEMORY = 12;
const VERSION_MADE_BY_UNIX = (3 << 8) | VERSION_NEEDED;
/** General-purpose flag bit 11: names are UTF-8. */
const FLAG_UTF8 = 1 << 11;
const MAX_UINT32 = 0xffffffff;
const MAX_UINT16 = 0xffff;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function createZip(entries: readonly ZipEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.name === sorted[i - 1]?.name) throw new Error(`Duplicate zip entry ${sorted[i]?.name}`);
  }
  if (sorted.length > MAX_UINT16) throw new Error('Too many zip entries for a non-ZIP64 archive');

  const localParts: Buffer[] = [];
  const centralParts: Buffer[] = [];
  let offset = 0;
  for (const entry of sorted) {
    if (entry.name.length === 0 || entry.name.startsWith('/') || entry.name.includes('\\')) {
      throw new Error(`Invalid zip entry name ${JSON.stringify(entry.name)}`);
    }
    const name = Buffer.from(entry.name, 'utf8');
    const size = entry.content.byteLength;
    if (size > MAX_UINT32 || offset > MAX_UINT32) throw new Error('Archive too large for a non-ZIP64 zip');
    const crc = crc32(entry.content);
    const deflated = deflateSync(entry.content, { level: DEFLATE_LEVEL, mem: DEFLATE_MEMORY });
    const method = deflated.byteLength < size ? METHOD_DEFLATED : METHOD_STORED;
    const data = method === METHOD_DEFLATED ? deflated : entry.content;
    const stored = data.byteLength;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(FLAG_UTF8, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.byteLength, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION_MADE_BY_UNIX, 4);
    central.writeUInt16LE(VERSION_NEEDED, 6);
    central.writeUInt16LE(FLAG_UTF8, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.byteLength, 28);
    central.writeUInt16LE(0, 30); // extra length
    central.writeUInt16LE(0, 32); // comment length
    central.writeUInt16LE(0, 34); // disk number
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE((UNIX_FILE_MODE << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);

    localParts.push(local, name, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    centralParts.push(central, name);
    offset += local.byteLength + name.byteLength + stored;
  }

  const centralDirectory = Buffer.concat(centralParts);
  if (offset > MAX_UINT32) throw new Error('Archive too large for a non-ZIP64 zip');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(centralDirectory.byteLength, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...localParts, centralDirectory, end]);
}

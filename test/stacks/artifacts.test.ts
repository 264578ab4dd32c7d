import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionNames } from '../../declarations/functions.js';
import { environments } from '../../stacks/config.js';
import { buildFunctionArtifacts, type FunctionArtifact } from '../../stacks/lib/artifacts.js';
import { crc32, createZip } from '../../stacks/lib/zip.js';
import { StorefrontStack } from '../../stacks/storefront-stack.js';
import type { TerraformJson } from './support/synth.js';

interface ReadEntry {
  readonly name: string;
  readonly method: number;
  readonly dosTime: number;
  readonly dosDate: number;
  readonly crc: number;
  readonly content: Buffer;
}

/** Reads a zip through its central directory, as unzip and Lambda do. */
function readZip(zip: Buffer): ReadEntry[] {
  const end = zip.length - 22;
  expect(zip.readUInt32LE(end)).toBe(0x06054b50);
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ReadEntry[] = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(offset)).toBe(0x02014b50);
    const nameLength = zip.readUInt16LE(offset + 28);
    const local = zip.readUInt32LE(offset + 42);
    const size = zip.readUInt32LE(offset + 24);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    entries.push({
      name,
      method: zip.readUInt16LE(offset + 10),
      dosTime: zip.readUInt16LE(offset + 12),
      dosDate: zip.readUInt16LE(offset + 14),
      crc: zip.readUInt32LE(offset + 16),
      content: zip.subarray(dataStart, dataStart + size),
    });
    offset += 46 + nameLength + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return entries;
}

describe('zip writer', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('writes the same bytes whatever the entry order, with fixed timestamps', () => {
    const a = { name: 'index.mjs', content: Buffer.from('export const handler = () => 1;') };
    const b = { name: 'index.mjs.map', content: Buffer.from('{}') };
    const zip = createZip([a, b]);
    expect(createZip([b, a]).equals(zip)).toBe(true);
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(['index.mjs', 'index.mjs.map']);
    for (const entry of entries) {
      expect(entry.method).toBe(0);
      expect([entry.dosDate, entry.dosTime]).toEqual([0x21, 0]);
      expect(entry.crc).toBe(crc32(entry.content));
    }
    expect(entries[0]?.content.toString()).toBe('export const handler = () => 1;');
    expect(() => createZip([a, a])).toThrow(/Duplicate/);
  });
});

describe('function packages', () => {
  const dirs: string[] = [];
  let first: FunctionArtifact[];
  let second: FunctionArtifact[];

  beforeAll(async () => {
    // Two builds in different places at the same depth: the bundles' source maps
    // hold paths relative to the bundle, so only the depth could matter.
    for (let i = 0; i < 2; i++) dirs.push(await mkdtemp(join(tmpdir(), 'storefront-artifacts-')));
    first = await buildFunctionArtifacts(join(dirs[0] ?? '', 'functions'));
    second = await buildFunctionArtifacts(join(dirs[1] ?? '', 'functions'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('are deterministic: two builds give byte-identical zips and the same source_code_hash', async () => {
    expect(first.map((a) => a.name)).toEqual(functionNames);
    for (const [index, artifact] of first.entries()) {
      const other = second[index];
      expect(other?.sourceCodeHash).toBe(artifact.sourceCodeHash);
      expect((await readFile(artifact.zipFile)).equals(await readFile(other?.zipFile ?? ''))).toBe(true);
    }
  });

  it('hold the ESM bundle Lambda runs as index.handler, with its source map', async () => {
    for (const artifact of first) {
      const zip = await readFile(artifact.zipFile);
      expect(createHash('sha256').update(zip).digest('base64')).toBe(artifact.sourceCodeHash);
      expect(zip.byteLength).toBe(artifact.bytes);
      const entries = readZip(zip);
      expect(entries.map((e) => e.name)).toEqual(['index.mjs', 'index.mjs.map']);
      expect(entries[0]?.content.toString('utf8')).toMatch(/export\s*\{[^}]*\bhandler\b/);
      expect(JSON.parse(entries[1]?.content.toString('utf8') ?? '')).toMatchObject({ version: 3 });
    }
  });

  it('are copied into the stack output unchanged, so Terraform hashes what the stack declared', async () => {
    const app = Testing.app({ outdir: dirs[0] });
    const stack = new StorefrontStack(app, 'dev', { config: environments.dev, artifacts: first });
    const outDir = Testing.fullSynth(stack);
    dirs.push(outDir);
    const synthesized = JSON.parse(await readFile(join(outDir, 'stacks', 'dev', 'cdk.tf.json'), 'utf8')) as TerraformJson;
    for (const body of Object.values(synthesized.resource.aws_lambda_function ?? {})) {
      const packaged = await readFile(join(outDir, 'stacks', 'dev', String(body.filename)));
      expect(createHash('sha256').update(packaged).digest('base64')).toBe(body.source_code_hash);
    }
  });
});

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { Testing } from 'cdktf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunctions } from '../../build/bundle.js';
import { functionNames } from '../../declarations/functions.js';
import { environments } from '../../stacks/config.js';
import { buildFunctionArtifacts, cacheBackendOf, packageEntries, type FunctionArtifact } from '../../stacks/lib/artifacts.js';
import { crc32, createZip } from '../../stacks/lib/zip.js';
import { StorefrontStack } from '../../stacks/storefront-stack.js';
import type { TerraformJson } from './support/synth.js';

interface ReadEntry {
  readonly name: string;
  readonly method: number;
  readonly dosTime: number;
  readonly dosDate: number;
  readonly crc: number;
  /** The entry's bytes, inflated with node's zlib when deflated. */
  readonly content: Buffer;
}

const STORED = 0;
const DEFLATED = 8;

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
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const method = zip.readUInt16LE(offset + 10);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    expect(zip.readUInt16LE(local + 8)).toBe(method);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    expect([STORED, DEFLATED]).toContain(method);
    const content = method === DEFLATED ? inflateRawSync(data) : data;
    expect(content.byteLength).toBe(size);
    entries.push({
      name,
      method,
      dosTime: zip.readUInt16LE(offset + 12),
      dosDate: zip.readUInt16LE(offset + 14),
      crc: zip.readUInt32LE(offset + 16),
      content,
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

  it('writes the same bytes whatever the entry order, with fixed timestamps; deflates what deflate shrinks', () => {
    const code = `export const handler = () => ${JSON.stringify('a product name, '.repeat(200))};`;
    const a = { name: 'index.mjs', content: Buffer.from(code) };
    const b = { name: 'index.mjs.map', content: Buffer.from('{}') };
    const zip = createZip([a, b]);
    expect(createZip([b, a]).equals(zip)).toBe(true);
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(['index.mjs', 'index.mjs.map']);
    expect(entries.map((e) => e.method)).toEqual([DEFLATED, STORED]);
    for (const entry of entries) {
      expect([entry.dosDate, entry.dosTime]).toEqual([0x21, 0]);
      expect(entry.crc).toBe(crc32(entry.content));
    }
    expect(entries[0]?.content.toString()).toBe(code);
    expect(zip.byteLength).toBeLessThan(code.length / 4);
    expect(() => createZip([a, a])).toThrow(/Duplicate/);
  });

  it('passes unzip -t', async (context) => {
    if (!existsSync('/usr/bin/unzip')) context.skip();
    const dir = await mkdtemp(join(tmpdir(), 'storefront-zip-'));
    try {
      const file = join(dir, 'test.zip');
      await writeFile(file, createZip([{ name: 'index.mjs', content: Buffer.from('export const x = 1;\n'.repeat(100)) }]));
      expect(execFileSync('/usr/bin/unzip', ['-t', file], { encoding: 'utf8' })).toMatch(/No errors detected/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('cacheBackendOf', () => {
  it('maps each environment to the client its functions are built with', () => {
    expect(cacheBackendOf(environments.dev.cache)).toBe('none');
    expect(cacheBackendOf(environments.staging.cache)).toBe('redis');
    expect(cacheBackendOf(environments.prod.cache)).toBe('redis');
    expect(cacheBackendOf({ kind: 'dax', nodeType: 'dax.t3.small', replicationFactor: 3 })).toBe('dax');
  });
});

describe('function packages', () => {
  const dirs: string[] = [];
  let first: FunctionArtifact[];
  let second: FunctionArtifact[];

  beforeAll(async () => {
    // Two builds of what prod deploys (redis), in different places.
    for (let i = 0; i < 2; i++) dirs.push(await mkdtemp(join(tmpdir(), 'storefront-artifacts-')));
    first = await buildFunctionArtifacts({ cacheBackend: 'redis', buildDir: join(dirs[0] ?? '', 'functions') });
    second = await buildFunctionArtifacts({ cacheBackend: 'redis', buildDir: join(dirs[1] ?? '', 'functions') });
  }, 240_000);

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

  it('hold, deflated, the ESM bundle Lambda runs as index.handler and its chunks, byte for byte; the source maps stay beside the zip', async () => {
    const bundles = await bundleFunctions(join(dirs[0] ?? '', 'functions', 'bundles'), { cacheBackend: 'redis' });
    for (const artifact of first) {
      const zip = await readFile(artifact.zipFile);
      expect(createHash('sha256').update(zip).digest('base64')).toBe(artifact.sourceCodeHash);
      expect(zip.byteLength).toBe(artifact.bytes);
      const bundle = bundles.find((b) => b.name === artifact.name);
      expect(bundle?.reused).toBe(true); // the same build, found again through its stamp
      const entries = readZip(zip);
      expect(entries.map((e) => e.name)).toEqual(bundle?.files.filter((file) => file.endsWith('.mjs')));
      expect(entries.map((e) => e.name)).toContain('index.mjs');
      for (const entry of entries) {
        expect(entry.method).toBe(DEFLATED);
        expect(entry.content.equals(await readFile(join(bundle?.file ?? '', '..', entry.name)))).toBe(true);
      }
      expect(entries.find((e) => e.name === 'index.mjs')?.content.toString('utf8')).toMatch(/export\s*\{[^}]*\bhandler\b/);
      if (existsSync('/usr/bin/unzip'))
        expect(execFileSync('/usr/bin/unzip', ['-t', artifact.zipFile], { encoding: 'utf8' })).toMatch(/No errors/);
    }
  });

  it('stay small: catalog under 1 MB even with its source maps packed in', async () => {
    const [catalog] = await bundleFunctions(join(dirs[0] ?? '', 'functions', 'bundles'), { cacheBackend: 'redis', only: ['catalog'] });
    const withMaps = createZip(await packageEntries(catalog!, { withSourceMaps: true }));
    expect(readZip(withMaps).map((e) => e.name)).toContain('index.mjs.map');
    expect(withMaps.byteLength).toBeLessThanOrEqual(1_000_000);
    for (const artifact of first) expect(artifact.bytes, artifact.name).toBeLessThanOrEqual(400_000);
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

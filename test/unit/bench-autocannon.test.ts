/** Parsing what the benchmark's tools hand back: autocannon results, import probes, bundles and zips; copying bundles. No stack needed. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { zipSync } from 'fflate';
import { test } from 'vitest';
import { compressedAsFarAsUseful, staticImports, zipEntries, zipReport } from '../../bench/artifacts.js';
import { copyBundle, parseProbeOutput } from '../../bench/floor/cold-init.js';
import { loadRunOf } from '../../bench/peer/autocannon.js';
import { createZip } from '../../stacks/lib/zip.js';

/** The shape autocannon 9 resolves with (trimmed: the fields around the ones read are kept for realism). */
const result = {
  url: 'http://127.0.0.1:4000/graphql',
  connections: 32,
  duration: 8.02,
  errors: 0,
  timeouts: 0,
  mismatches: 0,
  non2xx: 0,
  resets: 0,
  '2xx': 16_040,
  latency: { average: 15.6, mean: 15.6, p50: 14, p90: 22, p99: 41, max: 97.3, min: 2 },
  requests: { average: 2005, mean: 2005, total: 16_040, sent: 16_072, p50: 2011 },
  throughput: { average: 900_000, total: 7_200_000 },
};

test('loadRunOf: requests per second over the whole run, and every kind of wrong answer', () => {
  const run = loadRunOf(result);
  assert.equal(run.requests, 16_040);
  assert.equal(run.requestsPerSecond, 16_040 / 8.02);
  assert.deepEqual(run.latencyMs, { p50: 14, p99: 41, max: 97.3 });
  assert.equal(run.non2xx + run.errors + run.mismatches, 0);

  const bad = loadRunOf({ ...result, non2xx: 3, errors: 2, timeouts: 1, mismatches: 1 }, 4, ['HTTP 200: {"errors":[]}']);
  assert.equal(bad.non2xx, 3);
  assert.equal(bad.errors, 2);
  assert.equal(bad.mismatches, 5, "autocannon's mismatches plus the bench's own");
  assert.deepEqual(bad.mismatchSamples, ['HTTP 200: {"errors":[]}']);
});

test('loadRunOf refuses a result it cannot read', () => {
  assert.throws(() => loadRunOf(null), /no result/);
  assert.throws(() => loadRunOf({ ...result, duration: 0 }), /duration/);
  assert.throws(() => loadRunOf({ ...result, requests: {} }), /requests is not a count/);
  assert.throws(() => loadRunOf({ ...result, non2xx: -1 }), /non2xx/);
  assert.throws(() => loadRunOf({ ...result, latency: { p50: 1 } }), /latency/);
});

test('parseProbeOutput reads the import probe’s last line', () => {
  assert.deepEqual(parseProbeOutput('warning\n{"initMs":71.5,"nodeVersion":"v22.23.5"}\n'), { initMs: 71.5, nodeVersion: 'v22.23.5' });
  assert.throws(() => parseProbeOutput('Error: boom'), /no JSON/);
  assert.throws(() => parseProbeOutput('{"initMs":-1,"nodeVersion":"v22"}'), /printed/);
});

test('copyBundle copies every file of a bundle, and the copy runs where the original is gone', async () => {
  const root = await mkdtemp(join(tmpdir(), 'bench-copy-'));
  try {
    const built = join(root, 'built');
    await mkdir(join(built, 'chunks'), { recursive: true });
    await writeFile(join(built, 'index.mjs'), 'export const handler = async () => (await import("./chunks/lazy.mjs")).value;\n');
    await writeFile(join(built, 'chunks', 'lazy.mjs'), 'export const value = 42;\n');
    await writeFile(join(built, 'index.mjs.map'), '{}');
    const entry = await copyBundle(
      { file: join(built, 'index.mjs'), files: ['chunks/lazy.mjs', 'index.mjs', 'index.mjs.map'] },
      join(root, 'copy'),
    );
    await rm(built, { recursive: true });
    assert.equal(entry, join(root, 'copy', 'index.mjs'));
    assert.deepEqual((await readdir(join(root, 'copy'), { recursive: true })).sort(), [
      'chunks',
      'chunks/lazy.mjs',
      'index.mjs',
      'index.mjs.map',
    ]);
    const copied = (await import(pathToFileURL(entry).href)) as { handler: () => Promise<number> };
    assert.equal(await copied.handler(), 42);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('staticImports finds the chunks init loads, not the lazily imported ones', () => {
  const code =
    'import{createRequire as r}from"node:module";import{a as b}from"./chunk-AAA.mjs";import"./chunk-BBB.mjs";' +
    'export{c}from"./chunk-CCC.mjs";const d=()=>import("./chunk-LAZY.mjs");';
  assert.deepEqual(staticImports(code), ['chunk-AAA.mjs', 'chunk-BBB.mjs', 'chunk-CCC.mjs']);
});

const big = new TextEncoder().encode('export const handler = async () => null;\n'.repeat(200));
const tiny = new TextEncoder().encode('x');

test('zipEntries reads the central directory of the project’s zips and of other writers’', () => {
  const ours = zipEntries(createZip([{ name: 'index.mjs', content: big }]));
  assert.equal(ours.length, 1);
  assert.equal(ours[0]?.name, 'index.mjs');
  assert.equal(ours[0]?.bytes, big.byteLength);
  const theirs = zipEntries(zipSync({ 'a.mjs': big, 'b.mjs': [tiny, { level: 0 }] }));
  assert.deepEqual(
    theirs.map((e) => [e.name, e.method, e.bytes]),
    [
      ['a.mjs', 8, big.byteLength],
      ['b.mjs', 0, 1],
    ],
  );
  assert.throws(() => zipEntries(new Uint8Array(40)), /not a zip/);
});

test('zipReport: deflated means every entry deflated or too small to gain; deterministic means identical builds', () => {
  const deflated = zipSync({ 'index.mjs': big, 'tiny.txt': [tiny, { level: 0 }] });
  const report = zipReport('catalog', deflated, deflated.slice());
  assert.equal(report.deflated, true);
  assert.equal(report.deterministic, true);
  assert.equal(report.zipBytes, deflated.byteLength);

  const stored = zipSync({ 'index.mjs': [big, { level: 0 }] });
  const entry = zipEntries(stored)[0]!;
  assert.equal(compressedAsFarAsUseful(stored, entry), false, 'a big stored file should have been deflated');
  const other = zipSync({ 'index.mjs': big, 'more.mjs': big });
  assert.equal(zipReport('catalog', stored, other).deterministic, false);
  assert.equal(zipReport('catalog', stored, other).deflated, false);
});

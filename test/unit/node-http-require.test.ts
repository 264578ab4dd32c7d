/**
 * build/node-http-require.ts: function bundles load `node:http` with require. On Node 22, importing it as an
 * ES module reads its lazy WebSocket getters and loads undici with it (tens of ms, measured by hand, not here).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { functionBuildOptions } from '../../build/bundle.js';

const scratch = mkdtempSync(join(tmpdir(), 'node-http-require-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Whether this Node's http module has the lazy getters that load undici (Node 22 does, Node 20 does not). */
const httpHasLazyUndici = Object.getOwnPropertyDescriptor(createRequire(import.meta.url)('node:http'), 'WebSocket')?.get !== undefined;

/**
 * Bundles an entry that gets `node:http` the three ways code does (a static default import, a named import, a
 * dynamic import, as the AWS SDK's handler does), with the functions' options and with or without their
 * plugins; runs it and reports whether undici was loaded and whether the three saw the same module.
 */
async function run(withPlugins: boolean): Promise<{ code: string; undici: boolean; same: boolean; request: string }> {
  const outdir = join(scratch, withPlugins ? 'with' : 'without');
  const entry = join(scratch, 'entry.mjs');
  writeFileSync(
    entry,
    [
      "import http from 'node:http';",
      "import { request } from 'http';",
      "const dynamic = await import('node:http');",
      'const module = dynamic.default ?? dynamic;',
      'const undici = process.moduleLoadList.some((name) => name.includes("undici"));',
      'console.log(JSON.stringify({ undici, same: module === http && module.request === request, request: typeof request }));',
    ].join('\n'),
  );
  const options = functionBuildOptions(entry, outdir, 'none');
  const result = await build({
    ...options,
    entryPoints: { index: entry },
    plugins: withPlugins ? options.plugins : [],
    logLevel: 'silent',
  });
  const code = Object.keys(result.metafile?.outputs ?? {})
    .filter((file) => file.endsWith('.mjs'))
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
  const output = execFileSync(process.execPath, [join(outdir, 'index.mjs')], { encoding: 'utf8' });
  return { code, ...(JSON.parse(output.trim().split('\n').at(-1)!) as { undici: boolean; same: boolean; request: string }) };
}

describe('node:http in function bundles', () => {
  it('is required, not imported as an ES module, so undici stays unloaded; every importer gets the one module', async () => {
    const bundled = await run(true);
    expect(bundled.code).not.toMatch(/from\s*"(node:)?http"|import\("(node:)?http"\)/);
    expect(bundled.undici).toBe(false);
    expect(bundled.same).toBe(true);
    expect(bundled.request).toBe('function');
  }, 60_000);

  it('as esbuild emits it by default, loads undici wherever http has the lazy getters', async () => {
    const asShipped = await run(false);
    expect(asShipped.code).toMatch(/from\s*"(node:)?http"|import\("(node:)?http"\)/);
    expect(asShipped.undici).toBe(httpHasLazyUndici);
  }, 60_000);
});

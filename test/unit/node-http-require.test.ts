/**
 * build/node-http-require.ts: function bundles load `node:http` with require. On Node 22, importing it as an
 * ES module reads its lazy WebSocket getters and loads undici with it (tens of ms, measured by hand, not here).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleProbe } from '../support/bundle-probe.js';

const scratch = mkdtempSync(join(tmpdir(), 'node-http-require-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Whether this Node's http module has the lazy getters that load undici (Node 22 does, Node 20 does not). */
const httpHasLazyUndici = Object.getOwnPropertyDescriptor(createRequire(import.meta.url)('node:http'), 'WebSocket')?.get !== undefined;

/**
 * An entry getting `node:http` the three ways code does (a static default import, a named import, and a dynamic
 * import, as the AWS SDK's handler does), bundled with the functions' options, with or without their plugins:
 * whether undici was loaded, and whether the three saw the same module.
 */
async function run(withPlugins: boolean): Promise<{ code: string; undici: boolean; same: boolean; request: string }> {
  const { code, printed } = await bundleProbe<{ undici: boolean; same: boolean; request: string }>({
    scratch,
    withPlugins,
    source: [
      "import http from 'node:http';",
      "import { request } from 'http';",
      "const dynamic = await import('node:http');",
      'const module = dynamic.default ?? dynamic;',
      'const undici = process.moduleLoadList.some((name) => name.includes("undici"));',
      'console.log(JSON.stringify({ undici, same: module === http && module.request === request, request: typeof request }));',
    ].join('\n'),
  });
  return { code, ...printed };
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

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry, type EntryBundle } from '../../build/bundle.js';
import { BUILD_CODE, STAMP_FILE } from '../../build/bundle-stamp.js';
import { cacheClientPackages, functionCacheBackend, type CacheBackendKind } from '../../build/cache-backend.js';
import { functions } from '../../declarations/functions.js';
import { repositoryRoot } from '../../declarations/paths.js';

const run = promisify(execFile);
const dirs: string[] = [];
const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'storefront-build-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Whether a bundle's inputs include files of an npm package. */
const hasPackage = (bundle: EntryBundle, name: string): boolean => bundle.inputs.some((input) => input.includes(`node_modules/${name}/`));

/** Imports a bundle in a fresh Node process with `env`; resolves with how that went. */
async function importInFreshProcess(file: string, env: Record<string, string>): Promise<{ ok: boolean; stderr: string }> {
  const script = `await import(${JSON.stringify(pathToFileURL(file).href)});`;
  try {
    await run(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 });
    return { ok: true, stderr: '' };
  } catch (error) {
    return { ok: false, stderr: String((error as { stderr?: string }).stderr ?? error) };
  }
}

describe('the cache client is a build-time choice', () => {
  const catalog = {} as Record<CacheBackendKind, EntryBundle>;

  beforeAll(async () => {
    const entry = join(repositoryRoot, functions.catalog.entry);
    for (const backend of ['none', 'redis', 'dax'] as const) {
      catalog[backend] = await bundleEntry(entry, join(await tempDir(), 'catalog'), { cacheBackend: backend });
    }
  }, 180_000);

  it('derives each function backend from the declarations: only functions reading a cached table get one', () => {
    expect(functionCacheBackend('catalog', 'redis')).toBe('redis');
    expect(functionCacheBackend('stream', 'dax')).toBe('dax');
    expect(functionCacheBackend('authorizer', 'redis')).toBe('none');
    expect(functionCacheBackend('catalog', 'none')).toBe('none');
  });

  it('bundles the client of the chosen backend and no other', () => {
    expect(hasPackage(catalog.none, 'ioredis')).toBe(false);
    expect(hasPackage(catalog.none, '@amazon-dax-sdk/lib-dax')).toBe(false);
    expect(hasPackage(catalog.redis, 'ioredis')).toBe(true);
    expect(hasPackage(catalog.redis, '@amazon-dax-sdk/lib-dax')).toBe(false);
    expect(hasPackage(catalog.dax, '@amazon-dax-sdk/lib-dax')).toBe(true);
    expect(hasPackage(catalog.dax, 'ioredis')).toBe(false);
    for (const backend of ['none', 'dax'] as const) {
      expect(hasPackage(catalog[backend], '@aws-sdk/client-secrets-manager'), backend).toBe(false);
    }
    expect(cacheClientPackages.redis).toContain('ioredis');
    expect(catalog.redis.codeBytes - catalog.none.codeBytes).toBeGreaterThan(100_000);
  });

  it('reuses a build whose left-out clients were plugin stand-ins, not files (none and dax leave ioredis out)', async () => {
    for (const backend of ['none', 'dax'] as const) {
      const again = await bundleEntry(join(repositoryRoot, functions.catalog.entry), join(catalog[backend].file, '..'), {
        cacheBackend: backend,
      });
      expect(again.reused, backend).toBe(true);
      expect(
        again.inputs.every((input) => !input.includes(':')),
        backend,
      ).toBe(true);
    }
  });

  it('loads ioredis lazily: it is a chunk of the redis bundle that init does not import', async () => {
    const { redis } = catalog;
    const ioredisChunks: string[] = [];
    for (const file of redis.files.filter((name) => name.endsWith('.mjs'))) {
      if ((await readFile(join(redis.file, '..', file), 'utf8')).includes('ioredis:connect')) ioredisChunks.push(file);
    }
    expect(ioredisChunks.length).toBeGreaterThan(0);
    for (const chunk of ioredisChunks) expect(redis.initFiles).not.toContain(chunk);
    expect(redis.initFiles).toContain('index.mjs');
    expect(redis.initBytes).toBeLessThan(redis.codeBytes);
  });

  it("loads Powertools' Logger only when there is a line to write: a chunk init does not import (lib/logger.ts)", async () => {
    const { redis } = catalog;
    const loggerChunks: string[] = [];
    for (const file of redis.files.filter((name) => name.endsWith('.mjs'))) {
      // A message only the Logger's own code holds.
      if ((await readFile(join(redis.file, '..', file), 'utf8')).includes('due to sampling rate')) loggerChunks.push(file);
    }
    expect(loggerChunks.length).toBeGreaterThan(0);
    for (const chunk of loggerChunks) expect(redis.initFiles).not.toContain(chunk);

    // A failing invocation still logs the error at ERROR, through the Logger, before the handler rejects.
    const script = `
      const { handler } = await import(${JSON.stringify(pathToFileURL(redis.file).href)});
      const event = { arguments: {}, identity: null, source: null, request: { headers: {}, domainName: null }, prev: null, stash: {},
        info: { parentTypeName: 'Query', fieldName: 'notAField', variables: {}, selectionSetList: [] } };
      await handler(event, { awsRequestId: 'req-logger-chunk' }).then(
        () => process.exit(3),
        (error) => { process.stdout.write('REJECTED ' + error.message + '\\n'); process.exit(0); });`;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        TABLE_PRODUCTS: 'products',
        AWS_REGION: 'eu-west-1',
        CACHE_BACKEND: 'none',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      timeout: 60_000,
    });
    expect(stdout).toContain('REJECTED An internal error occurred (request id req-logger-chunk)');
    const logged = stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(expect.objectContaining({ level: 'ERROR', service: 'storefront', requestId: 'req-logger-chunk' }));
  }, 120_000);

  it('fails at init when CACHE_BACKEND asks for a backend the bundle was not built with', async () => {
    const env = { TABLE_PRODUCTS: 'products', AWS_REGION: 'eu-west-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    const mismatch = await importInFreshProcess(catalog.none.file, { ...env, CACHE_BACKEND: 'redis', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(mismatch.ok).toBe(false);
    expect(mismatch.stderr).toMatch(/CACHE_BACKEND=redis, but this function was bundled with cache backend none: a deployment mismatch/);
    const daxInRedis = await importInFreshProcess(catalog.redis.file, { ...env, CACHE_BACKEND: 'dax', DAX_ENDPOINT: 'dax://x' });
    expect(daxInRedis.stderr).toMatch(/CACHE_BACKEND=dax, but this function was bundled with cache backend redis/);
    // Any bundle runs uncached when its environment says none; the redis bundle runs on redis.
    expect(await importInFreshProcess(catalog.redis.file, { ...env, CACHE_BACKEND: 'none' })).toEqual({ ok: true, stderr: '' });
    expect(await importInFreshProcess(catalog.redis.file, { ...env, CACHE_BACKEND: 'redis', REDIS_URL: 'redis://127.0.0.1:1' })).toEqual({
      ok: true,
      stderr: '',
    });
  }, 120_000);
});

describe('bundle cache', () => {
  let source: string;
  let out: string;

  beforeAll(async () => {
    source = await tempDir();
    out = join(await tempDir(), 'bundle');
    await writeFile(join(source, 'greeting.ts'), "export const greeting = 'hello';\n");
    // A repository module too: its content is an input like any other.
    await writeFile(
      join(source, 'entry.ts'),
      [
        "import { greeting } from './greeting.js';",
        `import { notFound } from ${JSON.stringify(join(repositoryRoot, 'lib', 'errors.js'))};`,
        'export const handler = async () => ({ greeting, error: notFound("Product", "p1").errorType });',
        '',
      ].join('\n'),
    );
  });

  const build = (cacheBackend: CacheBackendKind = 'none'): Promise<EntryBundle> =>
    bundleEntry(join(source, 'entry.ts'), out, { cacheBackend });

  it('reuses an unchanged build and rebuilds when an input, the backend or an output changed', async () => {
    const first = await build();
    expect(first.reused).toBe(false);
    expect(first.inputs).toEqual(expect.arrayContaining(['lib/errors.ts']));
    const again = await build();
    expect(again).toEqual({ ...first, reused: true });

    await writeFile(join(source, 'greeting.ts'), "export const greeting = 'bonjour';\n");
    const edited = await build();
    expect(edited.reused).toBe(false);
    expect(edited.sha256).not.toBe(first.sha256);
    expect(await readFile(edited.file, 'utf8')).toContain('bonjour');
    expect((await build()).reused).toBe(true);

    // Same size, edited within moments of the stamp: its modification time cannot vouch for it, its content does.
    const sameSize = "export const greeting = 'bonsoir';\n";
    expect(sameSize.length).toBe((await readFile(join(source, 'greeting.ts'), 'utf8')).length);
    await writeFile(join(source, 'greeting.ts'), sameSize);
    const sameSizeEdit = await build();
    expect(sameSizeEdit.reused).toBe(false);
    expect(await readFile(sameSizeEdit.file, 'utf8')).toContain('bonsoir');
    await writeFile(join(source, 'greeting.ts'), "export const greeting = 'bonjour';\n");
    expect((await build()).reused).toBe(false);

    expect((await build('redis')).reused).toBe(false);
    expect((await build('redis')).reused).toBe(true);

    await unlink(join(out, 'index.mjs'));
    const restored = await build('redis');
    expect(restored.reused).toBe(false);
    expect(await readFile(restored.file, 'utf8')).toContain('bonjour');
  }, 60_000);

  it('rebuilds when the stamp is unreadable, and can be told not to reuse', async () => {
    await build();
    await writeFile(join(out, STAMP_FILE), '{ not json');
    expect((await build()).reused).toBe(false);
    expect((await bundleEntry(join(source, 'entry.ts'), out, { cacheBackend: 'none', reuse: false })).reused).toBe(false);
  }, 60_000);

  it('stamps the code of every build/ module the build imports, so that changing a plugin rebuilds', () => {
    /** build/bundle.ts and the build/ modules it imports, followed through their own relative imports. */
    const imported = new Set<string>();
    const visit = (file: string): void => {
      if (imported.has(file)) return;
      imported.add(file);
      const source = readFileSync(join(repositoryRoot, file), 'utf8');
      for (const [, specifier] of source.matchAll(/from '(\.\/[\w.-]+)'/g)) {
        const sibling = join(dirname(join(repositoryRoot, file)), specifier!);
        const typescript = sibling.replace(/\.js$/, '.ts');
        visit(relative(repositoryRoot, existsSync(typescript) ? typescript : sibling));
      }
    };
    visit('build/bundle.ts');
    expect([...BUILD_CODE].sort()).toEqual([...imported].sort());
  });

  it('refuses an unknown backend', async () => {
    await expect(bundleEntry(join(source, 'entry.ts'), out, { cacheBackend: 'memcached' as CacheBackendKind })).rejects.toThrow(
      /Unknown cache backend "memcached"/,
    );
  });
});

/**
 * `npm run dev` as the README runs it: build/dev-launch.mjs bundles local/dev.ts (or reuses the bundle
 * while its sources are unchanged) and runs it. This file's launches share a cache directory of their own
 * (STOREFRONT_DEV_CACHE_DIR, inside the repository as the launcher requires). An invalid `--port` makes dev.ts exit right after it parsed its arguments,
 * which shows the bundle ran without starting a stack; one full launch shows the bundled stack works:
 * every module finds its files next to its source (the worker script, DynamoDB Local's launcher, the
 * schema), and the seeded catalog answers a query.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetProductDocument } from '../../generated/client/graphql.js';
import { newApiKey } from '../../local/identity/local-credentials.js';
import { cacheRoot, repositoryRoot } from '../../declarations/paths.js';
import { sampleProducts } from '../../local/seed.js';

const LAUNCHER = join(repositoryRoot, 'build', 'dev-launch.mjs');

interface Exited {
  readonly code: number | null;
  readonly output: string;
}

function launch(cacheDir: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [LAUNCHER, ...args], {
    cwd: repositoryRoot,
    env: { ...process.env, ...env, STOREFRONT_DEV_CACHE_DIR: cacheDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function runToExit(cacheDir: string, args: readonly string[]): Promise<Exited> {
  const child = launch(cacheDir, args);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (output += text));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

const builds = async (cacheDir: string): Promise<string[]> => (await readdir(cacheDir)).filter((name) => name.startsWith('build-')).sort();
const stampOf = async (cacheDir: string) =>
  JSON.parse(await readFile(join(cacheDir, 'stamp.json'), 'utf8')) as {
    dir: string;
    inputs: Record<string, { sha256: string; size: number; mtimeNs: string }>;
    outputs: Record<string, unknown>;
  };

describe('npm run dev (build/dev-launch.mjs)', () => {
  let cacheDir: string;
  beforeAll(async () => {
    await mkdir(cacheRoot, { recursive: true });
    cacheDir = await mkdtemp(join(cacheRoot, 'dev-launch-test-'));
  });
  afterAll(() => rm(cacheDir, { recursive: true, force: true }));

  it('refuses a cache directory outside the repository, where its package imports would not resolve', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'dev-launch-outside-'));
    try {
      const refused = await runToExit(outside, ['--port', 'not-a-port']);
      expect(refused).toEqual({ code: 2, output: expect.stringContaining('STOREFRONT_DEV_CACHE_DIR must be inside') });
      expect(await readdir(outside)).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('builds local/dev.ts once, runs it with its arguments, and reuses the build while nothing changed', async () => {
    const first = await runToExit(cacheDir, ['--port', 'not-a-port']);
    expect(first).toEqual({ code: 2, output: expect.stringContaining('--port must be a port number, got not-a-port') });
    const [built] = await builds(cacheDir);
    const stamp = await stampOf(cacheDir);
    expect(stamp.dir).toBe(built);
    // The repository's modules are inputs (packages stay imports), and so is the launcher itself.
    expect(Object.keys(stamp.inputs)).toEqual(expect.arrayContaining(['local/dev.ts', 'local/runtime.ts', 'build/dev-launch.mjs']));
    expect(Object.keys(stamp.inputs).some((input) => input.includes('node_modules/graphql/'))).toBe(false);
    // runtime.ts stays a chunk of its own, loaded after dev.ts spawned DynamoDB Local's JVM.
    expect(Object.keys(stamp.outputs).filter((output) => output.endsWith('.mjs')).length).toBeGreaterThan(1);

    // What a start seldom needs is imported on demand, so it does not load beside the JVM's start: esbuild (a
    // rebuild), ioredis (a recovery's flush), node-forge (--https's first certificate).
    const code = await Promise.all(
      Object.keys(stamp.outputs)
        .filter((output) => output.endsWith('.mjs'))
        .map((output) => readFile(join(cacheDir, built!, output), 'utf8')),
    );
    const staticImports = new Set(code.flatMap((text) => [...text.matchAll(/\bfrom\s*"([^"]+)"/g)].map((match) => match[1])));
    const dynamicImports = new Set(code.flatMap((text) => [...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)].map((match) => match[1])));
    for (const onDemand of ['esbuild', 'ioredis', 'node-forge']) {
      expect(staticImports, onDemand).not.toContain(onDemand);
      expect(dynamicImports, onDemand).toContain(onDemand);
    }

    const again = await runToExit(cacheDir, ['--port', 'not-a-port']);
    expect(again.code).toBe(2);
    expect(await builds(cacheDir)).toEqual([built]);
  }, 60_000);

  it('builds again when an input or an output is not what the stamp says', async () => {
    const [before] = await builds(cacheDir);
    // As if local/dev.ts had been edited since the stamp: its recorded content no longer matches.
    const stamp = await stampOf(cacheDir);
    const edited = {
      ...stamp,
      inputs: { ...stamp.inputs, 'local/dev.ts': { ...stamp.inputs['local/dev.ts']!, sha256: '0'.repeat(64), mtimeNs: '1' } },
    };
    await writeFile(join(cacheDir, 'stamp.json'), JSON.stringify(edited));
    expect((await runToExit(cacheDir, ['--port', 'not-a-port'])).code).toBe(2);
    const rebuilt = await builds(cacheDir);
    expect(rebuilt).toHaveLength(2);
    expect(rebuilt).toContain(before);
    const current = (await stampOf(cacheDir)).dir;
    expect(current).not.toBe(before);

    // A damaged output (same size, other bytes) is not run: the launcher builds afresh.
    const entry = join(cacheDir, current, 'dev.mjs');
    const content = await readFile(entry, 'utf8');
    await writeFile(entry, `${content.slice(0, -1)}${content.endsWith(' ') ? '\n' : ' '}`);
    expect((await runToExit(cacheDir, ['--port', 'not-a-port'])).code).toBe(2);
    const latest = (await stampOf(cacheDir)).dir;
    expect(latest).not.toBe(current);
    // The newest other build is kept for a server that may still be loading it; older ones go.
    expect(await builds(cacheDir)).toEqual([current, latest].sort());
  }, 90_000);

  it('serves the seeded catalog from the bundled stack', async () => {
    const apiKey = newApiKey();
    const child = launch(cacheDir, ['--seed', '--port', '0', '--quiet'], { APPSYNC_API_KEY: apiKey });
    let output = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (output += text));
    try {
      const graphqlUrl = await new Promise<string>((resolve, reject) => {
        child.stdout?.setEncoding('utf8').on('data', (text: string) => {
          output += text;
          const match = /GraphQL\s+POST (http:\/\/127\.0\.0\.1:\d+\/graphql)/.exec(output);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`npm run dev exited (${code}) before it was ready:\n${output}`)));
      });
      const product = sampleProducts(1)[0]!;
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify({ query: print(GetProductDocument), variables: { id: product.id } }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data?: { product?: { id: string; name: string } | null }; errors?: unknown };
      expect(body.errors).toBeUndefined();
      expect(body.data?.product).toMatchObject({ id: product.id, name: product.name });
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGINT');
        await exited;
      }
    }
    expect(output).not.toMatch(/ENOENT|ERR_MODULE_NOT_FOUND|Cannot find module/);
  }, 120_000);
});

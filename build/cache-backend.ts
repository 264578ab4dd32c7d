/**
 * The cache client a function bundle contains is a build-time choice. The
 * declarations say which functions read a cached table (`usesCache`); the
 * environment says which backend serves the cache (stacks/config.ts, or the
 * local runtime's redis-server). A function reading a cached table gets that
 * backend's client only; any other function, and every function of an
 * environment without a cache, gets none.
 *
 * One mechanism does it: lib/cache/index.ts imports `backends/selected.js`,
 * and this esbuild plugin resolves that one import to `backends/<kind>.ts`.
 * lib/cache/ still names the other clients in code the bundle never runs (the
 * Redis store stays importable from lib/cache/index.ts, tree-shaken away), and
 * esbuild would emit their dynamic imports as chunks anyway; so the plugin
 * resolves the client packages of the other backends, imported from lib/cache/,
 * to a module that only throws. What the bundle serves is checked at init
 * against CACHE_BACKEND (`servedBackend` in lib/cache/index.ts), before any of
 * that could run.
 */
import { join } from 'node:path';
import type { Plugin } from 'esbuild';
import { functions, type FunctionName } from '../declarations/functions.js';
import { usesCache } from '../declarations/function-environment.js';
import { repositoryRoot } from '../declarations/paths.js';
import { cacheBackendKinds, type CacheBackendKind } from '../lib/cache/config.js';

export type { CacheBackendKind } from '../lib/cache/config.js';

const cacheDirectory = join(repositoryRoot, 'lib', 'cache');
const backendsDirectory = join(cacheDirectory, 'backends');

/** The packages each backend's client needs (the Secrets Manager client reads Redis's AUTH token). */
export const cacheClientPackages: Readonly<Record<CacheBackendKind, readonly string[]>> = {
  none: [],
  redis: ['ioredis', '@aws-sdk/client-secrets-manager'],
  dax: ['@amazon-dax-sdk/lib-dax'],
};

const EXCLUDED_NAMESPACE = 'cache-client-not-bundled';
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The backend one function is built with: its environment's, if it reads a cached table; otherwise `none`. */
export function functionCacheBackend(name: FunctionName, environmentBackend: CacheBackendKind): CacheBackendKind {
  return usesCache(functions[name]) ? environmentBackend : 'none';
}

export function assertCacheBackendKind(kind: string): asserts kind is CacheBackendKind {
  if (!(cacheBackendKinds as readonly string[]).includes(kind)) {
    throw new Error(`Unknown cache backend "${kind}": expected ${cacheBackendKinds.join(', ')}`);
  }
}

/** Resolves lib/cache/backends/selected.js to the module of `kind`, and only that import. */
export function cacheBackendPlugin(kind: CacheBackendKind): Plugin {
  assertCacheBackendKind(kind);
  return {
    name: 'cache-backend',
    setup(build) {
      build.onResolve({ filter: /^\.\/backends\/selected\.js$/ }, (args) => {
        if (args.resolveDir !== cacheDirectory) return undefined;
        return { path: join(backendsDirectory, `${kind}.ts`) };
      });
      const excluded = Object.values(cacheClientPackages)
        .flat()
        .filter((name) => !cacheClientPackages[kind].includes(name));
      if (excluded.length === 0) return;
      const filter = new RegExp(`^(${excluded.map(escapeRegExp).join('|')})$`);
      build.onResolve({ filter }, (args) => {
        if (!args.importer.startsWith(`${cacheDirectory}/`)) return undefined;
        return { path: args.path, namespace: EXCLUDED_NAMESPACE };
      });
      build.onLoad({ filter: /.*/, namespace: EXCLUDED_NAMESPACE }, (args) => ({
        loader: 'js',
        contents: `throw new Error(${JSON.stringify(
          `${args.path} is not in this bundle: it was built for cache backend ${kind} (build/cache-backend.ts)`,
        )});`,
      }));
    },
  };
}

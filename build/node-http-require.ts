/**
 * Function bundles load `node:http` with `require`, never as an ES module.
 *
 * On Node 22 the `http` module has lazy getters (`WebSocket`, `CloseEvent`, `MessageEvent`) that load
 * undici, Node's fetch and WebSocket implementation. Importing `node:http` as an ES module builds a facade
 * that reads every export, so undici loads with it: 32–69 ms for `import('node:http')` on this machine,
 * against 6–10 ms for `require('node:http')` (Node 20 has no such getters: 8 ms either way).
 *
 * The AWS SDK's HTTP handler imports `node:http` (dynamically) for its first request to an `http://`
 * endpoint, which is DynamoDB Local's: every local execution environment paid those ~35 ms in its first
 * DynamoDB call. In AWS the endpoints are https and `node:http` is never imported, so nothing changes there.
 *
 * The plugin resolves every import of `http` / `node:http` in the bundle to a small CommonJS module that
 * requires it (through the `require` the bundle's banner creates), so the SDK gets the same module object.
 */
import type { Plugin } from 'esbuild';

const NAMESPACE = 'node-http-require';

export function nodeHttpRequirePlugin(): Plugin {
  return {
    name: 'node-http-require',
    setup(build) {
      build.onResolve({ filter: /^(node:)?http$/ }, (args) =>
        // The module below requires it: that require stays what esbuild makes of a builtin (external).
        args.kind === 'require-call' ? undefined : { path: 'node:http', namespace: NAMESPACE },
      );
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, () => ({
        contents: 'module.exports = require("node:http");',
        loader: 'js',
      }));
    },
  };
}

/**
 * `npm run build`: writes dist/functions/<name>/ (index.mjs, its chunks, source maps) for every function.
 * `-- --cache-backend none|redis|dax` picks the cache client (default redis, what staging and prod deploy).
 */
import { parseArgs } from 'node:util';
import { bundleFunctions } from './bundle.js';
import { assertCacheBackendKind } from './cache-backend.js';

const { values } = parseArgs({ options: { 'cache-backend': { type: 'string', default: 'redis' } } });
const cacheBackend = values['cache-backend'];
assertCacheBackendKind(cacheBackend);

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1).padStart(8)} KiB`;
for (const bundle of await bundleFunctions(undefined, { cacheBackend })) {
  console.log(
    `${bundle.name.padEnd(10)} ${kib(bundle.bytes)} (all chunks ${kib(bundle.codeBytes)})  cache ${bundle.cacheBackend.padEnd(5)}` +
      `  sha256 ${bundle.sha256.slice(0, 16)}${bundle.reused ? '  (unchanged, reused)' : ''}  ${bundle.file}`,
  );
}

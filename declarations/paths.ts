import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, for tools that read schema/ or write dist/ (never used inside a function bundle). */
export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where the local tools keep what they can rebuild (function bundles, the GraphiQL page, DynamoDB Local's
 * class-data archive, the dev server's bundle), each in a directory of its own. build/dev-launch.mjs, plain
 * JavaScript, spells the same path.
 */
export const cacheRoot = join(repositoryRoot, 'node_modules', '.cache', 'storefront');

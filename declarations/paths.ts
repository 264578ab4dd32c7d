import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, for tools that read schema/ or write dist/ (never used inside a function bundle). */
export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

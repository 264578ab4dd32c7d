import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { functionNames, functions, type FunctionName } from '../declarations/functions.js';
import { repositoryRoot } from '../declarations/paths.js';

export interface FunctionBundle {
  readonly name: FunctionName;
  /** Absolute path of the ESM bundle (index.mjs), what Lambda runs as `index.handler`. */
  readonly file: string;
  readonly bytes: number;
  /** Content hash of the bundle: unchanged code gives the same hash and no redeploy. */
  readonly sha256: string;
}

/**
 * Bundles each function of the function map into one minified, tree-shaken ESM
 * file with a source map. The same bundles run in the local runtime and are
 * zipped for Lambda (Node.js 22), so both execute identical code.
 */
export async function bundleFunctions(
  outDir = join(repositoryRoot, 'dist', 'functions'),
  only: readonly FunctionName[] = functionNames,
): Promise<FunctionBundle[]> {
  return Promise.all(
    only.map(async (name) => {
      const file = join(outDir, name, 'index.mjs');
      await mkdir(dirname(file), { recursive: true });
      await build({
        entryPoints: [join(repositoryRoot, functions[name].entry)],
        outfile: file,
        bundle: true,
        platform: 'node',
        target: 'node22',
        format: 'esm',
        minify: true,
        treeShaking: true,
        sourcemap: true,
        legalComments: 'none',
        logLevel: 'warning',
        // Some dependencies are CommonJS and call require(); give ESM bundles one.
        banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
      });
      const content = await readFile(file);
      return { name, file, bytes: content.byteLength, sha256: createHash('sha256').update(content).digest('hex') };
    }),
  );
}

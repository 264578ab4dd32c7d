import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { bundleFunctions } from '../../build/bundle.js';
import { repositoryRoot } from '../../declarations/paths.js';
import { functionNames, type FunctionName } from '../../declarations/functions.js';
import { createZip } from './zip.js';

/** A function's deployment package: a zip on disk and the hash Lambda compares to decide on a redeploy. */
export interface FunctionArtifact {
  readonly name: string;
  readonly zipFile: string;
  readonly bytes: number;
  /** base64 sha256 of the zip, the format of Lambda's `source_code_hash`. */
  readonly sourceCodeHash: string;
}

/**
 * Inside the repository, so source-map paths (relative to the bundle) are the
 * same on every checkout and the archives, and their hashes, are too.
 */
export const defaultBuildDirectory = join(repositoryRoot, 'cdktf.out', 'functions');

/**
 * Bundles every function (the same esbuild bundles the local runtime runs) and
 * packs `index.mjs` with its source map into `<buildDir>/<name>.zip`.
 */
export async function buildFunctionArtifacts(
  buildDir = defaultBuildDirectory,
  only: readonly FunctionName[] = functionNames,
): Promise<FunctionArtifact[]> {
  const bundles = await bundleFunctions(join(buildDir, 'bundles'), only);
  await mkdir(buildDir, { recursive: true });
  return Promise.all(
    bundles.map(async (bundle) => {
      const entries = await Promise.all(
        [bundle.file, `${bundle.file}.map`].map(async (file) => ({ name: basename(file), content: await readFile(file) })),
      );
      const zip = createZip(entries);
      const zipFile = join(buildDir, `${bundle.name}.zip`);
      await writeFile(zipFile, zip);
      return {
        name: bundle.name,
        zipFile,
        bytes: zip.byteLength,
        sourceCodeHash: createHash('sha256').update(zip).digest('base64'),
      };
    }),
  );
}

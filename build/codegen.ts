/**
 * GraphQL Code Generator, run only when its output could differ: `generated/` is a pure function of
 * codegen.yml, the files its `schema` and `documents` entries name, and the installed codegen and
 * graphql packages. A stamp (`generated/.codegen-stamp.json`) records a hash of those inputs and one of
 * the output files; when both still match, running the generator again would rewrite the same bytes,
 * so it is skipped (seconds of CPU on every `npm run dev`, `npm test` and `npm run bench`).
 *
 * A schema or operation edit, a new file in a listed folder, a codegen.yml edit, an upgraded plugin,
 * or a changed or deleted output file each fail the check and regenerate.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { repositoryRoot } from '../declarations/paths.js';

export interface CodegenPaths {
  /** The repository (codegen.yml's folder; the paths in it are relative to it). */
  readonly root: string;
  readonly config: string;
  readonly outputDir: string;
  readonly stamp: string;
}

export function codegenPaths(root: string = repositoryRoot): CodegenPaths {
  const outputDir = join(root, 'generated');
  return { root, config: join(root, 'codegen.yml'), outputDir, stamp: join(outputDir, '.codegen-stamp.json') };
}

/** Packages whose version changes what codegen writes: every `@graphql-codegen/*` package, and graphql itself. */
const GENERATOR_SCOPE = '@graphql-codegen';
const GENERATOR_PACKAGES = ['graphql'] as const;

interface Stamp {
  readonly inputs: string;
  readonly outputs: string;
}

/**
 * The files codegen.yml reads: every `- path.graphql` list entry (its `schema` and `documents`), where a
 * path is either a file or `folder/*.graphql`. Other glob forms are refused rather than half-understood,
 * since a missed input would let a schema edit go unnoticed.
 */
export function codegenInputFiles(configText: string, root: string): string[] {
  const patterns = [...configText.matchAll(/^\s*-\s+['"]?([^'"\s#]+\.graphql)['"]?\s*(?:#.*)?$/gm)].map((match) => match[1]!);
  if (patterns.length === 0) throw new Error('codegen.yml lists no .graphql files under schema or documents');
  const files = new Set<string>();
  for (const pattern of patterns) {
    const star = pattern.indexOf('*');
    if (star === -1) {
      files.add(resolve(root, pattern));
      continue;
    }
    const folder = pattern.slice(0, star);
    const suffix = pattern.slice(star + 1);
    if (!folder.endsWith('/') || /[*?[{]/.test(suffix) || suffix.includes('/')) {
      throw new Error(
        `codegen.yml entry ${pattern}: build/codegen.ts understands a file or folder/*.graphql; extend codegenInputFiles for this form`,
      );
    }
    const dir = resolve(root, folder);
    for (const name of readdirSync(dir)) if (name.endsWith(suffix)) files.add(join(dir, name));
  }
  return [...files].sort();
}

function installedVersions(root: string): string[] {
  const require = createRequire(join(root, 'package.json'));
  const scopeDir = join(root, 'node_modules', GENERATOR_SCOPE);
  const scoped = existsSync(scopeDir) ? readdirSync(scopeDir).map((name) => `${GENERATOR_SCOPE}/${name}`) : [];
  return [...scoped, ...GENERATOR_PACKAGES].sort().map((name) => {
    try {
      const { version } = require(`${name}/package.json`) as { version: string };
      return `${name}@${version}`;
    } catch {
      return `${name}@missing`;
    }
  });
}

/** Hash of everything the output depends on: the config, each input file (by path and content), the generator versions. */
export function codegenInputsHash(paths: CodegenPaths = codegenPaths()): string {
  const hash = createHash('sha256');
  const configText = readFileSync(paths.config, 'utf8');
  hash.update(`config\0${configText}\0`);
  for (const file of codegenInputFiles(configText, paths.root)) {
    hash
      .update(`file\0${relative(paths.root, file)}\0`)
      .update(readFileSync(file))
      .update('\0');
  }
  for (const version of installedVersions(paths.root)) hash.update(`package\0${version}\0`);
  return hash.digest('hex');
}

/** Hash of the output folder (paths and contents, the stamp excluded); undefined when it does not exist. */
export function codegenOutputsHash(paths: CodegenPaths = codegenPaths()): string | undefined {
  if (!existsSync(paths.outputDir)) return undefined;
  const hash = createHash('sha256');
  const files = readdirSync(paths.outputDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => file !== paths.stamp)
    .sort();
  if (files.length === 0) return undefined;
  for (const file of files)
    hash
      .update(`${relative(paths.outputDir, file).split(sep).join('/')}\0`)
      .update(readFileSync(file))
      .update('\0');
  return hash.digest('hex');
}

function readStamp(paths: CodegenPaths): Stamp | undefined {
  try {
    const stamp = JSON.parse(readFileSync(paths.stamp, 'utf8')) as Partial<Stamp>;
    return typeof stamp.inputs === 'string' && typeof stamp.outputs === 'string'
      ? { inputs: stamp.inputs, outputs: stamp.outputs }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `generated/` is what codegen would write now. */
export function codegenIsCurrent(paths: CodegenPaths = codegenPaths()): boolean {
  const stamp = readStamp(paths);
  return stamp !== undefined && stamp.inputs === codegenInputsHash(paths) && stamp.outputs === codegenOutputsHash(paths);
}

/** Runs the graphql-codegen CLI on codegen.yml (as `graphql-codegen --config codegen.yml --silent` did), on this Node. */
function runGenerator(paths: CodegenPaths): Promise<void> {
  const require = createRequire(join(paths.root, 'package.json'));
  const manifestPath = require.resolve('@graphql-codegen/cli/package.json');
  const { bin } = require('@graphql-codegen/cli/package.json') as { bin: Record<string, string> };
  const cli = join(dirname(manifestPath), bin['graphql-codegen'] ?? Object.values(bin)[0]!);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cli, '--config', paths.config, '--silent'], { cwd: paths.root, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolvePromise() : reject(new Error(`graphql-codegen failed (${signal ? `signal ${signal}` : `exit code ${code}`})`)),
    );
  });
}

export type CodegenOutcome = 'generated' | 'unchanged';

/**
 * Regenerates `generated/` unless the stamp shows it is current (`force` always regenerates), then
 * records the stamp. The inputs are hashed before the run: an edit made while it runs leaves a stale
 * hash behind, so the next call regenerates again.
 */
export async function ensureCodegen(options: { force?: boolean; paths?: CodegenPaths } = {}): Promise<CodegenOutcome> {
  const paths = options.paths ?? codegenPaths();
  if (!options.force && codegenIsCurrent(paths)) return 'unchanged';
  const inputs = codegenInputsHash(paths);
  await runGenerator(paths);
  await recordCodegenStamp(paths, inputs);
  return 'generated';
}

/** Records that `generated/`, as it is now, was generated from the inputs that hash to `inputs`. */
export async function recordCodegenStamp(paths: CodegenPaths, inputs: string = codegenInputsHash(paths)): Promise<void> {
  const outputs = codegenOutputsHash(paths);
  if (outputs === undefined) throw new Error(`graphql-codegen wrote nothing to ${paths.outputDir}`);
  await mkdir(paths.outputDir, { recursive: true });
  // Written whole, then renamed: a reader never sees half a stamp.
  const scratch = `${paths.stamp}.${process.pid}.tmp`;
  await writeFile(scratch, `${JSON.stringify({ inputs, outputs } satisfies Stamp)}\n`);
  await rename(scratch, paths.stamp);
}

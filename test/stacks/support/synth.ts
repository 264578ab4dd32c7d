import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { afterAll, beforeAll } from 'vitest';
import type { EnvironmentConfig } from '../../../stacks/config.js';
import { defaultDeclarations, type StackDeclarations } from '../../../stacks/declarations.js';
import type { FunctionArtifact } from '../../../stacks/lib/artifacts.js';
import { createZip } from '../../../stacks/lib/zip.js';
import { createStorefrontStacks, type StorefrontStack } from '../../../stacks/storefront-stack.js';

/** The parts of a synthesized cdk.tf.json the tests read. */
export interface TerraformJson {
  readonly terraform: {
    readonly backend?: Record<string, Record<string, unknown>>;
    readonly required_providers?: Record<string, { source: string; version: string }>;
  };
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: string; sensitive?: boolean; description?: string }>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly variable?: Record<string, Record<string, unknown>>;
}

export interface SynthesizedStack {
  readonly name: string;
  readonly stack: StorefrontStack;
  /** What `Testing.synth` returns: the input of CDKTF's matchers. */
  readonly json: string;
  readonly parsed: TerraformJson;
}

const tempDirs: string[] = [];

/** A temporary directory removed by removeTempDirs (call it from afterAll). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storefront-stack-test-'));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A CDKTF test app writing into a tempDir (Testing.app() alone makes a cdktf.outdir.* under /tmp that nothing removes). */
export function scratchApp(): ReturnType<typeof Testing.app> {
  return Testing.app({ outdir: tempDir() });
}

/**
 * Small stand-in packages: the stack only needs a file and its hash, and
 * building the real bundles is the artifact test's job.
 */
export function fakeArtifacts(names: readonly string[]): FunctionArtifact[] {
  const dir = tempDir();
  return names.map((name) => {
    const zip = createZip([{ name: 'index.mjs', content: Buffer.from(`export const handler = async () => ${JSON.stringify(name)};\n`) }]);
    const zipFile = join(dir, `${name}.zip`);
    writeFileSync(zipFile, zip);
    return { name, zipFile, bytes: zip.byteLength, sourceCodeHash: createHash('sha256').update(zip).digest('base64') };
  });
}

export interface SynthOptions {
  readonly declarations?: StackDeclarations;
  readonly environments?: readonly EnvironmentConfig[];
  readonly artifacts?: readonly FunctionArtifact[];
}

export function synthStacks(options: SynthOptions = {}): Map<string, SynthesizedStack> {
  const declarations = options.declarations ?? defaultDeclarations();
  const artifacts = options.artifacts ?? fakeArtifacts(Object.keys(declarations.functions));
  const app = scratchApp();
  const stacks = createStorefrontStacks(app, { artifacts, declarations, environments: options.environments });
  return new Map(
    stacks.map((stack) => {
      const json = Testing.synth(stack, true);
      return [stack.node.id, { name: stack.node.id, stack, json, parsed: JSON.parse(json) as TerraformJson }];
    }),
  );
}

export type ResourceBody = Record<string, unknown>;

/** Resources of one type, as [logical id, body]. */
export function resources(stack: TerraformJson, type: string): [string, ResourceBody][] {
  return Object.entries(stack.resource[type] ?? {});
}

/** The single resource of a type whose attribute has a value (e.g. a function by its name). */
export function resourceWhere(stack: TerraformJson, type: string, attribute: string, value: unknown): [string, ResourceBody] {
  const matches = resources(stack, type).filter(([, body]) => body[attribute] === value);
  if (matches.length !== 1) throw new Error(`Expected one ${type} with ${attribute} = ${String(value)}, found ${matches.length}`);
  return matches[0] as [string, ResourceBody];
}

/** `${aws_x.id.attr}` for a resource of the same stack. */
export function ref(type: string, id: string, attribute: string): string {
  return `\${${type}.${id}.${attribute}}`;
}

export function requireStack(stacks: Map<string, SynthesizedStack>, name: string): SynthesizedStack {
  const stack = stacks.get(name);
  if (!stack) throw new Error(`No stack ${name}`);
  return stack;
}

/**
 * A test file's synthesized environments: synthesized once before its tests, removed after them.
 * `stack(name)` is one environment's synthesis, `parsed(name)` its cdk.tf.json.
 */
export function useSynthesizedStacks(options: SynthOptions = {}): {
  stack(name: string): SynthesizedStack;
  parsed(name: string): TerraformJson;
} {
  let stacks = new Map<string, SynthesizedStack>();
  beforeAll(() => {
    stacks = synthStacks(options);
  });
  afterAll(removeTempDirs);
  return { stack: (name) => requireStack(stacks, name), parsed: (name) => requireStack(stacks, name).parsed };
}

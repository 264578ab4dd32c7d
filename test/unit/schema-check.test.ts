/**
 * build/schema-check.ts (`npm run schema:check`): the real schema against the
 * released one passes, as the suite's own gate; modified copies show what
 * fails (a removed field), what an acknowledgement lets through, and what
 * passes on its own (an added optional field; a new enum value, dangerous).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  acknowledgementsFile,
  checkSchemaChanges,
  checkSchemaFiles,
  formatSchemaCheck,
  readAcknowledgements,
  type Acknowledgement,
} from '../../build/schema-check.js';
import { repositoryRoot } from '../../declarations/paths.js';
import { loadSchemaSDL } from '../../declarations/schema.js';

const run = promisify(execFile);
const released = loadSchemaSDL(join(repositoryRoot, 'schema', 'released'));
const current = loadSchemaSDL();
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A schema directory holding `sdl`, and an acknowledgements file, for the CLI. */
function copyOf(sdl: string, acknowledgements: readonly Acknowledgement[] = []): { schema: string; acknowledged: string } {
  const root = mkdtempSync(join(tmpdir(), 'schema-check-'));
  dirs.push(root);
  mkdirSync(join(root, 'schema'));
  writeFileSync(join(root, 'schema', 'storefront.graphql'), sdl);
  writeFileSync(join(root, 'acknowledged.json'), JSON.stringify(acknowledgements));
  return { schema: join(root, 'schema'), acknowledged: join(root, 'acknowledged.json') };
}

/** `npm run schema:check` as CI runs it (tsx on the CLI), with its exit code and output. */
async function cli(args: readonly string[] = []): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(join(repositoryRoot, 'node_modules/.bin/tsx'), ['build/schema-check-cli.ts', ...args], {
      cwd: repositoryRoot,
    });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: `${failed.stdout}${failed.stderr}` };
  }
}

const withoutDescription = released.replace(/^ {2}description: String\n/m, '');
const withOptionalField = released.replace(/^ {2}description: String\n/m, '  description: String\n  subtitle: String\n');
const withEnumValue = released.replace(/^ {2}CANCELLED\n/m, '  CANCELLED\n  REFUNDED\n');

describe('schema:check', () => {
  it('passes on the real schema against the released one (the suite runs the real check)', async () => {
    const result = await checkSchemaFiles();
    expect(result.unacknowledged, formatSchemaCheck(result)).toEqual([]);
    expect(result.ok).toBe(true);
    // The released baseline loads with AppSync's scalars and directives, as the current schema does.
    expect(released).toContain('@aws_api_key');
    expect(readAcknowledgements(acknowledgementsFile).every((entry) => entry.reason.length >= 10)).toBe(true);
    const { code, output } = await cli();
    expect(output).toMatch(/OK$/m);
    expect(code).toBe(0);
  });

  it('fails on a removed field, listing it, with exit code 1', async () => {
    expect(withoutDescription).not.toBe(released);
    const result = await checkSchemaChanges({ current: withoutDescription, released, acknowledgements: [] });
    expect(result.ok).toBe(false);
    expect(result.unacknowledged).toEqual([
      expect.objectContaining({ type: 'FIELD_REMOVED', path: 'Product.description', level: 'breaking' }),
    ]);
    const { code, output } = await cli(['--schema', copyOf(withoutDescription).schema]);
    expect(code).toBe(1);
    expect(output).toContain('NOT ACKNOWLEDGED FIELD_REMOVED Product.description');
    expect(output).toMatch(/FAILED: 1 breaking change\(s\) not acknowledged/);
  });

  it('passes a breaking change acknowledged with a reason, and prints the reason', async () => {
    const acknowledgement = { type: 'FIELD_REMOVED', path: 'Product.description', reason: 'No released client selects it (operations/).' };
    const result = await checkSchemaChanges({ current: withoutDescription, released, acknowledgements: [acknowledgement] });
    expect(result.ok).toBe(true);
    expect(result.changes).toEqual([expect.objectContaining({ path: 'Product.description', acknowledgement })]);
    // The same from files, as `--schema <dir> --acknowledged <file>` reads them.
    const copy = copyOf(withoutDescription, [acknowledgement]);
    const fromFiles = await checkSchemaFiles({ schema: copy.schema, acknowledgements: copy.acknowledged });
    expect(fromFiles.ok).toBe(true);
    expect(formatSchemaCheck(fromFiles)).toContain('reason: No released client selects it');
  });

  it('passes an added optional field (safe) and a new enum value (dangerous), listing both', async () => {
    const added = await checkSchemaChanges({ current: withOptionalField, released, acknowledgements: [] });
    expect(added.ok).toBe(true);
    expect(added.changes).toEqual([expect.objectContaining({ type: 'FIELD_ADDED', path: 'Product.subtitle', level: 'safe' })]);
    const enumValue = await checkSchemaChanges({ current: withEnumValue, released, acknowledgements: [] });
    expect(enumValue.ok).toBe(true);
    expect(enumValue.changes).toEqual([expect.objectContaining({ path: 'OrderStatus.REFUNDED', level: 'dangerous' })]);
    expect(formatSchemaCheck(enumValue)).toMatch(/dangerous \(1\):\n {2}- ENUM_VALUE_ADDED OrderStatus\.REFUNDED/);
  });

  it('fails on an acknowledgement that matches no breaking change, and on one without a reason', async () => {
    const stale = { type: 'FIELD_REMOVED', path: 'Product.sku', reason: 'Left over from the last release.' };
    const result = await checkSchemaChanges({ current, released, acknowledgements: [stale] });
    expect(result).toMatchObject({ ok: false, stale: [stale], unacknowledged: [] });
    expect(formatSchemaCheck(result)).toContain('stale acknowledgement: FIELD_REMOVED Product.sku is not a breaking change now');
    const copy = copyOf(current, [{ type: 'FIELD_REMOVED', path: 'Product.sku', reason: '' } as Acknowledgement]);
    expect(() => readAcknowledgements(copy.acknowledged)).toThrow(/entry 0 must be \{ "type"/);
    await expect(checkSchemaFiles({ schema: copy.schema, acknowledgements: copy.acknowledged })).rejects.toThrow(/entry 0 must be/);
  });
});

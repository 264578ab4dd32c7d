import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { codegenInputFiles, codegenIsCurrent, codegenPaths, ensureCodegen, recordCodegenStamp } from '../../build/codegen.js';
import { repositoryRoot } from '../../declarations/paths.js';

describe('codegenInputFiles', () => {
  it('reads every schema and operation file the real codegen.yml names', () => {
    const files = codegenInputFiles(readFileSync(join(repositoryRoot, 'codegen.yml'), 'utf8'), repositoryRoot).map((file) =>
      relative(repositoryRoot, file),
    );
    expect(files).toContain('declarations/appsync-builtins.graphql');
    expect(files.filter((file) => file.startsWith('schema/')).length).toBeGreaterThan(0);
    expect(files.filter((file) => file.startsWith('operations/')).length).toBeGreaterThan(0);
  });

  it('refuses a glob form it would only half understand', () => {
    expect(() => codegenInputFiles('schema:\n  - schema/**/*.graphql\n', repositoryRoot)).toThrow(
      /understands a file or folder\/\*\.graphql/,
    );
  });
});

describe('the codegen stamp', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  /** A project as codegen sees it, with generated/ already written and stamped. */
  async function stampedProject() {
    root = mkdtempSync(join(tmpdir(), 'codegen-stamp-'));
    writeFileSync(join(root, 'codegen.yml'), 'schema:\n  - schema/*.graphql\n  - builtins.graphql\ndocuments:\n  - operations/*.graphql\n');
    writeFileSync(join(root, 'package.json'), '{}');
    writeFileSync(join(root, 'builtins.graphql'), 'scalar AWSJSON\n');
    mkdirSync(join(root, 'schema'));
    writeFileSync(join(root, 'schema', 'a.graphql'), 'type Query { a: Int }\n');
    mkdirSync(join(root, 'operations'));
    writeFileSync(join(root, 'operations', 'a.graphql'), 'query A { a }\n');
    mkdirSync(join(root, 'generated', 'client'), { recursive: true });
    writeFileSync(join(root, 'generated', 'graphql.ts'), 'export type Query = { a: number };\n');
    writeFileSync(join(root, 'generated', 'client', 'index.ts'), 'export {};\n');
    const paths = codegenPaths(root);
    await recordCodegenStamp(paths);
    return { root, paths };
  }

  it('is current until an input or an output changes, and ensureCodegen then does not run the generator', async () => {
    const { paths } = await stampedProject();
    expect(codegenIsCurrent(paths)).toBe(true);
    // No generator is installed in this project: 'unchanged' proves it was not run.
    await expect(ensureCodegen({ paths })).resolves.toBe('unchanged');
  });

  it.each([
    ['a schema edit', (root: string) => writeFileSync(join(root, 'schema', 'a.graphql'), 'type Query { a: Int b: Int }\n')],
    ['a new schema file', (root: string) => writeFileSync(join(root, 'schema', 'b.graphql'), 'type B { b: Int }\n')],
    ['an operation edit', (root: string) => writeFileSync(join(root, 'operations', 'a.graphql'), 'query A { a b }\n')],
    ['a named file edit', (root: string) => writeFileSync(join(root, 'builtins.graphql'), 'scalar AWSJSON\nscalar AWSURL\n')],
    ['a codegen.yml edit', (root: string) => writeFileSync(join(root, 'codegen.yml'), 'schema:\n  - schema/*.graphql\n')],
    ['an edited output', (root: string) => writeFileSync(join(root, 'generated', 'graphql.ts'), 'export type Query = {};\n')],
    ['a deleted output', (root: string) => rmSync(join(root, 'generated', 'client'), { recursive: true })],
    ['a deleted stamp', (root: string) => rmSync(join(root, 'generated', '.codegen-stamp.json'))],
  ])('is stale after %s', async (_change, change) => {
    const { root, paths } = await stampedProject();
    change(root);
    expect(codegenIsCurrent(paths)).toBe(false);
  });
});

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../../declarations/paths.js';

const fixtureDir = join(repositoryRoot, 'test', 'fixtures', 'types');

describe('generated resolver types', () => {
  it('make tsc reject resolvers whose signatures disagree with the schema', async () => {
    const tsc = join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const output = await promisify(execFile)(process.execPath, [tsc, '-p', join(fixtureDir, 'tsconfig.json')], {
      cwd: repositoryRoot,
    }).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    const source = readFileSync(join(fixtureDir, 'wrong-resolvers.ts'), 'utf8').split('\n');
    const errorLines = new Set([...output.matchAll(/wrong-resolvers\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1])));
    for (const marker of ['WRONG-RETURN', 'WRONG-ARGS', 'WRONG-BATCH']) {
      const line = source.findIndex((text) => text.includes(marker)) + 2; // the line after the marker comment
      expect(errorLines, `${marker} (line ${line})\n${output}`).toContain(line);
    }
    expect(errorLines.size).toBe(3);
  }, 60_000);
});

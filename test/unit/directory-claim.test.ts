import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimDirectory } from '../support/directory-claim.js';

/** The claim that keeps two test runs out of one kept bundle directory (support/global-setup.ts). */
describe('claimDirectory', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'claim-'));
    dirs.push(dir);
    return join(dir, 'bundles');
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('creates and claims a directory, refuses a second claim while the first holds it, and frees it on release', () => {
    const dir = fresh();
    const release = claimDirectory(dir);
    expect(release).toBeTypeOf('function');
    expect(existsSync(dir)).toBe(true);
    expect(claimDirectory(dir)).toBeUndefined();
    release!();
    const again = claimDirectory(dir);
    expect(again).toBeTypeOf('function');
    again!();
  });

  it('takes over the claim of a process that is gone', () => {
    const dir = fresh();
    // A pid that existed and exited: a child that ran to completion.
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    expect(claimDirectory(dir, gone)).toBeTypeOf('function');
    const release = claimDirectory(dir);
    expect(release).toBeTypeOf('function');
    release!();
  });

  it('leaves alone a claim still being written (no pid yet), and takes over one left unwritten long ago', () => {
    const dir = fresh();
    const claim = join(dir, '.claim');
    mkdirSync(claim, { recursive: true });
    expect(claimDirectory(dir)).toBeUndefined();
    const longAgo = new Date(Date.now() - 10 * 60_000);
    utimesSync(claim, longAgo, longAgo);
    const release = claimDirectory(dir);
    expect(release).toBeTypeOf('function');
    release!();
  });

  it('refuses while a live process holds it, whoever that is', () => {
    const dir = fresh();
    mkdirSync(join(dir, '.claim'), { recursive: true });
    writeFileSync(join(dir, '.claim', 'pid'), String(process.ppid));
    expect(claimDirectory(dir)).toBeUndefined();
  });
});

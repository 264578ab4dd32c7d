/**
 * The file handling of local/dynamodb/class-data-sharing.ts without a JVM: the manifest edit that makes
 * DynamoDBLocal.jar usable for CDS, and what a start does with dumps an earlier process left behind.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClassDataArchive, publishOnce, withoutClassPath } from '../../local/dynamodb/class-data-sharing.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cds-unit-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('withoutClassPath', () => {
  it("drops the main section's Class-Path with its continuation lines and keeps everything else", () => {
    const manifest = [
      'Manifest-Version: 1.0',
      'Main-Class: software.amazon.dynamodb.services.local.main.ServerRunner',
      'Class-Path: . log4j2.xml DynamoDBLocal_lib/a.jar DynamoDBLocal_lib/b',
      ' .jar DynamoDBLocal_lib/c.jar',
      'Bundle-License: DynamoDB Local License Agreement (classpath:LICENSE.tx',
      ' t)',
      '',
      'Name: some/Entry.class',
      'Class-Path: kept-in-an-entry-section',
      '',
    ].join('\r\n');
    expect(withoutClassPath(manifest)).toBe(
      [
        'Manifest-Version: 1.0',
        'Main-Class: software.amazon.dynamodb.services.local.main.ServerRunner',
        'Bundle-License: DynamoDB Local License Agreement (classpath:LICENSE.tx',
        ' t)',
        '',
        'Name: some/Entry.class',
        'Class-Path: kept-in-an-entry-section',
        '',
      ].join('\r\n'),
    );
  });
});

describe('publishOnce', () => {
  it('moves a finished file into place, but never over one already there', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.partial'), 'first');
    publishOnce(join(dir, 'a.partial'), join(dir, 'a.jar'));
    writeFileSync(join(dir, 'b.partial'), 'second');
    publishOnce(join(dir, 'b.partial'), join(dir, 'a.jar'));
    expect(readdirSync(dir)).toEqual(['a.jar']);
  });
});

describe('ClassDataArchive.open', () => {
  /** A dump left by a process that is gone: pid 2^22 + 1 is above Linux's pid_max limit, so never alive. */
  const GONE = 4_194_305;

  function archiveFor(cacheDir: string): ClassDataArchive {
    const jar = join(cacheDir, 'app.jar');
    writeFileSync(jar, 'jar');
    const archive = ClassDataArchive.open({ cacheDir, classpath: [jar], jvmFlags: ['-Xfoo'] });
    if (!archive) throw new Error('no java on PATH');
    return archive;
  }

  it.runIf(process.platform === 'linux')('adopts a complete dump whose process is gone, and removes an incomplete one', () => {
    const cacheDir = tempDir();
    const path = archiveFor(cacheDir).path;
    const stem = path.slice(0, -'.jsa'.length);
    writeFileSync(`${stem}.${GONE}-0.jsa.partial`, 'complete');
    writeFileSync(`${stem}.${GONE}-0.jsa.partial.log`, '[3.811s][info][cds,dynamic] Written dynamic archive 0x0 - 0x1\n');
    writeFileSync(`${stem}.${GONE}-1.jsa.partial`, 'cut short');
    writeFileSync(`${stem}.${GONE}-1.jsa.partial.log`, '[1.0s][info][cds,dynamic] Archiving hidden …\n');
    // A dump of a live process (this one) is still being written: left alone.
    writeFileSync(`${stem}.${process.pid}-0.jsa.partial`, 'in progress');

    archiveFor(cacheDir);
    expect(readdirSync(cacheDir).sort()).toEqual(
      ['app.jar', path.slice(cacheDir.length + 1), `${stem.slice(cacheDir.length + 1)}.${process.pid}-0.jsa.partial`].sort(),
    );
  });

  it('records an archive when there is none, and maps one that exists; a file that is no archive is dropped', () => {
    const cacheDir = tempDir();
    const archive = archiveFor(cacheDir);
    expect(archive.launchFlags()).toEqual(expect.arrayContaining([expect.stringMatching(/^-XX:ArchiveClassesAtExit=.*\.jsa\.partial$/)]));
    expect(archive.mapped).toBe(false);

    // HotSpot's dynamic archive magic number, little-endian, then anything.
    writeFileSync(archive.path, Buffer.from([0xa8, 0xab, 0x0b, 0xf0, 0, 0, 0, 0]));
    expect(archive.launchFlags()).toEqual([`-XX:SharedArchiveFile=${archive.path}`, '-Xshare:auto']);
    expect(archive.mapped).toBe(true);
    // The JVM saying it cannot use the archive drops it.
    expect(archive.observe('[0.4s][warning][cds,dynamic] Unable to use shared archive. The top archive failed to load: x')).toBe(true);
    expect(existsSync(archive.path)).toBe(false);

    writeFileSync(archive.path, 'garbage');
    expect(archive.launchFlags()[0]).toMatch(/^-XX:ArchiveClassesAtExit=/);
    expect(existsSync(archive.path)).toBe(false);
    archive.settle(); // no JVM ran: its dump and log never appeared, nothing to move
    expect(readdirSync(cacheDir)).toEqual(['app.jar']);
  });
});

/**
 * local/dynamodb/sqlite-native.ts: the flags that point DynamoDB Local's SQLite loader at the package's native
 * library. What the JVM then maps is in test/integration/dynamodb-local.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteNativeLibrary, sqliteNativeLibraryFlags } from '../../local/dynamodb/sqlite-native.js';

describe('sqliteNativeLibraryFlags', () => {
  let libDir: string;
  beforeEach(() => {
    libDir = mkdtempSync(join(tmpdir(), 'sqlite-native-'));
  });
  afterEach(() => rmSync(libDir, { recursive: true, force: true }));

  it.each([
    ['linux', 'x64', 'libsqlite4java-linux-amd64.so'],
    ['linux', 'arm64', 'libsqlite4java-linux-aarch64.so'],
    ['darwin', 'arm64', 'libsqlite4java-osx-aarch64.dylib'],
    ['darwin', 'x64', 'libsqlite4java-osx-x86_64.dylib'],
    ['win32', 'x64', 'sqlite4java-win32-x64.dll'],
  ])('on %s %s, names %s in the library directory', (platform, arch, file) => {
    writeFileSync(join(libDir, file), '');
    expect(sqliteNativeLibrary(libDir, platform, arch)).toBe(file);
    expect(sqliteNativeLibraryFlags(libDir, platform, arch)).toEqual([`-Dorg.sqlite.lib.path=${libDir}`, `-Dorg.sqlite.lib.name=${file}`]);
  });

  it('gives no flags when the package has no library for the platform, so DynamoDB Local loads its own', () => {
    writeFileSync(join(libDir, 'libsqlite4java-linux-amd64.so'), '');
    expect(sqliteNativeLibraryFlags(libDir, 'linux', 'arm64')).toEqual([]);
    expect(sqliteNativeLibraryFlags(libDir, 'freebsd', 'x64')).toEqual([]);
  });
});

/**
 * Where DynamoDB Local's SQLite finds its native library.
 *
 * DynamoDB Local's own loader (SQLiteLibraryLoader in DynamoDBLocal.jar) tries, in order: the file named by
 * the system properties `org.sqlite.lib.path` and `org.sqlite.lib.name`; a copy of the library in its jar,
 * written to `java.io.tmpdir` as `sqlite-<version>-<uuid>-libsqlite4java.so`; and only then
 * `java.library.path`. The copy is 0.9 MB, written on every start under a new name and removed only by
 * `deleteOnExit`, which a killed JVM never runs: a day of test runs had left 330 of them (300 MB) in /tmp.
 * The package ships the same library (byte for byte) in DynamoDBLocal_lib, so these flags point the
 * loader at it and nothing is written. A platform the package has no library for gets no flags, and the
 * loader does as it would without us.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The library's file name in DynamoDBLocal_lib, per `process.platform` and `process.arch`. */
const LIBRARY_FILES: Readonly<Record<string, string>> = {
  'linux-x64': 'libsqlite4java-linux-amd64.so',
  'linux-arm64': 'libsqlite4java-linux-aarch64.so',
  'linux-ia32': 'libsqlite4java-linux-i386.so',
  'darwin-x64': 'libsqlite4java-osx-x86_64.dylib',
  'darwin-arm64': 'libsqlite4java-osx-aarch64.dylib',
  'win32-x64': 'sqlite4java-win32-x64.dll',
  'win32-ia32': 'sqlite4java-win32-x86.dll',
};

/** The library's file name in `libDir` for this platform, or undefined when the package has none. */
export function sqliteNativeLibrary(libDir: string, platform: string = process.platform, arch: string = process.arch): string | undefined {
  const file = LIBRARY_FILES[`${platform}-${arch}`];
  return file !== undefined && existsSync(join(libDir, file)) ? file : undefined;
}

/** JVM flags that have DynamoDB Local load SQLite's library from `libDir` instead of a copy in the temp directory. */
export function sqliteNativeLibraryFlags(libDir: string, platform: string = process.platform, arch: string = process.arch): string[] {
  const file = sqliteNativeLibrary(libDir, platform, arch);
  return file === undefined ? [] : [`-Dorg.sqlite.lib.path=${libDir}`, `-Dorg.sqlite.lib.name=${file}`];
}

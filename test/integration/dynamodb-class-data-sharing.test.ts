/**
 * DynamoDB Local's class-data archive (local/dynamodb/class-data-sharing.ts) against the real JVM: recorded
 * when a JVM without one stops, mapped by the next start, and an archive that is missing, stale, not an
 * archive at all or cut short never keeps DynamoDB Local from starting.
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  COMPILED_LAUNCHER,
  DEFAULT_CACHE_DIR,
  dynamoDbClientConfig,
  startDynamoDBLocal,
  type DynamoDBLocalHandle,
} from '../../local/dynamodb/dynamodb-local.js';

const JVM_TIMEOUT_MS = 180_000;

let scratch: string;
let javaToolOptions: string | undefined;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'ddb-cds-'));
  // A JVM crashed on purpose below writes its crash report here, not into the repository.
  javaToolOptions = process.env.JAVA_TOOL_OPTIONS;
  process.env.JAVA_TOOL_OPTIONS = [javaToolOptions, `-XX:ErrorFile=${join(scratch, 'hs_err_pid%p.log')}`].filter(Boolean).join(' ');
});

afterAll(() => {
  if (javaToolOptions === undefined) delete process.env.JAVA_TOOL_OPTIONS;
  else process.env.JAVA_TOOL_OPTIONS = javaToolOptions;
  rmSync(scratch, { recursive: true, force: true });
});

function freshCacheDir(): string {
  return mkdtempSync(join(scratch, 'cache-'));
}

/**
 * A fresh cache directory holding the launcher the run's own starts compiled (the global setup's JVMs use the
 * default directory): compiling it takes a JVM running javac, seconds of CPU that these tests are not about.
 * The last test compiles it into a directory of its own. Without one to copy, the start compiles it here.
 */
function freshCacheDirWithLauncher(): string {
  const cacheDir = freshCacheDir();
  const compiled = existsSync(DEFAULT_CACHE_DIR) ? readdirSync(DEFAULT_CACHE_DIR).filter((file) => COMPILED_LAUNCHER.test(file)) : [];
  for (const file of compiled) copyFileSync(join(DEFAULT_CACHE_DIR, file), join(cacheDir, file));
  return cacheDir;
}

function launchersIn(cacheDir: string): string[] {
  return readdirSync(cacheDir).filter((file) => COMPILED_LAUNCHER.test(file));
}

/**
 * The cache directory the first test records its archive in. The next three tests run in order on it, each
 * damaging the archive its own way and leaving a whole one behind: recording an archive costs a JVM start
 * and a dump of several seconds (tens on a loaded machine), and an archive belongs to its directory's class
 * path, so a copy elsewhere would not do.
 */
let recorded: { readonly cacheDir: string; readonly archive: string } | undefined;
function recordedCache(): { readonly cacheDir: string; readonly archive: string } {
  if (!recorded) throw new Error('The first test records the archive the following ones start from');
  expect(archivesIn(recorded.cacheDir)).toEqual([basename(recorded.archive)]);
  return recorded;
}

function archivesIn(cacheDir: string): string[] {
  return readdirSync(cacheDir).filter((file) => /^classes-[0-9a-f]+\.jsa$/.test(file));
}

/** The JVM maps its archive: the file shows in its memory map (Linux). */
function mapsArchive(handle: DynamoDBLocalHandle, archive: string): boolean {
  return readFileSync(`/proc/${handle.health().pid}/maps`, 'utf8').includes(archive);
}

async function answersListTables(handle: DynamoDBLocalHandle): Promise<void> {
  const client = new DynamoDBClient(dynamoDbClientConfig(handle.endpoint));
  try {
    await expect(client.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: [] });
  } finally {
    client.destroy();
  }
}

/** Starts and stops DynamoDB Local once; returns the archive that start recorded (or mapped). */
async function startAndStop(cacheDir: string, log?: string[]): Promise<string> {
  const handle = await startDynamoDBLocal({ cacheDir, quickStart: true, ...(log ? { log: (line) => log.push(line) } : {}) });
  await answersListTables(handle);
  await handle.stop();
  const archives = archivesIn(cacheDir);
  expect(archives).toHaveLength(1);
  return join(cacheDir, archives[0]!);
}

describe.runIf(process.platform === 'linux')('DynamoDB Local class-data sharing', () => {
  it(
    'records an archive when a JVM without one stops, and the next start maps it',
    async () => {
      const cacheDir = freshCacheDirWithLauncher();
      const archive = await startAndStop(cacheDir);
      const launchers = launchersIn(cacheDir).map((file) => [file, statSync(join(cacheDir, file)).ino]);
      // Only the archive and the two jars are left: no partial dump, no dump log.
      expect(readdirSync(cacheDir).filter((file) => file.includes('partial') || file.endsWith('.log'))).toEqual([]);
      const archived = statSync(archive);
      recorded = { cacheDir, archive };

      const again = await startDynamoDBLocal({ cacheDir, quickStart: true });
      try {
        expect(mapsArchive(again, archive)).toBe(true);
        await answersListTables(again);
      } finally {
        await again.stop();
      }
      // A JVM that mapped the archive records none: the file is the one from the first start.
      expect(statSync(archive).ino).toBe(archived.ino);
      // Nor did it compile its launcher again.
      expect(launchersIn(cacheDir).map((file) => [file, statSync(join(cacheDir, file)).ino])).toEqual(launchers);
    },
    JVM_TIMEOUT_MS,
  );

  it(
    'replaces a file that is no archive: the JVM starts without it and records a real one',
    async () => {
      const { cacheDir, archive } = recordedCache();
      writeFileSync(archive, 'not a class-data archive');

      const log: string[] = [];
      expect(await startAndStop(cacheDir, log)).toBe(archive);
      expect(log.join('\n')).toMatch(/is not a class-data archive/);
      expect(statSync(archive).size).toBeGreaterThan(1_000_000);
    },
    JVM_TIMEOUT_MS,
  );

  it(
    'drops an archive cut short, which crashes a JVM mapping it, and starts once more without it',
    async () => {
      const { cacheDir, archive } = recordedCache();
      truncateSync(archive, 1024 * 1024);

      const log: string[] = [];
      const handle = await startDynamoDBLocal({ cacheDir, quickStart: true, log: (line) => log.push(line) });
      try {
        await answersListTables(handle);
        expect(log.join('\n')).toMatch(/could not use its class-data archive/);
      } finally {
        await handle.stop();
      }
      // The second JVM ran without an archive, so it recorded a whole one at stop.
      expect(statSync(archive).size).toBeGreaterThan(1_000_000);
    },
    JVM_TIMEOUT_MS,
  );

  it(
    'gives a changed jar a new archive, and drops an archive the JVM finds stale',
    async () => {
      const { cacheDir, archive: first } = recordedCache();
      // DynamoDB Local's jar as the JVM runs it, modified: its size and time are part of the archive's key.
      const jar = join(cacheDir, readdirSync(cacheDir).find((file) => /^DynamoDBLocal-.*\.jar$/.test(file))!);
      const later = new Date(statSync(jar).mtimeMs + 60_000);
      utimesSync(jar, later, later);

      const log: string[] = [];
      const handle = await startDynamoDBLocal({ cacheDir, quickStart: true, log: (line) => log.push(line) });
      await answersListTables(handle);
      await handle.stop();
      const archives = archivesIn(cacheDir).map((file) => join(cacheDir, file));
      expect(archives).toHaveLength(2);
      const second = archives.find((file) => file !== first)!;

      // The first archive under the second's name: the JVM checks the jar's time, says it cannot use it, and starts.
      writeFileSync(second, readFileSync(first));
      log.length = 0;
      const stale = await startDynamoDBLocal({ cacheDir, quickStart: true, log: (line) => log.push(line) });
      try {
        await answersListTables(stale);
        expect(log.join('\n')).toMatch(/could not use its class-data archive/);
      } finally {
        await stale.stop();
      }
      // Gone, so that the next start records a fresh one (as the first test shows); the other archive stays.
      expect(existsSync(second)).toBe(false);
      expect(existsSync(first)).toBe(true);
    },
    JVM_TIMEOUT_MS,
  );

  it(
    'without class-data sharing, runs the jar as shipped and leaves the cache without an archive; compiles its launcher there once',
    async () => {
      const cacheDir = freshCacheDir();
      const handle = await startDynamoDBLocal({ cacheDir, classDataSharing: false });
      try {
        await answersListTables(handle);
        const commandLine = readFileSync(`/proc/${handle.health().pid}/cmdline`, 'utf8');
        expect(commandLine).not.toMatch(/SharedArchiveFile|ArchiveClassesAtExit/);
        // The launcher, compiled into this directory at the start, runs as a class from that jar (not from source).
        const launchers = launchersIn(cacheDir);
        expect(launchers).toHaveLength(1);
        const args = commandLine.split('\0');
        expect(args[args.indexOf('-cp') + 1]?.split(':')[0]).toBe(join(cacheDir, launchers[0]!));
        expect(args).toContain('LoopbackDynamoDBLocal');
      } finally {
        await handle.stop();
      }
      expect(archivesIn(cacheDir)).toEqual([]);
    },
    JVM_TIMEOUT_MS,
  );
});

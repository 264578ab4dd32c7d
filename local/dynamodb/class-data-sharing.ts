/**
 * Application class-data sharing (AppCDS) for DynamoDB Local's JVM. Most of its start is loading, parsing
 * and verifying about 3,300 classes from jars; a dynamic CDS archive holds them parsed and verified, mapped
 * straight into memory (measured on the loaded 2-core machine: about 0.65× the CPU to its first answer).
 * A JVM started without an archive records one when it exits (`-XX:ArchiveClassesAtExit`; JDK 17 has no
 * `-XX:+AutoCreateSharedArchive`), also when stopped by SIGTERM, so the first start of a checkout (or after
 * a Java or DynamoDB Local upgrade) pays about two seconds once, at stop, and later starts map the archive.
 *
 * The archive lives in the cache directory (node_modules/.cache/storefront/dynamodb-local by default), named
 * after everything the JVM checks it against: the class path and each of its jars, the Java runtime and the
 * JVM flags. What can go wrong, and what then happens:
 * - CDS refuses a class path holding a non-empty directory, and DynamoDBLocal.jar's manifest puts its own
 *   directory ('.') on it: the JVM runs a copy of the jar whose manifest has no Class-Path (the libraries
 *   that manifest names are on the class path anyway, as DynamoDBLocal_lib/*).
 * - An archive the JVM cannot use (another Java build, another class path, a file that is not an archive):
 *   the JVM starts without it (`-Xshare:auto`); when it says so, the archive is dropped and the next
 *   start records a fresh one.
 * - An archive cut short would crash the JVM while mapping it (SIGBUS): an archive is only moved into place
 *   once the JVM reported its dump complete, and a JVM that crashes at start with an archive drops it
 *   (the caller then starts once more without it).
 * - A JVM killed while dumping: its partial file is never moved into place; it is removed at stop, or by a
 *   later start once its owner process is gone.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  linkSync,
  openSync,
  readSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { processAlive } from '../process/process-alive.js';

/** The JVM's last line of a complete dump, in the dump's log file (`-Xlog:cds+dynamic=info`). */
const DUMP_COMPLETE = /Written dynamic archive/;
/** What a JVM prints when it cannot use the archive it was given (it then runs without it). */
const ARCHIVE_REJECTED = /\[cds[^\]]*\].*(unable to use shared archive|error .*shared archive|shared archive file)/i;
/** HotSpot's banner for a crash (e.g. SIGBUS while mapping a damaged archive). */
const JVM_CRASH = /A fatal error has been detected by the Java Runtime Environment/;
const PARTIAL_SUFFIX = '.jsa.partial';
/** CDS_DYNAMIC_ARCHIVE_MAGIC in HotSpot's cds/filemap.hpp. */
const DYNAMIC_ARCHIVE_MAGIC = 0xf00baba8;
/** An archive no start has used for this long belongs to a Java or DynamoDB Local release that is gone. */
const UNUSED_ARCHIVE_DAYS = 30;
/** Dumps started by this process (several JVMs may run in one), for unique partial file names. */
let dumpsStarted = 0;

export interface ClassDataArchiveOptions {
  /** Where the archive (and its partial dumps) live. */
  readonly cacheDir: string;
  /** The JVM's class path, in order; a `dir/*` entry stands for the jars in `dir`. */
  readonly classpath: readonly string[];
  /** Every flag the JVM gets besides the class path and the archive's own (including JAVA_TOOL_OPTIONS). */
  readonly jvmFlags: readonly string[];
  /** The `java` the JVM is started with (a name looked up on PATH, or a path). */
  readonly java?: string;
  /** Lines worth a developer's attention (an archive dropped). */
  readonly log?: (line: string) => void;
}

/**
 * One cache directory's archive for one class path, Java runtime and set of flags. `launchFlags()` gives
 * each launch its flags; `observe` sees the JVM's output; `settle()` after the JVM stopped moves a complete
 * dump into place.
 */
export class ClassDataArchive {
  /** The archive's path, whether or not it exists yet. */
  readonly path: string;
  readonly #cacheDir: string;
  readonly #log: (line: string) => void;
  /** This process's dumps, settled at stop. */
  readonly #dumps: string[] = [];
  /** Whether the latest launch maps the archive (rather than recording one). */
  #mapped = false;

  private constructor(cacheDir: string, key: string, log: (line: string) => void) {
    this.#cacheDir = cacheDir;
    this.path = join(cacheDir, `classes-${key}.jsa`);
    this.#log = log;
  }

  /**
   * The archive for this class path, runtime and flags, with leftovers of earlier processes settled;
   * undefined when there is none to have (no `java` found to key it on, or an unwritable cache directory).
   */
  static open(options: ClassDataArchiveOptions): ClassDataArchive | undefined {
    const runtime = javaRuntimeIdentity(options.java ?? 'java');
    if (runtime === undefined) return undefined;
    try {
      mkdirSync(options.cacheDir, { recursive: true });
    } catch {
      return undefined;
    }
    const key = createHash('sha256')
      .update(JSON.stringify({ classpath: classpathIdentity(options.classpath), runtime, flags: [...new Set(options.jvmFlags)].sort() }))
      .digest('hex')
      .slice(0, 16);
    const archive = new ClassDataArchive(options.cacheDir, key, options.log ?? (() => undefined));
    archive.#settleOrphans();
    archive.#pruneUnused();
    return archive;
  }

  /** Whether the latest launch was given the archive to map. */
  get mapped(): boolean {
    return this.#mapped;
  }

  /** The flags for a launch: map the archive when there is one, else record one at exit. */
  launchFlags(): string[] {
    this.#mapped = existsSync(this.path);
    // The JVM silently ignores a file that is no archive at all; drop it so that this launch records one.
    if (this.#mapped && !isDynamicArchive(this.path)) this.discard(`${this.path} is not a class-data archive`);
    if (this.#mapped) return [`-XX:SharedArchiveFile=${this.path}`, '-Xshare:auto'];
    // Named after this process, so a later start can tell a dump whose owner is gone.
    const dump = `${this.path.slice(0, -'.jsa'.length)}.${process.pid}-${dumpsStarted++}${PARTIAL_SUFFIX}`;
    this.#dumps.push(dump);
    return [
      `-XX:ArchiveClassesAtExit=${dump}`,
      // The dump's log says whether it completed (settle() reads it); its warnings about classes it
      // skips would otherwise flood the JVM's output at exit.
      `-Xlog:cds+dynamic=info:file=${dump}.log`,
      '-Xlog:cds=off',
    ];
  }

  /**
   * Every output line of the JVM. A JVM that cannot use the archive says so and runs without it; one that
   * crashed while it mapped one may have been crashed by it: either way the archive goes, and a later
   * start records a fresh one. Returns true when this line dropped the archive.
   */
  observe(line: string): boolean {
    if (!this.#mapped) return false;
    if (!ARCHIVE_REJECTED.test(line) && !JVM_CRASH.test(line)) return false;
    this.discard(`DynamoDB Local's JVM could not use its class-data archive (${line.trim()})`);
    return true;
  }

  /** Drops the archive (a JVM mapping it keeps its copy): the next launch records a fresh one. */
  discard(reason: string): void {
    this.#mapped = false;
    rmSync(this.path, { force: true });
    this.#log(`${reason}; removed ${this.path}, the next start records a new one.`);
  }

  /** After the JVM exited: moves a complete dump into place (the newest wins), removes the rest. */
  settle(): void {
    for (const dump of this.#dumps.splice(0)) settleDump(dump, this.path);
  }

  /**
   * Marks this archive used (its modification time) and removes archives no start used for
   * UNUSED_ARCHIVE_DAYS: those of an older Java or DynamoDB Local release, 30-50 MB each.
   */
  #pruneUnused(): void {
    const now = new Date();
    try {
      if (existsSync(this.path)) utimesSync(this.path, now, now);
      for (const entry of readdirSync(this.#cacheDir)) {
        const file = join(this.#cacheDir, entry);
        if (!/^classes-[0-9a-f]+\.jsa$/.test(entry) || file === this.path) continue;
        if (now.getTime() - statSync(file).mtimeMs > UNUSED_ARCHIVE_DAYS * 86_400_000) rmSync(file, { force: true });
      }
    } catch {
      // Housekeeping only: another process may be pruning the same directory.
    }
  }

  /** Dumps whose process is gone: a JVM that outlived its parent may have completed one; else remove them. */
  #settleOrphans(): void {
    let entries: string[];
    try {
      entries = readdirSync(this.#cacheDir);
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.endsWith(PARTIAL_SUFFIX)) continue;
      const owner = Number(/\.(\d+)-\d+\.jsa\.partial$/.exec(entry)?.[1]);
      if (Number.isInteger(owner) && processAlive(owner)) continue;
      const archive = join(this.#cacheDir, entry.replace(/\.\d+-\d+\.jsa\.partial$/, '.jsa'));
      settleDump(join(this.#cacheDir, entry), archive);
    }
  }
}

/** Whether the file starts with HotSpot's magic number for a dynamic archive (0xf00baba8, in the machine's byte order). */
function isDynamicArchive(file: string): boolean {
  const magic = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    return (
      readSync(fd, magic, 0, 4, 0) === 4 &&
      (magic.readUInt32LE(0) === DYNAMIC_ARCHIVE_MAGIC || magic.readUInt32BE(0) === DYNAMIC_ARCHIVE_MAGIC)
    );
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function settleDump(dump: string, archive: string): void {
  try {
    const log = readFileSync(`${dump}.log`, 'utf8');
    if (DUMP_COMPLETE.test(log) && existsSync(dump)) renameSync(dump, archive);
  } catch {
    // No log (the JVM never got to dump) or a failed rename: the dump goes below.
  }
  rmSync(dump, { force: true });
  rmSync(`${dump}.log`, { force: true });
}

/**
 * What the JVM checks an archive's class path against: each jar's size and modification time (a `dir/*`
 * entry: every jar in it), in order.
 */
function classpathIdentity(classpath: readonly string[]): string[] {
  const identity: string[] = [];
  const describe = (file: string): void => {
    const stat = statSync(file);
    identity.push(`${file}:${stat.size}:${stat.mtimeMs}`);
  };
  for (const entry of classpath) {
    if (basename(entry) === '*') {
      const dir = dirname(entry);
      for (const name of readdirSync(dir).filter((file) => file.endsWith('.jar'))) describe(join(dir, name));
    } else {
      describe(entry);
    }
  }
  return identity;
}

/**
 * The Java runtime `java` resolves to, without starting it: its real path, its `release` file (version and
 * build) and its libjvm's size and time. Undefined when `java` is not found (starting it will say so).
 */
export function javaRuntimeIdentity(java: string): string | undefined {
  const candidates = java.includes('/') ? [java] : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, java));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) return undefined;
  const binary = realpathSync(found);
  const home = dirname(dirname(binary));
  const parts = [binary];
  try {
    parts.push(readFileSync(join(home, 'release'), 'utf8'));
  } catch {
    // Not every runtime ships a release file; libjvm below still tells builds apart.
  }
  try {
    const libjvm = statSync(join(home, 'lib', 'server', 'libjvm.so'));
    parts.push(`${libjvm.size}:${libjvm.mtimeMs}`);
  } catch {
    // Another layout (macOS, client VM): the binary's own identity then has to do.
    const stat = statSync(binary);
    parts.push(`${stat.size}:${stat.mtimeMs}`);
  }
  return parts.join('\n');
}

/**
 * DynamoDBLocal.jar as CDS can use it: a copy (in `cacheDir`, made once per release) whose manifest has no
 * Class-Path attribute, since that attribute puts the jar's own non-empty directory on the class path.
 * Every class and resource is the same; the libraries the attribute named must be on the class path
 * (DynamoDBLocal_lib/*), as they are. Entries are stored uncompressed: nothing to inflate at class load.
 */
export function jarWithoutManifestClassPath(jar: string, cacheDir: string): string {
  const stat = statSync(jar);
  const key = createHash('sha256').update(`${jar}:${stat.size}:${stat.mtimeMs}`).digest('hex').slice(0, 16);
  const target = join(cacheDir, `DynamoDBLocal-${key}.jar`);
  if (existsSync(target)) return target;
  mkdirSync(cacheDir, { recursive: true });
  const entries = unzipSync(readFileSync(jar));
  const manifest = entries['META-INF/MANIFEST.MF'];
  if (manifest === undefined) throw new Error(`${jar} has no META-INF/MANIFEST.MF`);
  entries['META-INF/MANIFEST.MF'] = new TextEncoder().encode(withoutClassPath(new TextDecoder().decode(manifest)));
  const scratch = `${target}.${process.pid}.partial`;
  writeFileSync(scratch, zipSync(entries, { level: 0 }));
  publishOnce(scratch, target);
  return target;
}

/**
 * Moves a finished file into place unless another process got there first: a concurrent start sees no file
 * or a whole one, and a file in place is never replaced (its size and time are part of an archive's key,
 * so replacing it would invalidate archives recorded against it).
 */
export function publishOnce(finished: string, target: string): void {
  try {
    linkSync(finished, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(finished, { force: true });
  }
}

/** The manifest without its main section's Class-Path attribute (and the attribute's continuation lines). */
export function withoutClassPath(manifest: string): string {
  const lines = manifest.split(/\r?\n/);
  const kept: string[] = [];
  let inMainSection = true;
  let skipping = false;
  for (const line of lines) {
    if (line === '') inMainSection = false;
    if (skipping && line.startsWith(' ')) continue;
    skipping = inMainSection && /^class-path:/i.test(line);
    if (!skipping) kept.push(line);
  }
  return kept.join('\r\n');
}

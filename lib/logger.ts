/**
 * The functions' Powertools Logger, loaded when there is something to log.
 *
 * Powertools' Logger is a fifth of the code a resolver function would read at
 * init (about 21 KB of the bundle), and building one sets up a Console on
 * stdout and stderr; yet an invocation that succeeds, at the default level,
 * logs nothing. So the functions hold a `DeferredLogger`: a line below the
 * level in force is dropped at once, as the Logger itself would drop it; any
 * other line imports the Logger (a chunk of its own, build/bundle.ts), builds
 * it with the same options, and writes the line, in the order the lines were
 * logged. A handler awaits `logsWritten()` before it answers, so no line
 * outlives its invocation.
 *
 * The level in force is the Logger's (POWERTOOLS_LOG_LEVEL, else LOG_LEVEL,
 * else INFO; AWS_LAMBDA_LOG_LEVEL over both). When it cannot be known without
 * the Logger — debug sampling (POWERTOOLS_LOGGER_SAMPLE_RATE), a value the
 * Logger would not accept — nothing is dropped: the Logger is imported at once
 * and decides every line itself.
 */
// Types only: erased from the bundle, so the Logger's code stays out of the init chunks.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';

/** The methods the resolver router (GenericLogger) and our modules call. */
export type LogMethod = 'debug' | 'info' | 'warn' | 'error';

export interface DeferredLogger {
  debug(...content: unknown[]): void;
  info(...content: unknown[]): void;
  warn(...content: unknown[]): void;
  error(...content: unknown[]): void;
}

/** Powertools' thresholds (its LogLevelThreshold); a line is written when its level is at least the threshold. */
const THRESHOLDS = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 } as const;
type LevelName = keyof typeof THRESHOLDS;
const METHOD_LEVEL: Readonly<Record<LogMethod, number>> = {
  debug: THRESHOLDS.DEBUG,
  info: THRESHOLDS.INFO,
  warn: THRESHOLDS.WARN,
  error: THRESHOLDS.ERROR,
};

const isLevelName = (value: string): value is LevelName => Object.hasOwn(THRESHOLDS, value);

/**
 * The threshold a Logger built from `env` (with no level among its options) starts with, or undefined
 * when only the Logger can tell (sampling may raise it to DEBUG per invocation; an unexpected value).
 */
export function knownThreshold(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if ((env.POWERTOOLS_LOGGER_SAMPLE_RATE ?? '').trim() !== '') return undefined;
  const lambda = (env.AWS_LAMBDA_LOG_LEVEL ?? '').trim();
  if (lambda !== '') {
    const name = lambda === 'FATAL' ? 'CRITICAL' : lambda;
    return isLevelName(name) ? THRESHOLDS[name] : undefined;
  }
  const chosen = (env.POWERTOOLS_LOG_LEVEL ?? '').trim() || (env.LOG_LEVEL ?? '').trim();
  if (chosen === '') return THRESHOLDS.INFO;
  return isLevelName(chosen) ? THRESHOLDS[chosen] : undefined;
}

/** Writes not yet done, across every deferred logger of this execution environment. */
const unwritten = new Set<Promise<void>>();

/** Resolves once every line logged so far is written (rejects if the Logger could not be loaded); undefined when none is waiting. */
export function logsWritten(): Promise<void> | undefined {
  if (unwritten.size === 0) return undefined;
  return Promise.all(unwritten).then(() => undefined);
}

/**
 * A logger that builds `new Logger(options)` only when a line at or above the level in force is logged
 * (at once when that level cannot be known from `env`, see `knownThreshold`).
 */
export function deferredLogger(options: ConstructorOptions = {}, env: NodeJS.ProcessEnv = process.env): DeferredLogger {
  const threshold = knownThreshold(env);
  let logger: Logger | undefined;
  let loading: Promise<void> | undefined;
  // Lines logged while the Logger loads, written in order as soon as it exists.
  let queue: Array<[LogMethod, unknown[]]> = [];

  const load = (): Promise<void> => {
    loading ??= track(
      import('@aws-lambda-powertools/logger').then(({ Logger }) => {
        const built = new Logger(options);
        for (const [method, content] of queue) write(built, method, content);
        queue = [];
        logger = built;
      }),
    );
    return loading;
  };

  const log =
    (method: LogMethod) =>
    (...content: unknown[]): void => {
      if (logger) return write(logger, method, content);
      if (threshold !== undefined && METHOD_LEVEL[method] < threshold) return;
      queue.push([method, content]);
      void load();
    };

  if (threshold === undefined) void load();
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function write(logger: Logger, method: LogMethod, content: unknown[]): void {
  (logger[method] as (...args: unknown[]) => void)(...content);
}

function track(work: Promise<void>): Promise<void> {
  const tracked = work.finally(() => unwritten.delete(tracked));
  unwritten.add(tracked);
  // Unhandled here: a failed load is reported through logsWritten(), which the handlers await.
  tracked.catch(() => undefined);
  return work;
}

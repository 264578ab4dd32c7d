import { availableParallelism } from 'node:os';
/**
 * Every bundled function in its own Lambda-like execution environments (local/lambda/function-runtime.ts),
 * each with the environment the stacks give it in AWS (declarations/function-environment.ts), pointed at
 * the local tables, DynamoDB Local and redis-server.
 */
import type { FunctionBundle } from '../../build/bundle.js';
import { functionEnvironment } from '../../declarations/function-environment.js';
import { functions, type FunctionName } from '../../declarations/functions.js';
import type { TableName } from '../../declarations/tables.js';
import { LocalFunction } from '../lambda/function-runtime.js';
import type { RedisServerHandle } from '../redis/redis-server.js';
import type { Cleanups } from './cleanups.js';

export interface LocalFunctionsOptions {
  readonly bundles: readonly FunctionBundle[];
  readonly tables: Readonly<Record<TableName, string>>;
  /** How the functions reach DynamoDB Local (endpoint, region, credentials). */
  readonly clientEnvironment: Readonly<Record<string, string>>;
  /** Values of the functions' declared parameters (e.g. PARTNER_TOKENS_SHA256, the cache's). */
  readonly parameterValues: Readonly<Record<string, string>>;
  /** Execution environments per function; the declaration's reservedConcurrency, or LOCAL_ENVIRONMENTS_PER_FUNCTION, when unset. */
  readonly maxConcurrency?: number | undefined;
  /** Platform log lines (REPORT etc.), prefixed with the function's name. */
  readonly log: (line: string) => void;
}

export interface LocalFunctions {
  readonly functions: ReadonlyMap<FunctionName, LocalFunction>;
  /** The full environment each function's execution environments get. */
  readonly environments: Readonly<Record<FunctionName, Readonly<Record<string, string>>>>;
}

/**
 * Values of the functions' declared parameters, locally: the hash of the one partner whose token the
 * stack hands out, and the cache settings when a redis-server runs.
 */
export function localParameterValues(partnerHashEntry: string, redis: RedisServerHandle | undefined): Record<string, string> {
  return {
    PARTNER_TOKENS_SHA256: partnerHashEntry,
    // Functions reading a cached table get these (declarations/function-environment.ts). The command timeout is
    // looser than AWS's 50 ms: here the whole stack (and often a test suite) shares two cores, where a
    // thread starved for a few hundred ms is scheduling, not a slow Redis.
    ...(redis ? { CACHE_BACKEND: 'redis', REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '1000' } : {}),
  };
}

/**
 * Execution environments a function may have at once locally, unless its
 * declaration reserves a concurrency: one per CPU core (at least 2). On AWS
 * each environment has CPU of its own; here they are threads sharing this
 * machine's cores, and past one per core they only take turns: measured on 2
 * cores, product(id) at 32 connections cost the server 830-1,120 µs of CPU per
 * request with 10 environments per function and 410-650 µs with 2 (each
 * environment's isolate also warms its JIT and heap on its own share of the
 * load). Invocations past the cap wait, fairly, in the function's queue.
 */
export const LOCAL_ENVIRONMENTS_PER_FUNCTION = Math.max(2, availableParallelism());

/** Creates each bundle's LocalFunction (environments start on first invoke) and registers its close. */
export function startLocalFunctions(options: LocalFunctionsOptions, cleanups: Cleanups): LocalFunctions {
  const environments = {} as Record<FunctionName, Record<string, string>>;
  const localFunctions = new Map<FunctionName, LocalFunction>();
  for (const bundle of options.bundles) {
    const declaration = functions[bundle.name];
    environments[bundle.name] = {
      ...functionEnvironment(bundle.name, declaration, options.tables, options.parameterValues),
      ...options.clientEnvironment,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      // The functions stand in for the nodejs22.x runtime; the host's own Node version is
      // reported once by the server process, not again by every execution environment.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const fn = new LocalFunction({
      name: bundle.name,
      bundlePath: bundle.file,
      environment: environments[bundle.name],
      memoryMb: declaration.memoryMb,
      timeoutSeconds: declaration.timeoutSeconds,
      maxConcurrency:
        options.maxConcurrency ??
        ('reservedConcurrency' in declaration ? Number(declaration.reservedConcurrency) : LOCAL_ENVIRONMENTS_PER_FUNCTION),
      log: (line) => options.log(`[${bundle.name}] ${line}`),
    });
    localFunctions.set(bundle.name, fn);
    cleanups.add(() => fn.close());
  }
  return { functions: localFunctions, environments };
}

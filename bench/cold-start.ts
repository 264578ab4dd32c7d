import type { FunctionBundle } from '../build/bundle.js';
import { LocalFunction, type InvokeResult } from '../local/lambda/function-runtime.js';
import type { LocalStack } from '../local/runtime.js';
import { functions } from '../declarations/functions.js';
import { summarize } from './load.js';
import type { Probe } from './probes.js';

/**
 * Cold start and warm duration of one function, measured on private
 * `LocalFunction` instances rather than the stack's own: the stack's
 * environments are already warm after the load scenarios, and a fresh
 * instance per sample is the only way to get a real init (worker spawn +
 * bundle import + module-level init such as the DynamoDB client) every time.
 * The instances get exactly the environment the runtime gives its functions,
 * so the bundle initializes against the same tables.
 */

export interface FunctionMeasurement {
  readonly name: string;
  /** What the probe exercises: Type.field, or AWS_LAMBDA for the authorizer. */
  readonly field: string;
  readonly bundleBytes: number;
  readonly memoryMb: number;
  readonly coldStart: {
    readonly runs: number;
    /** `report.initDurationMs` of each run's first invocation. */
    readonly initMs: number[];
    readonly initMedianMs: number;
    /** Handler duration of the cold invocation itself (init excluded, as in Lambda's REPORT). */
    readonly firstDurationMedianMs: number;
  };
  readonly warm: {
    readonly invocations: number;
    /** Warm invocations run and discarded before measuring (JIT, connection pool). */
    readonly discarded: number;
    readonly durationMedianMs: number;
    readonly durationP95Ms: number;
    readonly durationMaxMs: number;
    readonly maxMemoryUsedMb: number;
  };
}

export interface ColdStartOptions {
  readonly coldRuns: number;
  readonly warmInvocations: number;
  readonly warmDiscarded: number;
}

function newInstance(stack: LocalStack, bundle: FunctionBundle): LocalFunction {
  const declaration = functions[bundle.name];
  return new LocalFunction({
    name: bundle.name,
    bundlePath: bundle.file,
    environment: stack.functionEnvironments[bundle.name],
    memoryMb: declaration.memoryMb,
    timeoutSeconds: declaration.timeoutSeconds,
    // One environment: every invocation after the first must reuse it (warm).
    maxConcurrency: 1,
    log: () => undefined,
  });
}

/** Fails loudly unless the invocation succeeded with the payload the probe expects. */
function assertResult(name: string, result: InvokeResult, check: Probe['check']): void {
  if (!result.ok) throw new Error(`${name}: function error ${result.error.errorType}: ${result.error.errorMessage}`);
  const problem = check(result.payload);
  if (problem) throw new Error(`${name}: unexpected response: ${problem}`);
}

const median = (values: readonly number[]): number => summarize(values).p50;

export async function measureFunction(
  stack: LocalStack,
  bundle: FunctionBundle,
  probe: Probe,
  options: ColdStartOptions,
): Promise<FunctionMeasurement> {
  const initMs: number[] = [];
  const firstDurations: number[] = [];
  const warmDurations: number[] = [];
  let maxMemoryUsedMb = 0;

  for (let run = 0; run < options.coldRuns; run++) {
    const fn = newInstance(stack, bundle);
    try {
      const first = await fn.invoke(probe.event);
      assertResult(bundle.name, first, probe.check);
      if (!first.report.coldStart || first.report.initDurationMs === undefined) {
        throw new Error(`${bundle.name}: first invocation of a fresh instance was not reported as a cold start`);
      }
      initMs.push(first.report.initDurationMs);
      firstDurations.push(first.report.durationMs);

      // Warm durations come from the last cold-start instance, which is
      // already initialized, so no extra cold start is paid for them.
      if (run === options.coldRuns - 1) {
        for (let i = 0; i < options.warmDiscarded + options.warmInvocations; i++) {
          const result = await fn.invoke(probe.event);
          assertResult(bundle.name, result, probe.check);
          if (result.report.coldStart) throw new Error(`${bundle.name}: warm invocation ${i} hit a cold start`);
          if (i >= options.warmDiscarded) warmDurations.push(result.report.durationMs);
          maxMemoryUsedMb = Math.max(maxMemoryUsedMb, result.report.maxMemoryUsedMb);
        }
        if (fn.stats().coldStarts !== 1)
          throw new Error(`${bundle.name}: expected one environment, saw ${fn.stats().coldStarts} cold starts`);
      }
    } finally {
      await fn.close();
    }
  }

  const warm = summarize(warmDurations);
  return {
    name: bundle.name,
    field: probe.target,
    bundleBytes: bundle.bytes,
    memoryMb: functions[bundle.name].memoryMb,
    coldStart: {
      runs: initMs.length,
      initMs,
      initMedianMs: median(initMs),
      firstDurationMedianMs: median(firstDurations),
    },
    warm: {
      invocations: warmDurations.length,
      discarded: options.warmDiscarded,
      durationMedianMs: warm.p50,
      durationP95Ms: warm.p95,
      durationMaxMs: warm.max,
      maxMemoryUsedMb,
    },
  };
}

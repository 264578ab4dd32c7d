/**
 * What invoking a function returns, the one result type of local/: Lambda's
 * payload, or its function error, and, when a local execution environment ran
 * it, the figures of its REPORT line. `LocalFunction.invoke` always sets
 * `report`; callers that stand in for a function (tests, adapters) may leave it
 * out. A stream delivery's result is this with its request id.
 */
export type InvokeResult =
  | { readonly ok: true; readonly payload: unknown; readonly report?: InvocationReport }
  | { readonly ok: false; readonly error: FunctionError; readonly report?: InvocationReport };

/** Lambda's function error document (the RIC calls the stack field `trace`). */
export interface FunctionError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stack?: string[];
}

/** The figures of Lambda's REPORT line for one invocation. */
export interface InvocationReport {
  readonly requestId: string;
  readonly durationMs: number;
  readonly billedDurationMs: number;
  /** Only on the cold start, i.e. the invocation that created the environment. */
  readonly initDurationMs?: number;
  readonly memorySizeMb: number;
  readonly maxMemoryUsedMb: number;
  readonly coldStart: boolean;
}

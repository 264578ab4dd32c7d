/**
 * What invoking a function returns, the one result type of local/: Lambda's
 * payload, or its function error. A LocalFunction's answer (with its REPORT
 * figures) and a stream delivery's (with its request id) are this and more.
 */
export type InvokeResult =
  | { readonly ok: true; readonly payload: unknown }
  | { readonly ok: false; readonly error: { readonly errorType: string; readonly errorMessage: string } };

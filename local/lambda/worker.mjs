// @ts-check
/**
 * One Lambda execution environment: the runtime half that, on AWS, is the
 * Node.js runtime interface client. It runs inside a worker thread started by
 * `function-runtime.ts`, imports the function bundle once (the init phase) and
 * then serves one invocation at a time.
 *
 * Plain JavaScript on purpose: a worker thread does not inherit the TypeScript
 * loader of `tsx` or vitest, and the bundles it imports are plain ESM anyway.
 *
 * Error shapes and handler semantics follow aws-lambda-nodejs-runtime-interface-client
 * (Errors.js, UserFunction.js, Runtime.js) so that what the local runtime sees
 * is what AppSync would see from a deployed function.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { types } from 'node:util';
import { performance } from 'node:perf_hooks';
import { extractMetricLines } from './metric-lines.mjs';

/**
 * @typedef {{ errorType: string, errorMessage: string, stack?: string[] }} FunctionError
 * @typedef {{
 *   bundlePath: string,
 *   handlerExport: string,
 *   handlerName: string,
 *   functionName: string,
 *   memoryMb: number,
 *   invokedFunctionArn: string,
 *   logGroupName: string,
 *   logStreamName: string,
 * }} EnvironmentData
 * @typedef {{ keys: string[], shared: string, items: string }} BatchTransfer
 * @typedef {{ type: 'invoke', requestId: string, deadlineMs: number, json?: string, batch?: BatchTransfer }} InvokeMessage
 */

const port = parentPort;
if (!port) throw new Error('worker.mjs must run in a worker thread');

/** @type {EnvironmentData} */
const data = workerData;

/** @type {string | null} */
let currentRequestId = null;

// Lambda reports the sandbox's peak RSS. A worker shares the server's RSS, so
// the closest per-environment figure is this isolate's heap plus its
// off-heap buffers; it under-reports Lambda by roughly the runtime's own
// baseline (~50-70 MB on AWS). Peak over the environment's lifetime, as the
// cgroup high-water mark Lambda reads is.
let peakBytes = 0;
/** @param {import('node:v8').HeapInfo} [heap] one reading, when the caller has taken it already */
function sampleMemory(heap = getHeapStatistics()) {
  const bytes = heap.used_heap_size + heap.external_memory;
  if (bytes > peakBytes) peakBytes = bytes;
  return peakBytes;
}

/**
 * This isolate's heap right now, for the runtime's memory figures (stats(),
 * /health): each environment is a V8 isolate of its own, invisible to the
 * server's process.memoryUsage().heapUsed yet part of its RSS.
 * @param {import('node:v8').HeapInfo} heap
 */
function heapFigures(heap) {
  return { usedHeapBytes: heap.used_heap_size, totalHeapBytes: heap.total_heap_size, externalBytes: heap.external_memory };
}

/** Runtime error classes carry the `Runtime.` prefix in their name, as in the RIC. */
class RuntimeError extends Error {
  /** @param {string} name @param {string} message */
  constructor(name, message) {
    super(message);
    this.name = `Runtime.${name}`;
  }
}

/** @param {unknown} value @returns {value is Error} */
function isErrorLike(value) {
  if (types.isNativeError(value)) return true;
  const v = /** @type {any} */ (value);
  return Boolean(v) && typeof v.name === 'string' && typeof v.message === 'string' && typeof v.stack === 'string';
}

/**
 * The RIC's `toRapidResponse`: errors keep their name and message; anything
 * else thrown becomes `{ errorType: typeof value, errorMessage: String(value) }`.
 * @param {unknown} error
 * @returns {FunctionError}
 */
function toFunctionError(error) {
  try {
    if (isErrorLike(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        stack: typeof error.stack === 'string' ? error.stack.split('\n') : [],
      };
    }
    return { errorType: typeof error, errorMessage: String(error), stack: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

// EMF lines on stdout become metrics that travel with each result (./metric-lines.mjs).
const takeMetrics = extractMetricLines(process.stdout, {
  invoking: () => currentRequestId !== null,
  report: (metrics) => port.postMessage({ type: 'metrics', metrics }),
});

// The RIC reports an uncaught exception or unhandled rejection as the
// invocation's (or init's) error and then exits the runtime process. Here the
// parent owns the exit: it terminates this worker as soon as it reads `fatal`,
// which also guarantees the message is not lost to a racing thread exit.
process.on('uncaughtException', (error) => {
  port.postMessage({ type: 'fatal', requestId: currentRequestId, error: toFunctionError(error), metrics: takeMetrics() });
});
process.on('unhandledRejection', (reason) => {
  const error = new RuntimeError('UnhandledPromiseRejection', String(reason));
  port.postMessage({ type: 'fatal', requestId: currentRequestId, error: toFunctionError(error), metrics: takeMetrics() });
});

/** @param {unknown} error */
function classifyImportError(error) {
  if (error instanceof SyntaxError) return new RuntimeError('UserCodeSyntaxError', String(error));
  const code = /** @type {{ code?: unknown } | null} */ (error)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return new RuntimeError('ImportModuleError', String(error));
  }
  return error;
}

/** @returns {Promise<Function>} */
async function loadHandler() {
  /** @type {Record<string, unknown>} */
  let mod;
  try {
    mod = await import(pathToFileURL(data.bundlePath).href);
  } catch (error) {
    throw classifyImportError(error);
  }
  /** @type {unknown} */
  const handler = data.handlerExport.split('.').reduce((/** @type {any} */ object, key) => (object == null ? undefined : object[key]), mod);
  if (!handler) throw new RuntimeError('HandlerNotFound', `${data.handlerName} is undefined or not exported`);
  if (typeof handler !== 'function') throw new RuntimeError('HandlerNotFound', `${data.handlerName} is not a function`);
  return handler;
}

/**
 * Async handlers settle with their promise; callback handlers with the first
 * call of callback/succeed/fail/done. A synchronous handler that neither
 * returns a promise nor takes a callback answers `null` on Lambda (its return
 * value is ignored once the event loop drains); a worker's event loop never
 * drains, so that answer is given immediately. For the same reason
 * `callbackWaitsForEmptyEventLoop` cannot be honoured: the callback's value is
 * returned as soon as it is called.
 * @param {Function} handler @param {unknown} event @param {Record<string, unknown>} context
 * @returns {Promise<unknown>}
 */
function callHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    /** @param {unknown} value */
    const succeed = (value) => {
      if (!settled) {
        settled = true;
        resolve(value);
      }
    };
    /** @param {unknown} error */
    const fail = (error) => {
      if (!settled) {
        settled = true;
        reject(error === undefined || error === null ? 'handled' : error);
      }
    };
    /** @param {unknown} error @param {unknown} value */
    const callback = (error, value) => (error !== undefined && error !== null ? fail(error) : succeed(value));
    Object.assign(context, { succeed, fail, done: callback });
    try {
      const returned = handler(event, context, callback);
      if (returned && typeof returned.then === 'function') returned.then(succeed, fail);
      else if (handler.length < 3) succeed(null);
    } catch (error) {
      fail(error);
    }
  });
}

/**
 * The event as the handler receives it, from what event-transfer.ts encoded:
 * one JSON text, or a batch whose shared members are parsed once and then
 * copied for every event, so that each event owns its objects exactly as if
 * the whole array had been parsed from JSON (copying parsed JSON is about
 * three times cheaper than parsing its text again).
 * @param {InvokeMessage} message
 * @returns {unknown}
 */
function decodeEvent(message) {
  if (message.batch === undefined) return JSON.parse(/** @type {string} */ (message.json));
  const { keys, shared, items } = message.batch;
  /** @type {Record<string, unknown>} */
  const members = JSON.parse(shared);
  return JSON.parse(items).map((/** @type {Record<string, unknown>} */ own, /** @type {number} */ index) => {
    /** @type {Record<string, unknown>} */
    const event = {};
    for (const key of keys) {
      // A member JSON dropped (undefined, a function) stays absent. The first event takes the parsed originals.
      if (Object.hasOwn(own, key)) event[key] = own[key];
      else if (Object.hasOwn(members, key)) event[key] = index === 0 ? members[key] : copyJson(members[key]);
    }
    return event;
  });
}

/**
 * A deep copy of a value JSON.parse produced (plain objects, arrays,
 * primitives), with the same members in the same order.
 * @param {unknown} value
 * @returns {unknown}
 */
function copyJson(value) {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson);
  /** @type {Record<string, unknown>} */
  const copy = {};
  for (const key of Object.keys(value)) {
    const member = copyJson(/** @type {Record<string, unknown>} */ (value)[key]);
    // JSON.parse makes "__proto__" an ordinary member; assignment would set the prototype instead.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: member, writable: true, enumerable: true, configurable: true });
    else copy[key] = member;
  }
  return copy;
}

/** @param {InvokeMessage} message */
async function invoke(message) {
  currentRequestId = message.requestId;
  const started = performance.now();
  const sampler = setInterval(sampleMemory, 25);
  sampler.unref();
  /** @type {{ ok: true, payload: string } | { ok: false, error: FunctionError }} */
  let outcome;
  try {
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: data.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: data.invokedFunctionArn,
      memoryLimitInMB: String(data.memoryMb),
      awsRequestId: message.requestId,
      logGroupName: data.logGroupName,
      logStreamName: data.logStreamName,
      getRemainingTimeInMillis: () => message.deadlineMs - Date.now(),
    };
    const result = await callHandler(await handlerPromise, decodeEvent(message), context);
    let payload;
    try {
      // JSON.stringify answers undefined (not a string) for undefined, functions and symbols.
      payload = JSON.stringify(result === undefined ? null : result) ?? 'null';
    } catch {
      throw new Error('Unable to stringify response body');
    }
    outcome = { ok: true, payload };
  } catch (error) {
    outcome = { ok: false, error: toFunctionError(error) };
  } finally {
    clearInterval(sampler);
  }
  const durationMs = performance.now() - started;
  currentRequestId = null;
  const heap = getHeapStatistics();
  port.postMessage({
    type: 'result',
    requestId: message.requestId,
    durationMs,
    maxMemoryBytes: sampleMemory(heap),
    heap: heapFigures(heap),
    metrics: takeMetrics(),
    ...outcome,
  });
}

const handlerPromise = loadHandler();
try {
  await handlerPromise;
  const heap = getHeapStatistics();
  port.postMessage({ type: 'ready', maxMemoryBytes: sampleMemory(heap), heap: heapFigures(heap) });
} catch (error) {
  port.postMessage({ type: 'initError', error: toFunctionError(error), maxMemoryBytes: sampleMemory() });
}

port.on('message', (/** @type {InvokeMessage} */ message) => {
  if (message.type === 'invoke') void invoke(message);
});

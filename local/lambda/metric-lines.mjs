// @ts-check
/**
 * CloudWatch Logs' part for Embedded Metric Format, inside an execution
 * environment (worker.mjs): lines on stdout that are EMF documents
 * (lib/metrics.ts writes one per invocation) become metrics instead of log
 * lines, as CloudWatch extracts them. They are summed here and travel to the
 * runtime with the invocation's result (or on their own when printed outside
 * an invocation), instead of as stdout text the server thread would have to
 * read and parse; every other line goes on to stdout unchanged. A line may
 * arrive in several writes, so the start of a line that may be an EMF document
 * is held until its newline.
 */
import { Buffer } from 'node:buffer';

/** @typedef {{ sums: Record<string, number>, lines: number }} MetricReports */

const EMF_PREFIX = '{"_aws"';
/** CloudWatch Logs takes events up to 256 KB: a longer line is not held back. */
const MAX_HELD_CHARS = 256 * 1024;

/**
 * The metric values of an EMF line (as parseEmfLine in lib/metrics.ts reads
 * them), or undefined for any other line.
 * @param {string} line
 * @returns {Record<string, number> | undefined}
 */
function emfValues(line) {
  /** @type {any} */
  let document;
  try {
    document = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof document !== 'object' || document === null) return undefined;
  /** @type {Record<string, number>} */
  const values = {};
  for (const directive of document._aws?.CloudWatchMetrics ?? []) {
    for (const { Name } of directive.Metrics) {
      const value = document[Name];
      if (typeof value === 'number') values[Name] = value;
    }
  }
  return values;
}

/**
 * Takes the EMF lines out of everything written to `stream` from now on.
 * Returns the function that takes the metrics recorded since its last call
 * (undefined when none); metrics recorded while `invoking()` is false are
 * handed to `report` at once, since no result would carry them.
 * @param {NodeJS.WriteStream} stream
 * @param {{ invoking: () => boolean, report: (metrics: MetricReports) => void }} options
 * @returns {() => MetricReports | undefined}
 */
export function extractMetricLines(stream, { invoking, report }) {
  /** @type {MetricReports} */
  let pending = { sums: {}, lines: 0 };
  let heldLine = '';
  /** An ordinary line has been passed through up to here, without its newline yet. */
  let midLine = false;
  const bufferDecoder = new TextDecoder();

  const take = () => {
    if (pending.lines === 0) return undefined;
    const taken = pending;
    pending = { sums: {}, lines: 0 };
    return taken;
  };

  /** @param {string} line without its newline @returns {boolean} whether it was an EMF document */
  const record = (line) => {
    const values = emfValues(line);
    if (!values) return false;
    pending.lines += 1;
    for (const [name, value] of Object.entries(values)) pending.sums[name] = (pending.sums[name] ?? 0) + value;
    if (!invoking()) report(/** @type {MetricReports} */ (take()));
    return true;
  };

  /** What of `text` goes on to the stream. @param {string} text */
  const withoutMetricLines = (text) => {
    let out = '';
    let start = 0;
    while (start < text.length) {
      const newline = text.indexOf('\n', start);
      const end = newline === -1 ? text.length : newline + 1;
      const segment = text.slice(start, end);
      start = end;
      if (midLine) {
        out += segment;
        midLine = newline === -1;
        continue;
      }
      const line = heldLine + segment;
      heldLine = '';
      if (newline !== -1) {
        if (!(line.startsWith(EMF_PREFIX) && record(line.slice(0, -1)))) out += line;
      } else if (line.length <= MAX_HELD_CHARS && (line.startsWith(EMF_PREFIX) || EMF_PREFIX.startsWith(line))) {
        heldLine = line;
      } else {
        out += line;
        midLine = true;
      }
    }
    return out;
  };

  const write = stream.write.bind(stream);
  /** @type {any} */ (stream).write = (/** @type {any} */ chunk, /** @type {any} */ encoding, /** @type {any} */ callback) => {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    let text;
    if (typeof chunk !== 'string') text = bufferDecoder.decode(chunk, { stream: true });
    else if (encoding && !/^utf-?8$/i.test(encoding)) text = Buffer.from(chunk, encoding).toString('utf8');
    else text = chunk;
    const out = withoutMetricLines(text);
    if (out) return write(out, callback);
    if (typeof callback === 'function') process.nextTick(callback);
    return true;
  };
  return take;
}

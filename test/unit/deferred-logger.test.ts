import { afterEach, describe, expect, it, vi } from 'vitest';
import { deferredLogger, knownThreshold, logsWritten } from '../../lib/logger.js';

/**
 * Captures what Powertools' Logger writes (its own Console over process.stdout, and process.stderr for WARN
 * and ERROR), in order; `lines(service)` parses the JSON lines of one service.
 */
function captureOutput() {
  const chunks: string[] = [];
  const capture = (chunk: unknown): boolean => {
    chunks.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    written: () => chunks.length > 0,
    lines: (service: string) =>
      chunks
        .flatMap((text) => text.split('\n'))
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.service === service),
  };
}

describe('knownThreshold: the level a Powertools Logger starts with, from the environment', () => {
  it('is INFO by default, and the named level otherwise (POWERTOOLS_LOG_LEVEL over LOG_LEVEL)', () => {
    expect(knownThreshold({})).toBe(12);
    expect(knownThreshold({ POWERTOOLS_LOG_LEVEL: 'WARN' })).toBe(16);
    expect(knownThreshold({ LOG_LEVEL: 'ERROR' })).toBe(20);
    expect(knownThreshold({ POWERTOOLS_LOG_LEVEL: 'DEBUG', LOG_LEVEL: 'ERROR' })).toBe(8);
    expect(knownThreshold({ POWERTOOLS_LOG_LEVEL: '', LOG_LEVEL: 'SILENT' })).toBe(28);
  });

  it("takes Lambda's advanced logging controls level over both (FATAL is CRITICAL)", () => {
    expect(knownThreshold({ AWS_LAMBDA_LOG_LEVEL: 'ERROR', POWERTOOLS_LOG_LEVEL: 'DEBUG' })).toBe(20);
    expect(knownThreshold({ AWS_LAMBDA_LOG_LEVEL: 'FATAL' })).toBe(24);
  });

  it('is unknown when only the Logger can tell: debug sampling, a value it would not accept', () => {
    expect(knownThreshold({ POWERTOOLS_LOGGER_SAMPLE_RATE: '0.1' })).toBeUndefined();
    expect(knownThreshold({ POWERTOOLS_LOG_LEVEL: 'warn' })).toBeUndefined();
    expect(knownThreshold({ POWERTOOLS_LOG_LEVEL: 'toString' })).toBeUndefined();
    expect(knownThreshold({ AWS_LAMBDA_LOG_LEVEL: 'LOUD' })).toBeUndefined();
  });
});

describe('deferredLogger', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('drops a line below the level in force without loading the Logger', () => {
    const output = captureOutput();
    const logger = deferredLogger({ serviceName: 'test' }, { POWERTOOLS_LOG_LEVEL: 'WARN' });
    logger.debug('not written');
    logger.info('not written either');
    expect(logsWritten()).toBeUndefined();
    expect(output.written()).toBe(false);
  });

  it("writes the other lines through Powertools' Logger, in the order they were logged, once logsWritten() resolves", async () => {
    const output = captureOutput();
    const logger = deferredLogger({ serviceName: 'deferred-test', logLevel: 'INFO' }, { POWERTOOLS_LOG_LEVEL: 'INFO' });
    logger.warn('first', { n: 1 });
    logger.debug('below INFO: dropped');
    logger.error('second', { n: 2 });
    const writing = logsWritten();
    expect(writing).toBeInstanceOf(Promise);
    await writing;
    logger.info('third, straight to the Logger now');
    const lines = output.lines('deferred-test');
    expect(lines.map((line) => [line.level, line.message])).toEqual([
      ['WARN', 'first'],
      ['ERROR', 'second'],
      ['INFO', 'third, straight to the Logger now'],
    ]);
    expect(lines[0]).toMatchObject({ n: 1 });
    expect(logsWritten()).toBeUndefined();
  });

  it('lets the Logger decide every line when the level cannot be known from the environment', async () => {
    const output = captureOutput();
    // A level the Logger does not accept: it keeps INFO, so DEBUG is dropped by the Logger, INFO written.
    const logger = deferredLogger({ serviceName: 'unknown-level-test' }, { POWERTOOLS_LOG_LEVEL: 'verbose' });
    logger.debug('dropped by the Logger');
    logger.info('written');
    await logsWritten();
    const lines = output.lines('unknown-level-test');
    expect(lines.map((line) => line.message)).toEqual(['written']);
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  deliverBatch,
  judge,
  retryDelayMs,
  type DeliveryPolicy,
  type DeliveryStats,
  type InvocationResult,
} from '../../local/streams/batch-delivery.js';
import { DeadLetterStore, type DeadLetter } from '../../local/streams/dead-letters.js';
import { compareSequenceNumbers, lambdaRecordFor, toLambdaRecord } from '../../local/streams/lambda-event.js';

const STREAM_ARN = 'arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/2026-01-01T00:00:00.000';

const record = (n: number): DynamoDBRecord =>
  lambdaRecordFor({
    streamArn: STREAM_ARN,
    eventName: 'INSERT',
    keys: { id: `r${n}` },
    newImage: { id: `r${n}`, n },
    sequenceNumber: String(n).padStart(21, '0'),
  });
const records = (...ns: number[]): DynamoDBRecord[] => ns.map(record);
const seq = (n: number): string => String(n).padStart(21, '0');
const numbersOf = (event: DynamoDBStreamEvent): number[] => event.Records.map((r) => Number(r.dynamodb?.SequenceNumber));

const policy: DeliveryPolicy = {
  maximumRetryAttempts: 2,
  bisectBatchOnFunctionError: true,
  reportBatchItemFailures: true,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 1000,
};

/** A fake stream function: `respond` decides each invocation's outcome from the batch it gets. */
function harness(respond: (numbers: number[]) => InvocationResult | 'ok') {
  const invocations: number[][] = [];
  const sleeps: number[] = [];
  const deadLetters: DeadLetter[] = [];
  const stats: DeliveryStats = { invocations: 0, retries: 0, bisections: 0, deadLetters: 0 };
  const target = {
    functionName: 'stream',
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:stream',
    streamArn: STREAM_ARN,
    shardId: 'shardId-1',
    invoke: async (event: DynamoDBStreamEvent): Promise<InvocationResult> => {
      const numbers = numbersOf(event);
      invocations.push(numbers);
      const outcome = respond(numbers);
      return outcome === 'ok' ? { ok: true, requestId: `req-${invocations.length}`, payload: { batchItemFailures: [] } } : outcome;
    },
    deadLetter: (entry: DeadLetter) => deadLetters.push(entry),
    sleep: async (ms: number) => void sleeps.push(ms),
    log: () => undefined,
  };
  return { invocations, sleeps, deadLetters, stats, target };
}

const failing = (...ns: number[]): InvocationResult => ({
  ok: true,
  requestId: 'partial',
  payload: { batchItemFailures: ns.map((n) => ({ itemIdentifier: seq(n) })) },
});
const functionError: InvocationResult = { ok: false, requestId: 'boom', error: { errorType: 'Error', errorMessage: 'poison' } };

describe('judging a stream function response (ReportBatchItemFailures)', () => {
  const batch = records(1, 2, 3);
  it.each([null, {}, { batchItemFailures: null }, { batchItemFailures: [] }, 'done'])('treats %j as complete success', (payload) => {
    expect(judge({ ok: true, requestId: 'r', payload }, batch, true)).toEqual({ kind: 'success' });
  });
  it('checkpoints at the lowest reported sequence number', () => {
    expect(judge(failing(3, 2), batch, true)).toEqual({ kind: 'partial', from: 1 });
  });
  it.each([[{ itemIdentifier: '' }], [{ itemIdentifier: null }], [{ sequenceNumber: seq(2) }], [{ itemIdentifier: seq(9) }]])(
    'fails the whole batch for a malformed or unknown item %j',
    (failure) => {
      expect(judge({ ok: true, requestId: 'r', payload: { batchItemFailures: [failure] } }, batch, true)).toMatchObject({
        kind: 'failure',
        functionError: false,
      });
    },
  );
  it('ignores batchItemFailures unless the mapping declares ReportBatchItemFailures', () => {
    expect(judge(failing(2), batch, false)).toEqual({ kind: 'success' });
  });
  it('counts a function error as a failure of the whole batch', () => {
    expect(judge(functionError, batch, true)).toMatchObject({ kind: 'failure', functionError: true });
  });
});

describe('delivering a batch like Lambda', () => {
  const signal = new AbortController().signal;

  it('invokes once when the batch succeeds', async () => {
    const h = harness(() => 'ok');
    await deliverBatch(records(1, 2, 3), policy, h.target, signal, h.stats);
    expect(h.invocations).toEqual([[1, 2, 3]]);
    expect(h.stats).toEqual({ invocations: 1, retries: 0, bisections: 0, deadLetters: 0 });
  });

  it('retries from the first reported failure, redelivering the records after it', async () => {
    let calls = 0;
    const h = harness(() => (++calls === 1 ? failing(3, 5) : 'ok'));
    await deliverBatch(records(1, 2, 3, 4, 5), policy, h.target, signal, h.stats);
    expect(h.invocations).toEqual([
      [1, 2, 3, 4, 5],
      [3, 4, 5],
    ]);
    expect(h.sleeps).toEqual([100]);
    expect(h.deadLetters).toEqual([]);
  });

  it("dead-letters the records from a persistently failing one on, with AWS's on-failure message", async () => {
    const h = harness((numbers) => (numbers.includes(2) ? failing(2) : 'ok'));
    await deliverBatch(records(1, 2, 3), policy, h.target, signal, h.stats);
    // Partial failures are not function errors: no bisection, retries from the checkpoint.
    expect(h.invocations).toEqual([
      [1, 2, 3],
      [2, 3],
      [2, 3],
    ]);
    expect(h.sleeps).toEqual([100, 200]);
    expect(h.deadLetters).toHaveLength(1);
    const [letter] = h.deadLetters;
    expect(letter?.records.map((r) => r.dynamodb?.SequenceNumber)).toEqual([seq(2), seq(3)]);
    expect(letter?.message).toEqual({
      requestContext: {
        requestId: 'partial',
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:stream',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      DDBStreamBatchInfo: {
        shardId: 'shardId-1',
        startSequenceNumber: seq(2),
        endSequenceNumber: seq(3),
        approximateArrivalOfFirstRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        approximateArrivalOfLastRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        batchSize: 2,
        streamArn: STREAM_ARN,
      },
    });
  });

  it('bisects on function errors until the poison record is alone, and delivers the rest', async () => {
    const h = harness((numbers) => (numbers.includes(3) ? functionError : 'ok'));
    await deliverBatch(records(1, 2, 3, 4, 5), policy, h.target, signal, h.stats);
    expect(h.invocations).toEqual([
      [1, 2, 3, 4, 5], // error: halves of 3 and 2
      [1, 2, 3], // error: halves of 2 and 1
      [1, 2],
      [3],
      [3], // retry 1
      [3], // retry 2, then dead-lettered
      [4, 5],
    ]);
    expect(h.stats).toMatchObject({ bisections: 2, retries: 2, deadLetters: 1 });
    expect(h.deadLetters.map((l) => l.message.DDBStreamBatchInfo)).toMatchObject([
      { startSequenceNumber: seq(3), endSequenceNumber: seq(3), batchSize: 1 },
    ]);
    expect(h.deadLetters[0]?.message.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
  });

  it('without bisection retries the whole batch, then dead-letters all of it', async () => {
    const h = harness(() => functionError);
    await deliverBatch(records(1, 2), { ...policy, bisectBatchOnFunctionError: false }, h.target, signal, h.stats);
    expect(h.invocations).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    expect(h.deadLetters.map((l) => l.message.DDBStreamBatchInfo.batchSize)).toEqual([2]);
  });

  it('gives up after the first failure with maximumRetryAttempts 0', async () => {
    const h = harness(() => failing(1));
    await deliverBatch(records(1), { ...policy, maximumRetryAttempts: 0 }, h.target, signal, h.stats);
    expect(h.invocations).toEqual([[1]]);
    expect(h.deadLetters).toHaveLength(1);
  });

  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((retry) => retryDelayMs(policy, retry))).toEqual([100, 200, 400, 800, 1000]);
  });

  it('stops retrying once the mapping stops', async () => {
    const controller = new AbortController();
    const h = harness(() => {
      controller.abort();
      return functionError;
    });
    await deliverBatch(records(1, 2), { ...policy, maximumRetryAttempts: -1 }, h.target, controller.signal, h.stats);
    expect(h.invocations).toEqual([[1, 2]]);
    expect(h.deadLetters).toEqual([]);
  });

  it('treats a failed Invoke call (no function ran) like a function error', async () => {
    let calls = 0;
    const h = harness(() => 'ok');
    const invoke = h.target.invoke;
    h.target.invoke = async (event) => {
      if (++calls === 1) throw new Error('connection reset');
      return invoke(event);
    };
    await deliverBatch(records(1), policy, h.target, signal, h.stats);
    expect(h.stats).toMatchObject({ invocations: 2, retries: 1, deadLetters: 0 });
  });
});

describe('stream records as Lambda delivers them', () => {
  it('keeps the record fields, encodes binary as base64 and the creation time as epoch seconds', () => {
    const converted = toLambdaRecord(
      {
        eventID: 'e1',
        eventName: 'MODIFY',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'ddblocal',
        dynamodb: {
          ApproximateCreationDateTime: new Date('2026-01-02T03:04:05.000Z'),
          Keys: { id: { S: 'p1' } },
          NewImage: {
            id: { S: 'p1' },
            blob: { B: new Uint8Array([1, 2, 3]) },
            tags: { L: [{ N: '1' }, { NULL: true }, { M: { b: { BS: [new Uint8Array([255])] } } }] },
          },
          OldImage: { id: { S: 'p1' } },
          SequenceNumber: '000000000000000000042',
          SizeBytes: 40,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      },
      STREAM_ARN,
      'us-east-1',
    );
    expect(converted).toEqual({
      eventID: 'e1',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'ddblocal',
      eventSourceARN: STREAM_ARN,
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2026-01-02T03:04:05Z') / 1000,
        Keys: { id: { S: 'p1' } },
        NewImage: { id: { S: 'p1' }, blob: { B: 'AQID' }, tags: { L: [{ N: '1' }, { NULL: true }, { M: { b: { BS: ['/w=='] } } }] } },
        OldImage: { id: { S: 'p1' } },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 40,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
  });

  it('compares sequence numbers numerically, whatever their length', () => {
    expect(['900', '000000000000000001000', '99'].sort(compareSequenceNumbers)).toEqual(['99', '900', '000000000000000001000']);
  });
});

describe('dead-letter store', () => {
  it('keeps entries in memory and appends them as JSON lines per function', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dlq-'));
    try {
      const store = new DeadLetterStore(join(dir, 'dlq'));
      const h = harness(() => failing(1));
      await deliverBatch(
        records(1),
        { ...policy, maximumRetryAttempts: 0 },
        { ...h.target, deadLetter: (entry) => store.add(entry) },
        new AbortController().signal,
        h.stats,
      );
      await store.flush();
      expect(store.list()).toHaveLength(1);
      const lines = (await readFile(join(dir, 'dlq', 'stream.jsonl'), 'utf8')).trim().split('\n');
      expect(lines.map((line) => JSON.parse(line) as DeadLetter)).toEqual(store.list());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { DescribeStreamCommand, type DynamoDBStreamsClient, type Shard } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamEventSource } from '../../declarations/functions.js';
import type { InvocationResult } from './batch-delivery.js';
import type { DeadLetterStore } from './dead-letters.js';
import { readShard, type ShardStats } from './shard-reader.js';

/**
 * A local stand-in for one Lambda event source mapping on a DynamoDB stream:
 * it discovers the stream's shards (DescribeStream, again whenever a shard
 * ends and every few seconds, to follow shard splits), reads each shard in
 * order, a child only once its parent is finished, and hands batches to the
 * function (see `batch-delivery.ts` for retries and dead letters).
 */

export interface EventSourceMappingOptions {
  readonly functionName: string;
  readonly functionArn: string;
  readonly table: string;
  readonly streamArn: string;
  readonly source: StreamEventSource;
  readonly client: DynamoDBStreamsClient;
  readonly invoke: (event: DynamoDBStreamEvent) => Promise<InvocationResult>;
  readonly deadLetters: DeadLetterStore;
  readonly region: string;
  readonly pollIntervalMs?: number;
  readonly shardDiscoveryIntervalMs?: number;
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
  readonly log?: (line: string) => void;
}

export interface EventSourceMappingStats {
  readonly functionName: string;
  readonly table: string;
  readonly streamArn: string;
  readonly shards: number;
  readonly recordsRead: number;
  readonly batches: number;
  readonly invocations: number;
  readonly retries: number;
  readonly bisections: number;
  readonly deadLetters: number;
  /** Per shard, the last sequence number handed over (processed or dead-lettered). */
  readonly checkpoints: Readonly<Record<string, string>>;
  readonly state: 'running' | 'stopped';
  /** Calls failing right now (DescribeStream, or a shard's GetRecords), since when and why: the mapping's health. */
  readonly failing: ReadonlyArray<{ readonly source: string; readonly since: string; readonly error: string }>;
}

export const DEFAULT_POLL_INTERVAL_MS = 250;
const DEFAULT_DISCOVERY_INTERVAL_MS = 5_000;
/** Lambda's backoff between stream retries is not documented; these keep a poison record's hold on its shard short. */
const DEFAULT_RETRY_BASE_DELAY_MS = 200;
const DEFAULT_RETRY_MAX_DELAY_MS = 5_000;

type ShardState = 'waiting' | 'reading' | 'done';

export class EventSourceMapping {
  private readonly controller = new AbortController();
  private readonly shards = new Map<string, { shard: Shard; state: ShardState }>();
  private readonly readers = new Set<Promise<void>>();
  private readonly stats: ShardStats = {
    recordsRead: 0,
    batches: 0,
    invocations: 0,
    retries: 0,
    bisections: 0,
    deadLetters: 0,
    checkpoints: new Map(),
  };
  private discovery: Promise<void> | undefined;
  private wakeDiscovery: (() => void) | undefined;
  /** A shard ended while a discovery round was running: run another at once. */
  private rediscover = false;
  private firstDiscovery = true;
  private readonly log: (line: string) => void;
  /** What is failing now, by source ('DescribeStream' or a shard id); cleared by its next success. */
  private readonly failing = new Map<string, { since: Date; error: string }>();

  constructor(private readonly options: EventSourceMappingOptions) {
    const prefix = `[esm ${options.functionName} ← ${options.table}]`;
    const log = options.log ?? (() => undefined);
    this.log = (line) => log(`${prefix} ${line}`);
  }

  start(): void {
    this.discovery ??= this.discoverLoop();
  }

  /** Stops polling at once; a batch in flight is abandoned (its records are read again after a restart). */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.discovery;
    await Promise.all([...this.readers]);
  }

  snapshot(): EventSourceMappingStats {
    const { checkpoints, ...counters } = this.stats;
    return {
      functionName: this.options.functionName,
      table: this.options.table,
      streamArn: this.options.streamArn,
      shards: this.shards.size,
      ...counters,
      checkpoints: Object.fromEntries(checkpoints),
      state: this.controller.signal.aborted ? 'stopped' : 'running',
      failing: [...this.failing].map(([source, { since, error }]) => ({ source, since: since.toISOString(), error })),
    };
  }

  private async discoverLoop(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        await this.discover(signal);
        this.outcome('DescribeStream', undefined);
      } catch (error) {
        if (signal.aborted) return;
        this.outcome('DescribeStream', error);
        this.log(`DescribeStream failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (signal.aborted) return;
      if (this.rediscover) {
        this.rediscover = false;
        continue;
      }
      // Until the next round, or earlier when a shard ends (its children may be waiting) or on stop.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.wakeDiscovery = undefined;
          resolve();
        };
        const timer = setTimeout(done, this.options.shardDiscoveryIntervalMs ?? DEFAULT_DISCOVERY_INTERVAL_MS);
        signal.addEventListener('abort', done, { once: true });
        this.wakeDiscovery = done;
      });
    }
  }

  private async discover(signal: AbortSignal): Promise<void> {
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.options.client.send(
        new DescribeStreamCommand({
          StreamArn: this.options.streamArn,
          ...(exclusiveStartShardId ? { ExclusiveStartShardId: exclusiveStartShardId } : {}),
        }),
        { abortSignal: signal },
      );
      for (const shard of StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || this.shards.has(shard.ShardId)) continue;
        // LATEST means "from now on": shards already closed when the mapping starts hold only the past.
        const skip =
          this.firstDiscovery &&
          this.options.source.startingPosition === 'LATEST' &&
          shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
        this.shards.set(shard.ShardId, { shard, state: skip ? 'done' : 'waiting' });
      }
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId && !signal.aborted);
    const initial = this.firstDiscovery;
    this.firstDiscovery = false;
    for (const [shardId, entry] of this.shards) {
      if (entry.state !== 'waiting' || !this.parentFinished(entry.shard)) continue;
      entry.state = 'reading';
      // Only shards open at the mapping's start begin at LATEST; children of split shards are read from their start.
      const start = initial ? this.options.source.startingPosition : 'TRIM_HORIZON';
      this.read(shardId, start, signal);
    }
  }

  private outcome(source: string, error: unknown): void {
    if (error === undefined) {
      this.failing.delete(source);
      return;
    }
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.failing.set(source, { since: this.failing.get(source)?.since ?? new Date(), error: message });
  }

  /** A child shard waits for its parent, so records of one item keep their order across a split. */
  private parentFinished(shard: Shard): boolean {
    const parent = shard.ParentShardId ? this.shards.get(shard.ParentShardId) : undefined;
    // A parent missing from the description has been trimmed away: nothing left to wait for.
    return parent === undefined || parent.state === 'done';
  }

  private read(shardId: string, start: 'TRIM_HORIZON' | 'LATEST', signal: AbortSignal): void {
    const { source, functionName } = this.options;
    const reader = readShard(
      {
        client: this.options.client,
        streamArn: this.options.streamArn,
        shardId,
        start,
        batchSize: source.batchSize,
        maximumBatchingWindowMs: source.maximumBatchingWindowInSeconds * 1000,
        pollIntervalMs: this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
        region: this.options.region,
        policy: {
          maximumRetryAttempts: source.maximumRetryAttempts,
          bisectBatchOnFunctionError: source.bisectBatchOnFunctionError,
          reportBatchItemFailures: source.functionResponseTypes.includes('ReportBatchItemFailures'),
          retryBaseDelayMs: this.options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS,
          retryMaxDelayMs: this.options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS,
        },
        target: {
          functionName,
          functionArn: this.options.functionArn,
          streamArn: this.options.streamArn,
          shardId,
          invoke: (event) => abortable(this.options.invoke(event), signal),
          deadLetter: (entry) => {
            // Without a destination Lambda drops the batch; the mapping only logs it.
            if (source.deadLetter) this.options.deadLetters.add(entry);
          },
          sleep,
          log: this.log,
        },
        stats: this.stats,
        onReadOutcome: (error) => this.outcome(shardId, error),
      },
      signal,
    ).then(
      () => {
        const entry = this.shards.get(shardId);
        if (entry && !signal.aborted) {
          entry.state = 'done';
          this.failing.delete(shardId);
          this.log(`${shardId} finished`);
          if (this.wakeDiscovery) this.wakeDiscovery();
          else this.rediscover = true;
        }
      },
      (error: unknown) => {
        this.outcome(shardId, error);
        this.log(`${shardId} stopped: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
    this.readers.add(reader);
    void reader.finally(() => this.readers.delete(reader));
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Stops waiting for an invocation when the mapping stops: the function may
 * run until its timeout, and stop() should not. The invocation itself is
 * ended by closing the function; its late rejection is swallowed here.
 */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(new Error('event source mapping stopped'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('event source mapping stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * What the local stack does when one of its processes dies (README "Local
 * faults"), and the dependency states `/health` reports.
 *
 * - DynamoDB Local: every request needs it, so it is restarted on the same port
 *   (functions and stream mappings were configured with it). Persisted
 *   (`--persist`), its data survives. In memory, its data is gone: that is said
 *   loudly (console.error and /health), the declared tables are recreated so
 *   the API works again, and the cache is emptied, since it would serve items
 *   the database no longer has. Either way the stream mappings start over:
 *   their shard iterators (in memory: their streams) died with the process.
 *   If it cannot be restarted (crash loop, port taken), `onFatal` decides:
 *   `npm run dev` exits with the reason, rather than serve errors.
 * - redis-server: restarted empty on the same port; meanwhile readers go to
 *   DynamoDB and the stream function holds its records. If it cannot be
 *   restarted the API still works uncached: said loudly, not fatal.
 */
import type { DynamoDBLocalHandle } from '../dynamodb/dynamodb-local.js';
import type { RedisServerHandle } from '../redis/redis-server.js';
import { describeExit, type ChildHealth } from './loopback-child.js';

export type DependencyStatus = 'up' | 'restarting' | 'recovering' | 'down' | 'disabled';

export interface Notice {
  readonly at: string;
  readonly dependency: 'dynamodb' | 'redis';
  readonly message: string;
}

export interface RecoveryOptions {
  readonly dynamodb: DynamoDBLocalHandle;
  readonly redis: RedisServerHandle | undefined;
  /** Creates the declared tables again (DynamoDB Local restarted empty). */
  readonly recreateTables: () => Promise<void>;
  /** Empties the cache (DynamoDB Local restarted empty). */
  readonly flushCache: () => Promise<void>;
  /** Stops the stream mappings and starts new ones on the restarted DynamoDB Local. */
  readonly restartStreams: () => Promise<void>;
  /** After tables were recreated empty, e.g. to seed them again. */
  readonly afterDataLoss?: () => Promise<void>;
  /** Loud lines: a death, lost data, a failed recovery. */
  readonly alert: (line: string) => void;
  /** Quieter lines: back up. */
  readonly inform: (line: string) => void;
  /** DynamoDB Local is down for good; without it, the stack only reports 503. */
  readonly onFatal?: (error: Error) => void;
}

/** Notices kept for /health; the oldest go first. */
const MAX_NOTICES = 50;

export class StackRecovery {
  readonly #options: RecoveryOptions;
  readonly #notices: Notice[] = [];
  readonly #dataLoss: Notice[] = [];
  readonly #unsubscribe: Array<() => void> = [];
  #recovering: Promise<void> | undefined;
  #fatal: Error | undefined;
  #disposed = false;

  constructor(options: RecoveryOptions) {
    this.#options = options;
    const { dynamodb, redis } = options;
    this.#unsubscribe.push(
      dynamodb.on('crash', ({ exit, restarting }) =>
        this.#alert(
          'dynamodb',
          `DynamoDB Local died (${describeExit(exit)}): every API request fails until it is back.` +
            (restarting ? ` Restarting it on port ${dynamodb.port}...` : ''),
        ),
      ),
      dynamodb.on('restarted', ({ downMs }) => {
        this.#recovering = this.#recoverDynamoDB(downMs).finally(() => (this.#recovering = undefined));
      }),
      dynamodb.on('failed', (error) => this.#die(new Error(`DynamoDB Local cannot be restarted: ${error.message}`, { cause: error }))),
    );
    if (redis) {
      this.#unsubscribe.push(
        redis.on('crash', ({ exit, restarting }) =>
          this.#alert(
            'redis',
            `redis-server died (${describeExit(exit)}): reads go to DynamoDB meanwhile.` +
              (restarting ? ` Restarting it, empty, on port ${redis.port}...` : ''),
          ),
        ),
        redis.on('restarted', ({ downMs }) =>
          this.#options.inform(`redis-server is back after ${downMs} ms, empty: the cache refills as products are read.`),
        ),
        redis.on('failed', (error) =>
          this.#alert(
            'redis',
            `redis-server cannot be restarted: ${error.message} The API keeps answering from DynamoDB, uncached; restart the stack to get the cache back.`,
          ),
        ),
      );
    }
  }

  /** Resolves once no recovery is in progress. */
  async settled(): Promise<void> {
    await this.#recovering;
  }

  /** Stops reacting to deaths (the stack is stopping: its processes exit on purpose). */
  dispose(): void {
    this.#disposed = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }

  notices(): readonly Notice[] {
    return [...this.#notices];
  }

  dynamodbStatus(): { status: DependencyStatus; persisted: boolean; process: ChildHealth; dataLoss: readonly Notice[]; error?: string } {
    const process = this.#options.dynamodb.health();
    const status: DependencyStatus = this.#fatal
      ? 'down'
      : this.#recovering && process.state === 'running'
        ? 'recovering'
        : childStatus(process);
    return {
      status,
      persisted: this.#options.dynamodb.persistDir !== undefined,
      process,
      dataLoss: [...this.#dataLoss],
      ...(this.#fatal ? { error: this.#fatal.message } : {}),
    };
  }

  redisStatus(): { status: DependencyStatus; process?: ChildHealth } {
    const redis = this.#options.redis;
    if (!redis) return { status: 'disabled' };
    const process = redis.health();
    return { status: childStatus(process), process };
  }

  /** True while tables or stream mappings are being rebuilt after a restart. */
  recovering(): boolean {
    return this.#recovering !== undefined;
  }

  async #recoverDynamoDB(downMs: number): Promise<void> {
    const { dynamodb } = this.#options;
    try {
      if (dynamodb.persistDir === undefined) {
        const lost = this.#alert(
          'dynamodb',
          'DynamoDB Local ran in memory: every table and item it held is LOST. Recreating the declared tables (empty) and emptying the cache; ' +
            'use --persist DIR to keep data across such a restart.',
        );
        this.#dataLoss.push(lost);
        await this.#options.recreateTables();
        await this.#options.flushCache();
        await this.#options.afterDataLoss?.();
      }
      await this.#options.restartStreams();
      if (this.#disposed) return;
      this.#options.inform(
        `DynamoDB Local is back on port ${dynamodb.port} after ${downMs} ms` +
          (dynamodb.persistDir === undefined
            ? ', with the declared tables recreated empty.'
            : `, with its data (persisted in ${dynamodb.persistDir}).`),
      );
    } catch (error) {
      if (this.#disposed) return;
      this.#die(
        new Error(`DynamoDB Local restarted, but the stack could not recover: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        }),
      );
    }
  }

  #alert(dependency: Notice['dependency'], message: string): Notice {
    const notice = { at: new Date().toISOString(), dependency, message };
    if (this.#disposed) return notice;
    this.#notices.push(notice);
    if (this.#notices.length > MAX_NOTICES) this.#notices.shift();
    this.#options.alert(message);
    return notice;
  }

  #die(error: Error): void {
    if (this.#disposed) return;
    this.#fatal = error;
    this.#alert('dynamodb', error.message);
    this.#options.onFatal?.(error);
  }
}

export function childStatus(health: ChildHealth): DependencyStatus {
  switch (health.state) {
    case 'running':
      return 'up';
    case 'starting':
    case 'restarting':
      return 'restarting';
    default:
      return 'down';
  }
}

/**
 * The stack's DynamoDB stream event source mappings, as one object that can start over: after DynamoDB
 * Local restarted, the old mappings' shard iterators (in memory: their streams) are gone, so recovery
 * replaces them with new ones on the new streams. Once stopped, it never starts again.
 */
import { startStreamMappings, type StreamMappings, type StreamMappingsOptions } from '../streams/start.js';
import type { EventSourceMappingStats } from '../streams/event-source-mapping.js';

export class RestartableStreamMappings {
  readonly #options: StreamMappingsOptions;
  #current: StreamMappings;
  #stopping = false;

  private constructor(options: StreamMappingsOptions, current: StreamMappings) {
    this.#options = options;
    this.#current = current;
  }

  static async start(options: StreamMappingsOptions): Promise<RestartableStreamMappings> {
    return new RestartableStreamMappings(options, await startStreamMappings(options));
  }

  /** True from the first stop() on: the stack is shutting down. */
  get stopping(): boolean {
    return this.#stopping;
  }

  stats(): EventSourceMappingStats[] {
    return this.#current.stats();
  }

  /** Stops the running mappings and starts new ones; does nothing once the stack is stopping. */
  async restart(): Promise<void> {
    if (this.#stopping) return;
    await this.#current.stop();
    if (this.#stopping) return;
    this.#current = await startStreamMappings(this.#options);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#current.stop();
  }
}

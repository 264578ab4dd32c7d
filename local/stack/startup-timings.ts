/**
 * When each step of a stack's start-up finished, in ms after the start: what a slow `npm run dev` is
 * waiting for (steps that run at the same time overlap, so the figures are finish times, not durations).
 */
export class StartupTimings {
  readonly #startedAt = performance.now();
  readonly #finished = new Map<string, number>();

  mark(step: string): void {
    this.#finished.set(step, Math.round(performance.now() - this.#startedAt));
  }

  /** Marks `step` when `work` succeeds; a failure is the caller's to handle. */
  markWhenDone(step: string, work: Promise<unknown>): void {
    work.then(
      () => this.mark(step),
      () => undefined,
    );
  }

  /** Steps in the order they finished, e.g. `bundles 420 ms, dynamodb 2,310 ms, …`. */
  toString(): string {
    return [...this.#finished]
      .sort(([, a], [, b]) => a - b)
      .map(([step, ms]) => `${step} ${ms.toLocaleString('en-US')} ms`)
      .join(', ');
  }

  entries(): ReadonlyArray<readonly [step: string, ms: number]> {
    return [...this.#finished];
  }
}

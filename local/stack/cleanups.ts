/**
 * The teardown of a stack being assembled: each part registers how to stop it as soon as it is up, and
 * `run()` stops them newest first, so nothing is stopped while something started after it still uses it
 * (the HTTP server before the functions, the functions before DynamoDB Local).
 */
export class Cleanups {
  readonly #steps: Array<() => Promise<void>> = [];
  #running: Promise<void> | undefined;

  add(step: () => Promise<void>): void {
    this.#steps.push(step);
  }

  /**
   * Runs every registered step once, newest first; a failing step is reported and the rest still run.
   * A call while a run is in progress waits for that run: either way, it resolves once all is stopped.
   */
  run(): Promise<void> {
    this.#running ??= this.#runSteps().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #runSteps(): Promise<void> {
    const steps = this.#steps.splice(0).reverse();
    for (const step of steps) await step().catch((error: unknown) => console.error(error));
  }
}

/**
 * What keeps one test file from leaking into the next while a worker runs its files in one module graph
 * (`isolate: false` in vitest.config.ts: each file re-importing graphql, the AWS SDK and CDKTF cost about a
 * second of a worker's time, a third of the run).
 *
 * Run by vitest before every file (`setupFiles`). When the file is done:
 * - `process.env` is put back as it was before the file. A file that changed it may also have loaded modules
 *   that read the changed values at load (a resolver's module-level init, as on Lambda), so the registry is
 *   reset as well, and the next file imports its own instances;
 * - every spy is restored (`vi.restoreAllMocks`), whether or not the file did it.
 */
import { afterAll, beforeAll, vi } from 'vitest';

let before: Record<string, string | undefined> = {};

/** The names whose value differs between two environments, sorted. */
export function changedVariables(
  from: Readonly<Record<string, string | undefined>>,
  to: Readonly<Record<string, string | undefined>>,
): string[] {
  const names = new Set([...Object.keys(from), ...Object.keys(to)]);
  return [...names].filter((name) => from[name] !== to[name]).sort();
}

/** Makes `process.env` hold exactly `snapshot` again. */
export function restoreEnvironment(snapshot: Readonly<Record<string, string | undefined>>): void {
  for (const name of Object.keys(process.env)) if (!(name in snapshot)) delete process.env[name];
  for (const [name, value] of Object.entries(snapshot)) if (value !== undefined) process.env[name] = value;
}

beforeAll(() => {
  before = { ...process.env };
});

afterAll(() => {
  vi.restoreAllMocks();
  if (changedVariables(before, process.env).length === 0) return;
  restoreEnvironment(before);
  vi.resetModules();
});

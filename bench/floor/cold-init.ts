import { execFile } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median, ratioOf } from '../goals.js';

/**
 * Cold init of each function against the floor handler (bench/floor/handler.ts),
 * each import in a fresh `node` process (bench/floor/import-probe.mjs) on
 * the Node.js running the bench (`process.execPath`: Node 22 under npm, as
 * Lambda's nodejs22.x). Per round and function, the floor and the function
 * run back to back, the order flipping every round, so drift on the shared
 * machine falls on both; reported are the medians and init ÷ floor.
 * The processes get the function's environment and nothing else of ours
 * (no NODE_OPTIONS: the same conditions for both sides).
 */

export interface ColdInitSubject {
  readonly name: string;
  readonly file: string;
  readonly environment: Readonly<Record<string, string>>;
}

export interface ColdInitResult {
  readonly name: string;
  readonly initMs: number[];
  readonly initMedianMs: number;
  /** The floor's imports paired with this function's. */
  readonly floorMs: number[];
  readonly floorMedianMs: number;
  /** initMedianMs ÷ floorMedianMs. */
  readonly ratio: number | null;
}

export interface ColdInitReport {
  readonly rounds: number;
  readonly nodeVersion: string;
  readonly floorFile: string;
  readonly results: ColdInitResult[];
}

/**
 * A bundle's files (entry, chunks, source maps) copied into `directory`, so that its cold init can be measured
 * after the stack that built it stopped and removed its own copy. Returns the copied entry.
 */
export async function copyBundle(bundle: { readonly file: string; readonly files: readonly string[] }, directory: string): Promise<string> {
  const from = dirname(bundle.file);
  for (const file of bundle.files) {
    await mkdir(dirname(join(directory, file)), { recursive: true });
    await copyFile(join(from, file), join(directory, file));
  }
  return join(directory, bundle.file.slice(from.length + 1));
}

const PROBE = fileURLToPath(new URL('./import-probe.mjs', import.meta.url));
const run = promisify(execFile);

/** The few variables a process needs to exist, plus the function's own. */
function processEnvironment(environment: Readonly<Record<string, string>>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) base[key] = value;
  }
  return { ...base, ...environment };
}

export function parseProbeOutput(stdout: string): { initMs: number; nodeVersion: string } {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`import probe printed no JSON: ${stdout.slice(0, 200)}`);
  }
  const { initMs, nodeVersion } = (parsed ?? {}) as { initMs?: unknown; nodeVersion?: unknown };
  if (typeof initMs !== 'number' || !(initMs > 0) || typeof nodeVersion !== 'string') {
    throw new Error(`import probe printed ${line.slice(0, 200)}`);
  }
  return { initMs, nodeVersion };
}

async function importOnce(subject: ColdInitSubject): Promise<{ initMs: number; nodeVersion: string }> {
  try {
    const { stdout } = await run(process.execPath, [PROBE, subject.file], {
      env: processEnvironment(subject.environment),
      timeout: 60_000,
      maxBuffer: 1024 * 1024,
    });
    return parseProbeOutput(stdout);
  } catch (error) {
    throw new Error(`${subject.name}: cold import of ${subject.file} failed: ${(error as Error).message}`);
  }
}

export async function measureColdInit(
  floor: ColdInitSubject,
  subjects: readonly ColdInitSubject[],
  rounds: number,
): Promise<ColdInitReport> {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
  const samples = new Map(subjects.map((subject) => [subject.name, { init: [] as number[], floor: [] as number[] }]));
  let nodeVersion = '';
  for (let round = 0; round < rounds; round++) {
    for (const subject of subjects) {
      const pair = round % 2 === 0 ? [floor, subject] : [subject, floor];
      for (const side of pair) {
        const result = await importOnce(side);
        nodeVersion = result.nodeVersion;
        const entry = samples.get(subject.name)!;
        (side === floor ? entry.floor : entry.init).push(result.initMs);
      }
    }
  }
  return {
    rounds,
    nodeVersion,
    floorFile: floor.file,
    results: subjects.map((subject) => {
      const { init, floor: floorMs } = samples.get(subject.name)!;
      const initMedianMs = median(init);
      const floorMedianMs = median(floorMs);
      return { name: subject.name, initMs: init, initMedianMs, floorMs, floorMedianMs, ratio: ratioOf(initMedianMs, floorMedianMs) };
    }),
  };
}

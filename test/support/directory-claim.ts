/**
 * One process at a time in a directory that outlives it: the test runs' function bundles
 * (support/global-setup.ts) are kept between runs, and two runs at once must not rebuild into the same files.
 *
 * A claim is a `.claim` directory inside it (mkdir is atomic) holding the claimant's pid. A claim whose
 * process is gone (a run that was killed) is taken over, and so is one that never got its pid written
 * (killed between the two steps) once it is older than a claim takes to write.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../../local/process/process-alive.js';

const UNWRITTEN_CLAIM_STALE_MS = 60_000;

/** Claims `directory` (creating it) for this process; the function that gives it back, or undefined while another live process holds it. */
export function claimDirectory(directory: string, pid = process.pid): (() => void) | undefined {
  mkdirSync(directory, { recursive: true });
  const claim = join(directory, '.claim');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(claim);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readClaimant(claim), 10);
      if (Number.isInteger(holder) ? processAlive(holder) : !unwrittenLongAgo(claim)) return undefined;
      rmSync(claim, { recursive: true, force: true });
      continue;
    }
    writeFileSync(join(claim, 'pid'), String(pid));
    return () => rmSync(claim, { recursive: true, force: true });
  }
  return undefined;
}

function readClaimant(claim: string): string {
  try {
    return readFileSync(join(claim, 'pid'), 'utf8');
  } catch {
    return '';
  }
}

/** A claim without a pid that is too old to be still being written. */
function unwrittenLongAgo(claim: string): boolean {
  try {
    return Date.now() - statSync(claim).mtimeMs > UNWRITTEN_CLAIM_STALE_MS;
  } catch {
    return true;
  }
}

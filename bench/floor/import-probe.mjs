// @ts-check
/**
 * One cold init, in the fresh process this file runs in: the time to import
 * a bundle (its module-level code included), as Lambda's Init Duration counts
 * it for an ESM handler. Prints one JSON line; exits at once, so a client the
 * bundle opened cannot keep the process alive.
 *   node import-probe.mjs <bundle.mjs>
 * Plain JavaScript, so no TypeScript loader is part of what is measured.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
if (!file) {
  console.error('usage: node import-probe.mjs <bundle.mjs>');
  process.exit(2);
}
const started = performance.now();
const module = await import(pathToFileURL(file).href);
const initMs = performance.now() - started;
if (typeof module.handler !== 'function') {
  console.error(`${file} exports no handler`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ initMs, nodeVersion: process.version })}\n`);
process.exit(0);

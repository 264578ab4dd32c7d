// @ts-check
/**
 * `npm test`: the type check and the vitest suites at the same time, after
 * codegen (which both need). Run one after the other, the suites waited for
 * a full `tsc` they do not depend on; side by side on a 2-core machine, tsc
 * mostly fills time the suites spend waiting on DynamoDB Local and the
 * browser. Arguments go to vitest (`npm test -- test/unit`). The type
 * check's report is printed once, after the suites', so the two never
 * interleave; the exit code is the first failure's (tsc's when both fail).
 *
 * Plain JavaScript so that starting it costs no TypeScript loader.
 */
import { spawn } from 'node:child_process';

/** @param {string} command @param {string[]} args @param {import('node:child_process').StdioOptions} stdio */
function run(command, args, stdio) {
  const child = spawn(command, args, { stdio, shell: false });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (text) => (output += text));
  child.stderr?.setEncoding('utf8').on('data', (text) => (output += text));
  return new Promise((resolve) => {
    child.on('error', (error) => resolve({ code: 1, output: `${command}: ${error.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

/** @param {string} name */
const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;

const typecheck = run(
  bin('tsc'),
  ['-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', 'node_modules/.cache/tsc/typecheck.tsbuildinfo'],
  ['ignore', 'pipe', 'pipe'],
);
const suites = run(bin('vitest'), ['run', ...process.argv.slice(2)], 'inherit');

const [types, tests] = await Promise.all([typecheck, suites]);
if (types.code === 0) {
  console.log('Type check (tsc): no errors');
} else {
  process.stdout.write(types.output);
  console.log(`Type check (tsc) failed with exit code ${types.code}`);
}
process.exitCode = types.code !== 0 ? types.code : tests.code;

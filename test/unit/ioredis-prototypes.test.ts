/**
 * build/ioredis-prototypes.ts: ioredis's command prototype is put in dictionary mode before its ~600 methods
 * are added. Checked on the ioredis this repository pins, and in a bundle built with the functions' options,
 * through V8's own view of the object (`%HasFastProperties`). What it saves is measured by hand, not here
 * (timings belong in the benchmark).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withDictionaryModePrototype } from '../../build/ioredis-prototypes.js';
import { bundleProbe } from '../support/bundle-probe.js';

const commanderFile = createRequire(import.meta.url).resolve('ioredis/built/utils/Commander.js');
const scratch = mkdtempSync(join(tmpdir(), 'ioredis-prototypes-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `import 'ioredis'` bundled with the functions' options, with or without their plugins: the code, and what loads from it. */
async function bundledIoredis(withPlugins: boolean): Promise<{ code: string; commands: number; get: string }> {
  const { code, printed } = await bundleProbe<{ commands: number; get: string }>({
    scratch,
    withPlugins,
    cacheBackend: 'redis',
    source: [
      "import * as ioredis from 'ioredis';",
      'const { Redis } = typeof ioredis.Redis === "function" ? ioredis : ioredis.default;',
      'const names = Object.getOwnPropertyNames(Object.getPrototypeOf(Redis.prototype));',
      'console.log(JSON.stringify({ commands: names.filter((name) => name.endsWith("Buffer")).length, get: typeof Redis.prototype.get }));',
    ].join('\n'),
  });
  return { code, ...printed };
}

/**
 * Runs Commander.js's `source` as its module, with ioredis's own modules around it, and asks V8 whether the
 * prototype is in fast mode right after the methods were added (before anything uses it as a prototype,
 * which would make it fast again).
 */
function prototypeIsFastAfterLoading(source: string): boolean {
  const sourceFile = join(scratch, `commander-${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(sourceFile, source);
  const script = [
    "const { readFileSync } = require('node:fs');",
    "const { createRequire } = require('node:module');",
    `const moduleRequire = createRequire(${JSON.stringify(commanderFile)});`,
    'const module = { exports: {} };',
    `new Function('exports', 'require', 'module', readFileSync(${JSON.stringify(sourceFile)}, 'utf8'))(module.exports, moduleRequire, module);`,
    "const fast = new Function('object', 'return %HasFastProperties(object)')(module.exports.default.prototype);",
    'console.log(JSON.stringify(fast));',
  ].join('\n');
  return JSON.parse(execFileSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8' }).trim()) as boolean;
}

describe('ioredis command prototype', () => {
  it('finds the loop it fixes exactly once in the pinned ioredis, and only adds before it', () => {
    const source = readFileSync(commanderFile, 'utf8');
    const fixed = withDictionaryModePrototype(source)!;
    expect(fixed).toBeDefined();
    const at = source.indexOf('commands.forEach(function (commandName) {');
    const rest = source.length - at;
    expect(fixed.slice(0, at)).toBe(source.slice(0, at));
    expect(fixed.slice(-rest)).toBe(source.slice(at));
    expect(fixed.slice(at, -rest)).toMatch(
      /^\/\/ .*\n(Commander\.prototype\.__dictionaryMode[01] = 0;\n){2}(delete Commander\.prototype\.__dictionaryMode[01];\n){2}$/,
    );
  });

  it('leaves a source without that loop alone', () => {
    expect(withDictionaryModePrototype('class Commander {}\n')).toBeUndefined();
    const loop = 'commands.forEach(function (commandName) {\n    Commander.prototype[commandName] = f;\n});\n';
    expect(withDictionaryModePrototype(loop + loop)).toBeUndefined();
  });

  it('adds the methods to a prototype in dictionary mode, where ioredis as shipped adds them to a fast one', () => {
    const source = readFileSync(commanderFile, 'utf8');
    expect(prototypeIsFastAfterLoading(source)).toBe(true);
    expect(prototypeIsFastAfterLoading(withDictionaryModePrototype(source)!)).toBe(false);
  });

  it('is part of every function bundle, and ioredis loads from it with every command', async () => {
    const [fixed, asShipped] = [await bundledIoredis(true), await bundledIoredis(false)];
    expect(fixed.code).toContain('__dictionaryMode0');
    expect(asShipped.code).not.toContain('__dictionaryMode0');
    expect(fixed.commands).toBe(asShipped.commands);
    expect(fixed.commands).toBeGreaterThan(200);
    expect(fixed.get).toBe('function');
  }, 60_000);
});

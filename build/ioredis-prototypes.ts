/**
 * A build-time fix for the cost of loading ioredis, which a function pays on its first cache use
 * (lib/cache/redis-store.ts imports it then, as a chunk of its own).
 *
 * ioredis's built/utils/Commander.js adds a method per Redis command to `Commander.prototype`, one property
 * at a time: about 600 of them, when the module loads. V8 keeps a class's prototype in fast mode while it is
 * built, and each property added copies its descriptors, so the loop is quadratic: 600 adds to an empty
 * class's prototype took 33–46 ms on this machine (Node 20 and 22 alike), the same adds to a prototype in
 * dictionary mode under 1 ms. The whole ioredis chunk imported in 63–66 ms, and in 24–26 ms with this fix.
 *
 * The fix puts the prototype in dictionary mode before the loop: it adds two properties and deletes the
 * first (a delete that is not the last addition normalizes the object), then the second. Nothing a program
 * can observe changes: the same properties, in the same order, with the same values. V8 makes the prototype
 * fast again once it is used as one (ioredis's Redis, Cluster and Pipeline classes extend it as the package
 * loads), so calls cost what they did (autopipelined GETs: 132–149 thousand a second as shipped, 141–153 with
 * the fix, alternating in one run).
 *
 * The anchor is ioredis's own source line; if an upgrade changes it, the file is left as it is and esbuild
 * warns (test/unit/ioredis-prototypes.test.ts fails too, so the fix is looked at again, not lost quietly).
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/** The loop that defines the command methods, as ioredis 5 and 6 write it. */
const ANCHOR = 'commands.forEach(function (commandName) {\n    Commander.prototype[commandName] =';
const COMMANDER_FILE = /[\\/]node_modules[\\/]ioredis[\\/]built[\\/]utils[\\/]Commander\.js$/;

const DICTIONARY_MODE = [
  '// build/ioredis-prototypes.ts: dictionary mode, so that adding the ~600 command methods is not quadratic.',
  'Commander.prototype.__dictionaryMode0 = 0;',
  'Commander.prototype.__dictionaryMode1 = 0;',
  'delete Commander.prototype.__dictionaryMode0;',
  'delete Commander.prototype.__dictionaryMode1;',
  '',
].join('\n');

/** Commander.js's source with the prototype put in dictionary mode before the loop, or undefined when the anchor is not there once. */
export function withDictionaryModePrototype(source: string): string | undefined {
  const at = source.indexOf(ANCHOR);
  if (at === -1 || source.indexOf(ANCHOR, at + 1) !== -1) return undefined;
  return `${source.slice(0, at)}${DICTIONARY_MODE}${source.slice(at)}`;
}

export function ioredisPrototypePlugin(): Plugin {
  return {
    name: 'ioredis-prototypes',
    setup(build) {
      build.onLoad({ filter: COMMANDER_FILE }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        const fixed = withDictionaryModePrototype(source);
        if (fixed !== undefined) return { contents: fixed, loader: 'js' };
        return {
          contents: source,
          loader: 'js',
          warnings: [
            { text: `${args.path} no longer has the loop build/ioredis-prototypes.ts expects; bundled unchanged (slower to load)` },
          ],
        };
      });
    },
  };
}

import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { deployedResolverCode, lambdaResolverFile } from '../../stacks/appsync/resolver-code.js';

/**
 * Every APPSYNC_JS text the stacks deploy passes @aws-appsync/eslint-plugin's
 * recommended rules (stacks/appsync/eslint.config.mjs), through ESLint's Node
 * API: AppSync itself would reject the code only at deploy time.
 */

const appsyncDir = fileURLToPath(new URL('.', lambdaResolverFile));

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: appsyncDir, overrideConfigFile: `${appsyncDir}eslint.config.mjs` });
});

/** `rule:line message` per finding; a parsing error (no rule) would show as `null:…`. */
async function findings(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  if (!result) throw new Error(`ESLint returned no result for ${filePath}`);
  return result.messages.map((message) => `${message.ruleId}:${message.line} ${message.message}`);
}

describe('APPSYNC_JS lint (@aws-appsync/eslint-plugin, recommended)', () => {
  it('passes for the checked-in file and every deployed variant', { timeout: 120_000 }, async () => {
    const variants = deployedResolverCode();
    expect(variants.map((variant) => variant.operation)).toEqual(['Invoke', 'BatchInvoke']);
    expect(await eslint.lintFiles([fileURLToPath(lambdaResolverFile)]).then((results) => results.flatMap((r) => r.messages))).toEqual([]);
    for (const variant of variants) {
      expect(await findings(variant.code, variant.path), variant.path).toEqual([]);
    }
  });

  it('fails code that uses constructs APPSYNC_JS lacks', { timeout: 120_000 }, async () => {
    const [invoke] = deployedResolverCode();
    const forbidden = [
      'export function tally(items) {',
      '  let total = 0;',
      '  for (let i = 0; i < items.length; i += 1) {',
      '    total += items[i];',
      '  }',
      '  try {',
      '    return total;',
      '  } catch (error) {',
      '    return 0;',
      '  }',
      '}',
    ].join('\n');
    const problems = await findings(`${invoke!.code}\n${forbidden}\n`, invoke!.path.replace(/\.Invoke\.js$/, '.forbidden.js'));
    expect(problems.map((problem) => problem.split(':')[0])).toEqual(['@aws-appsync/no-for', '@aws-appsync/no-try']);
  });
});

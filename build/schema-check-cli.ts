/**
 * `npm run schema:check`: fails (exit 1) on a breaking change to schema/ since
 * the released schema that is not acknowledged (build/schema-check.ts).
 * `--schema <dir>`, `--released <dir>` and `--acknowledged <file>` check other copies.
 */
import { parseArgs } from 'node:util';
import { checkSchemaFiles, formatSchemaCheck } from './schema-check.js';

const { values } = parseArgs({
  options: { schema: { type: 'string' }, released: { type: 'string' }, acknowledged: { type: 'string' } },
});
try {
  const result = await checkSchemaFiles({ schema: values.schema, released: values.released, acknowledgements: values.acknowledged });
  console.log(formatSchemaCheck(result));
  process.exitCode = result.ok ? 0 : 1;
} catch (error) {
  console.error(`schema:check: ${(error as Error).message}`);
  process.exitCode = 1;
}

/**
 * `npm run codegen`: regenerates generated/ from schema/ and operations/ when they (or codegen.yml, or the
 * codegen packages) changed since the last run, and says so; `--force` regenerates regardless.
 */
import { parseArgs } from 'node:util';
import { ensureCodegen } from './codegen.js';

const { values } = parseArgs({ options: { force: { type: 'boolean', default: false }, quiet: { type: 'boolean', default: false } } });
const startedAt = Date.now();
const outcome = await ensureCodegen({ force: values.force });
if (!values.quiet) {
  console.log(
    outcome === 'generated'
      ? `codegen: generated/ regenerated in ${Date.now() - startedAt} ms`
      : 'codegen: generated/ is current (inputs unchanged; --force regenerates)',
  );
}

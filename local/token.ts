/**
 * `npm run token -- --username alice [--group admin] [--access] [--hours 12]`
 * Mints a user-pool token signed by the local dev user pool, the same key
 * `npm run dev` verifies with (kept in .local/, mode 0600).
 *
 * It signs with the key file directly, not through the running stack's
 * POST /dev/token, so it needs no dev secret: whoever can read the key file
 * is the developer already. (A web page can reach 127.0.0.1, hence the secret
 * on the HTTP route; it cannot read files.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repositoryRoot } from '../declarations/paths.js';
import { DevUserPool } from './identity/dev-user-pool.js';

const { values } = parseArgs({
  options: {
    username: { type: 'string' },
    group: { type: 'string', multiple: true, default: [] },
    access: { type: 'boolean', default: false },
    hours: { type: 'string', default: '12' },
  },
});
if (!values.username) {
  console.error('usage: npm run token -- --username NAME [--group GROUP]... [--access] [--hours H]');
  process.exit(2);
}
const keyFile = join(repositoryRoot, '.local', 'dev-user-pool-key.pem');
if (!existsSync(keyFile))
  console.error(`No dev user pool key yet: creating ${keyFile}; npm run dev will verify with it from its next start.`);
const pool = new DevUserPool({ keyFile });
console.log(
  pool.mint({
    username: values.username,
    sub: values.username,
    groups: values.group,
    tokenUse: values.access ? 'access' : 'id',
    expiresInSeconds: Number(values.hours) * 3600,
  }),
);

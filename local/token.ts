/**
 * `npm run token -- --username alice [--group admin] [--access] [--hours 12]`
 * Mints a user-pool token signed by the local dev user pool, the same key
 * `npm run dev` verifies with (kept in .local/).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repositoryRoot } from '../lib/paths.js';
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
const pool = new DevUserPool({ keyFile: join(repositoryRoot, '.local', 'dev-user-pool-key.pem') });
console.log(
  pool.mint({
    username: values.username,
    sub: values.username,
    groups: values.group,
    tokenUse: values.access ? 'access' : 'id',
    expiresInSeconds: Number(values.hours) * 3600,
  }),
);

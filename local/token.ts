/**
 * `npm run token -- --username alice [--group admin] [--access] [--hours 12]`
 * Mints a user-pool token signed by the local dev user pool, the same key
 * `npm run dev` verifies with (kept in .local/, mode 0600).
 *
 * `npm run token -- --oidc --subject jane [--email jane@corp.example] [--group support] [--url http://127.0.0.1:4000]`
 * Mints a staff token of the OPENID_CONNECT mode, signed by the dev OIDC
 * issuer's key file. Its `iss` is the issuer at the running stack's URL
 * (`--url`, the stack's base URL as `npm run dev` prints it; default
 * http://127.0.0.1:$PORT or 4000), so a token minted for another port or
 * scheme is refused. It lives as long as the API accepts one (`iatTtlMs`
 * of declarations/api.ts), unless `--hours` says less.
 *
 * It signs with the key files directly, not through the running stack's
 * POST /dev/token, so it needs no dev secret: whoever can read the key file
 * is the developer already. (A web page can reach 127.0.0.1, hence the secret
 * on the HTTP route; it cannot read files.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { api } from '../declarations/api.js';
import { repositoryRoot } from '../declarations/paths.js';
import { DevOidcIssuer } from './identity/dev-oidc-issuer.js';
import { DevUserPool } from './identity/dev-user-pool.js';

const USAGE = `usage: npm run token -- --username NAME [--group GROUP]... [--access] [--hours H]
       npm run token -- --oidc --subject ID [--email EMAIL] [--name NAME] [--group GROUP]... [--url STACK_URL] [--hours H]`;

const { values } = parseArgs({
  options: {
    username: { type: 'string' },
    group: { type: 'string', multiple: true, default: [] },
    access: { type: 'boolean', default: false },
    hours: { type: 'string' },
    oidc: { type: 'boolean', default: false },
    subject: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? '4000'}` },
  },
});

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const hours = values.hours === undefined ? undefined : Number(values.hours);
if (hours !== undefined && !(Number.isFinite(hours) && hours > 0)) fail(`--hours must be a positive number, not ${values.hours}`);

function keyFile(name: string, what: string): string {
  const file = join(repositoryRoot, '.local', name);
  if (!existsSync(file)) console.error(`No ${what} key yet: creating ${file}; npm run dev will verify with it from its next start.`);
  return file;
}

if (values.oidc) {
  if (!values.subject) fail("--oidc needs --subject (the staff member's id at the identity provider)");
  if (values.username || values.access) fail('--username and --access are for user-pool tokens, not --oidc');
  const oidc = api.openIdConnect;
  const issuer = new DevOidcIssuer({ keyFile: keyFile('dev-oidc-issuer-key.pem', 'dev OIDC issuer') });
  try {
    issuer.publishAt(values.url);
  } catch (error) {
    fail(`--url ${values.url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  // Past iatTtlMs the API refuses the token whatever its exp says: don't mint one that claims longer.
  const maxSeconds = oidc.iatTtlMs / 1000;
  console.log(
    issuer.mint({
      subject: values.subject,
      email: values.email,
      name: values.name,
      groups: values.group,
      expiresInSeconds: Math.min(maxSeconds, hours === undefined ? maxSeconds : Math.round(hours * 3600)),
    }),
  );
} else {
  if (!values.username) fail('--username is required');
  if (values.subject || values.email || values.name) fail('--subject, --email and --name are for --oidc tokens');
  const pool = new DevUserPool({ keyFile: keyFile('dev-user-pool-key.pem', 'dev user pool') });
  console.log(
    pool.mint({
      username: values.username,
      sub: values.username,
      groups: values.group,
      tokenUse: values.access ? 'access' : 'id',
      expiresInSeconds: (hours ?? 12) * 3600,
    }),
  );
}

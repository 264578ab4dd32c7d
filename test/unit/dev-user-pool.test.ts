import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api } from '../../declarations/api.js';
import { RequestAuthenticator } from '../../local/appsync/authentication.js';
import { DevUserPool } from '../../local/identity/dev-user-pool.js';

const keyFile = join(mkdtempSync(join(tmpdir(), 'pool-')), 'key.pem');
afterAll(() => rmSync(dirname(keyFile), { recursive: true, force: true }));
const pool = new DevUserPool({ keyFile });
const authenticator = new RequestAuthenticator({
  api,
  apiKeys: [{ id: 'da2-valid', expires: Math.floor(Date.now() / 1000) + 60 }],
  userPool: pool,
});
const authenticate = (token: string) => authenticator.authenticate({ authorization: token }, '127.0.0.1');

describe('user-pool tokens are verified, never just decoded', () => {
  it('accepts a token from the pool and builds the AppSync Cognito identity', async () => {
    const result = await authenticate(pool.mint({ username: 'alice', sub: 'sub-1', groups: ['admin'], email: 'a@example.com' }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.caller).toEqual({ mode: 'AMAZON_COGNITO_USER_POOLS', groups: ['admin'] });
    expect(result.identity).toMatchObject({
      sub: 'sub-1',
      username: 'alice',
      issuer: pool.issuer,
      groups: ['admin'],
      sourceIp: ['127.0.0.1'],
      defaultAuthStrategy: 'ALLOW',
    });
  });

  it('refuses a forged signature, a wrong issuer, a wrong token_use, a wrong client, and an expired token', async () => {
    const otherKey = new DevUserPool();
    // Same signing key, another pool: only the issuer differs.
    const samePoolKeyOtherIssuer = new DevUserPool({ keyFile, userPoolId: 'us-east-1_Elsewhere' });
    const tokens = {
      forged: otherKey.mint({ username: 'eve' }),
      wrongIssuer: samePoolKeyOtherIssuer.mint({ username: 'eve' }),
      wrongIssuerClaim: pool.mint({
        username: 'eve',
        overrideClaims: { iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other' },
      }),
      refreshTokenUse: pool.mint({ username: 'eve', overrideClaims: { token_use: 'refresh' } }),
      otherClient: pool.mint({ username: 'eve', overrideClaims: { aud: 'someone-elses-client' } }),
      expired: pool.mint({ username: 'eve', expiresInSeconds: -10 }),
      unsigned: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'eve', iss: pool.issuer, token_use: 'id', aud: pool.clientId, exp: 9e9 })).toString('base64url')}.`,
    };
    for (const [name, token] of Object.entries(tokens)) {
      const result = await authenticate(token);
      expect(result.ok, name).toBe(false);
    }
  });

  it('refuses an expired API key and accepts a valid one', async () => {
    const keys = new RequestAuthenticator({
      api,
      apiKeys: [
        { id: 'da2-old', expires: Math.floor(Date.now() / 1000) - 1 },
        { id: 'da2-new', expires: Math.floor(Date.now() / 1000) + 60 },
      ],
    });
    expect((await keys.authenticate({ 'x-api-key': 'da2-old' }, '127.0.0.1')).ok).toBe(false);
    expect((await keys.authenticate({ 'x-api-key': 'da2-new' }, '127.0.0.1')).ok).toBe(true);
  });
});

/**
 * local/appsync/verified-tokens.ts and its use by the authenticator: a JWT is
 * verified once, then served from memory only while every time-bound check
 * (exp; for OIDC the iat/auth_time TTLs) would still pass.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, openIdConnectOf } from '../../declarations/api.js';
import { RequestAuthenticator } from '../../local/appsync/authentication.js';
import { VerifiedTokens } from '../../local/appsync/verified-tokens.js';
import { DevOidcIssuer } from '../../local/identity/dev-oidc-issuer.js';
import { DevUserPool } from '../../local/identity/dev-user-pool.js';

describe('VerifiedTokens', () => {
  it('answers until validUntil (exclusive), then forgets', () => {
    const tokens = new VerifiedTokens<string>();
    tokens.set('t', 'alice', 2_000, 1_000);
    expect(tokens.get('t', 1_999)).toBe('alice');
    expect(tokens.get('t', 2_000)).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it('keeps nothing already past its bound', () => {
    const tokens = new VerifiedTokens<string>();
    tokens.set('t', 'alice', 1_000, 1_000);
    expect(tokens.get('t', 999)).toBeUndefined();
  });

  it('drops the least recently verified past maxEntries', () => {
    const tokens = new VerifiedTokens<number>({ maxEntries: 2 });
    tokens.set('a', 1, 10, 0);
    tokens.set('b', 2, 10, 0);
    tokens.set('a', 1, 10, 0);
    tokens.set('c', 3, 10, 0);
    expect([tokens.get('a', 1), tokens.get('b', 1), tokens.get('c', 1)]).toEqual([1, undefined, 3]);
  });
});

describe('the authenticator with verified tokens', () => {
  afterEach(() => vi.useRealTimers());

  const pool = new DevUserPool();
  const issuer = new DevOidcIssuer().publishAt('http://127.0.0.1:4998');
  const oidc = openIdConnectOf(api)!;
  const authenticator = () => new RequestAuthenticator({ api, apiKeys: [], userPool: pool, oidc: { provider: issuer, declaration: oidc } });

  it('checks a user-pool token’s signature once, and gives each request its own source IP', async () => {
    const verify = vi.spyOn(pool, 'verify');
    const auth = authenticator();
    const token = pool.mint({ username: 'alice', sub: 'alice', groups: ['admin'] });
    const first = await auth.authenticate({ authorization: token }, '10.0.0.1');
    const second = await auth.authenticate({ authorization: `Bearer ${token}` }, '10.0.0.2');
    expect(verify).toHaveBeenCalledTimes(1);
    verify.mockRestore();
    expect(first).toMatchObject({
      ok: true,
      caller: { mode: 'AMAZON_COGNITO_USER_POOLS', groups: ['admin'] },
      identity: { sub: 'alice', sourceIp: ['10.0.0.1'] },
    });
    expect(second).toMatchObject({ ok: true, identity: { sub: 'alice', sourceIp: ['10.0.0.2'] } });
  });

  it('refuses a remembered user-pool token once it has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = authenticator();
    const token = pool.mint({ username: 'bob', expiresInSeconds: 60 });
    expect((await auth.authenticate({ authorization: token }, '127.0.0.1')).ok).toBe(true);
    vi.setSystemTime(Date.now() + 61_000);
    expect(await auth.authenticate({ authorization: token }, '127.0.0.1')).toEqual({ ok: false, message: expect.any(String) });
  });

  it('refuses a remembered OIDC token once iatTTL has passed, though its exp has not', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = authenticator();
    const token = issuer.mint({ subject: 'jane', expiresInSeconds: 24 * 3600 });
    expect(await auth.authenticate({ authorization: token }, '127.0.0.1')).toMatchObject({ ok: true, caller: { mode: 'OPENID_CONNECT' } });
    vi.setSystemTime(Date.now() + oidc.iatTtlMs - 1_000);
    expect((await auth.authenticate({ authorization: token }, '127.0.0.1')).ok).toBe(true);
    vi.setSystemTime(Date.now() + 2_000);
    expect((await auth.authenticate({ authorization: token }, '127.0.0.1')).ok).toBe(false);
  });

  it('does not remember a refusal: a bad token is checked, and refused, every time', async () => {
    const verify = vi.spyOn(pool, 'verify');
    const auth = authenticator();
    const token = pool.mint({ username: 'eve', overrideClaims: { aud: 'someone-else' } });
    for (let i = 0; i < 2; i++) expect((await auth.authenticate({ authorization: token }, '127.0.0.1')).ok).toBe(false);
    expect(verify).toHaveBeenCalledTimes(2);
    verify.mockRestore();
  });
});

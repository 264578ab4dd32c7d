/**
 * The OPENID_CONNECT mode locally: the declaration's checker, the dev OIDC
 * issuer (key, tokens, discovery and JWKS over HTTP), and the authenticator's
 * verification of its tokens the way AppSync does it (aws-jwt-verify's
 * JwtVerifier, then iatTTL and authTTL), including how a JWT is routed when
 * the user-pool mode is there too. The end-to-end side is
 * test/e2e/oidc-auth.e2e.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, OIDC_TTL_MS_RANGE, openIdConnectOf, type ApiDeclaration, type AuthMode } from '../../declarations/api.js';
import { RequestAuthenticator } from '../../local/appsync/authentication.js';
import { DevOidcIssuer, devOidcIssuerUrl } from '../../local/identity/dev-oidc-issuer.js';
import { DevUserPool } from '../../local/identity/dev-user-pool.js';

const keyDir = mkdtempSync(join(tmpdir(), 'oidc-'));
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));
const keyFile = join(keyDir, 'oidc-key.pem');

const STACK_URL = 'http://127.0.0.1:4999';
const issuer = new DevOidcIssuer({ keyFile }).publishAt(STACK_URL);
const pool = new DevUserPool();
const oidc = openIdConnectOf(api);
if (!oidc) throw new Error('declarations/api.ts declares no OIDC mode');

const withModes = (defaultAuthMode: AuthMode, additionalAuthModes: readonly AuthMode[]): ApiDeclaration => ({
  ...api,
  defaultAuthMode,
  additionalAuthModes,
});
const authenticatorFor = (declaration: ApiDeclaration = api) =>
  new RequestAuthenticator({ api: declaration, apiKeys: [], userPool: pool, oidc: { provider: issuer, declaration: oidc } });
const authenticator = authenticatorFor();
const authenticate = (token: string, by = authenticator) => by.authenticate({ authorization: token }, '127.0.0.1');
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('the OIDC declaration (openIdConnectOf)', () => {
  it('holds the shipped TTLs: a token an hour, a sign-in a working day', () => {
    expect(oidc).toEqual({ iatTtlMs: 3_600_000, authTtlMs: 43_200_000 });
  });

  it('is declared exactly when OPENID_CONNECT is a mode', () => {
    const { openIdConnect: _, ...withoutSettings } = api;
    expect(() => openIdConnectOf(withoutSettings)).toThrow(
      /OPENID_CONNECT is an auth mode but declarations\/api\.ts declares no openIdConnect/,
    );
    expect(() => openIdConnectOf({ ...api, additionalAuthModes: ['AWS_IAM'] })).toThrow(
      /openIdConnect is declared but OPENID_CONNECT is not/,
    );
    expect(openIdConnectOf({ ...withoutSettings, additionalAuthModes: ['AWS_IAM'] })).toBeUndefined();
  });

  it('refuses TTLs outside its bounds, fractional ones, and a sign-in shorter than a token', () => {
    const { min, max } = OIDC_TTL_MS_RANGE;
    for (const bad of [{ iatTtlMs: 0 }, { iatTtlMs: min - 1 }, { authTtlMs: max + 1 }, { iatTtlMs: 60_000.5 }]) {
      expect(() => openIdConnectOf({ ...api, openIdConnect: { ...oidc, ...bad } }), JSON.stringify(bad)).toThrow(Object.keys(bad)[0]);
    }
    expect(() => openIdConnectOf({ ...api, openIdConnect: { iatTtlMs: 600_000, authTtlMs: 300_000 } })).toThrow(
      /authTtlMs \(300000\) must be at least iatTtlMs \(600000\)/,
    );
    expect(openIdConnectOf({ ...api, openIdConnect: { iatTtlMs: min, authTtlMs: max } })).toEqual({ iatTtlMs: min, authTtlMs: max });
  });
});

describe('the dev OIDC issuer', () => {
  it('has no address, and mints nothing, until the stack publishes it', () => {
    const unpublished = new DevOidcIssuer();
    expect(unpublished.issuer).toBeUndefined();
    expect(() => unpublished.mint({ subject: 'jane' })).toThrow(/publishAt/);
    unpublished.publishAt('https://127.0.0.1:4000');
    expect(unpublished.issuer).toBe('https://127.0.0.1:4000/oidc');
    expect(() => unpublished.publishAt('https://127.0.0.1:4001')).toThrow(/already published at https:\/\/127\.0\.0\.1:4000\/oidc/);
    expect(() => devOidcIssuerUrl('http://127.0.0.1:4000/graphql')).toThrow(/origin only/);
  });

  it('keeps its key in the key file, so tokens outlive a restart', () => {
    expect(new DevOidcIssuer({ keyFile }).jwks).toEqual(issuer.jwks);
    expect(new DevOidcIssuer().jwks).not.toEqual(issuer.jwks);
  });

  it('mints the standard OIDC claims', () => {
    const token = issuer.mint({ subject: 'jane', email: 'jane@corp.example', name: 'Jane', groups: ['support'] });
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toEqual({ alg: 'RS256', kid: issuer.jwks.keys[0]?.kid, typ: 'JWT' });
    expect(payload).toMatchObject({
      iss: `${STACK_URL}/oidc`,
      sub: 'jane',
      aud: issuer.clientId,
      email: 'jane@corp.example',
      email_verified: true,
      name: 'Jane',
      groups: ['support'],
    });
    expect(payload.auth_time).toBe(payload.iat);
    expect(payload.exp - payload.iat).toBe(3600);
  });

  describe('publishes discovery and keys over HTTP', () => {
    let server: Server;
    let base: string;
    const served = new DevOidcIssuer();
    beforeAll(async () => {
      server = createServer((req, res) => {
        void served.routes(req, res, new URL(req.url ?? '/', 'http://127.0.0.1')).then((handled) => {
          if (!handled) res.writeHead(404).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('answers 503 before it is published, then the discovery document whose jwks_uri serves the keys', async () => {
      expect((await fetch(`${base}/oidc/.well-known/openid-configuration`)).status).toBe(503);
      served.publishAt(base);
      const discovery = await fetch(`${base}/oidc/.well-known/openid-configuration`);
      expect(discovery.status).toBe(200);
      expect(discovery.headers.get('access-control-allow-origin')).toBe('*');
      const document = (await discovery.json()) as { issuer: string; jwks_uri: string };
      expect(document).toMatchObject({ issuer: `${base}/oidc`, id_token_signing_alg_values_supported: ['RS256'] });
      expect(document.jwks_uri).toBe(`${base}/oidc/.well-known/jwks.json`);
      expect(await (await fetch(document.jwks_uri)).json()).toEqual(served.jwks);
      expect((await fetch(document.jwks_uri, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${base}/oidc/other`)).status).toBe(404);
    });
  });
});

describe('OIDC tokens are verified as AppSync verifies them', () => {
  it("accepts a token of the issuer for the client and builds AppSync's OIDC identity ({ claims, issuer, sub })", async () => {
    for (const token of [issuer.mint({ subject: 'jane', groups: ['support'] }), `Bearer ${issuer.mint({ subject: 'jane' })}`]) {
      const result = await authenticate(token);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.caller).toEqual({ mode: 'OPENID_CONNECT', groups: [] });
      expect(Object.keys(result.identity ?? {}).sort()).toEqual(['claims', 'issuer', 'sub']);
      expect(result.identity).toMatchObject({ sub: 'jane', issuer: issuer.issuer, claims: { sub: 'jane', aud: issuer.clientId } });
    }
  });

  it('refuses a wrong issuer, a wrong audience, an expired token, a bad signature, alg none, an unknown key and no sub', async () => {
    const otherKey = new DevOidcIssuer().publishAt(STACK_URL);
    const sameKeyElsewhere = new DevOidcIssuer({ keyFile }).publishAt('http://127.0.0.1:5000');
    const unsigned = [
      Buffer.from(JSON.stringify({ alg: 'none', kid: issuer.jwks.keys[0]?.kid })).toString('base64url'),
      Buffer.from(
        JSON.stringify({ iss: issuer.issuer, sub: 'eve', aud: issuer.clientId, iat: nowSeconds(), auth_time: nowSeconds(), exp: 9e9 }),
      ).toString('base64url'),
      '',
    ].join('.');
    const [header, payload] = issuer.mint({ subject: 'jane' }).split('.');
    const tokens = {
      wrongIssuer: sameKeyElsewhere.mint({ subject: 'eve' }),
      wrongIssuerClaim: issuer.mint({ subject: 'eve', overrideClaims: { iss: `${issuer.issuer}/other` } }),
      wrongAudience: issuer.mint({ subject: 'eve', overrideClaims: { aud: 'another-app-of-the-same-issuer' } }),
      noAudience: issuer.mint({ subject: 'eve', overrideClaims: { aud: undefined } }),
      expired: issuer.mint({ subject: 'eve', expiresInSeconds: -10 }),
      notYetValid: issuer.mint({ subject: 'eve', overrideClaims: { nbf: nowSeconds() + 600 } }),
      badSignature: otherKey.mint({ subject: 'eve' }),
      tamperedPayload: `${header}.${Buffer.from(JSON.stringify({ iss: issuer.issuer, sub: 'admin', aud: issuer.clientId, exp: 9e9 })).toString('base64url')}.${issuer.mint({ subject: 'jane' }).split('.')[2]}`,
      algNone: unsigned,
      unknownKey: `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'someone-elses-key' })).toString('base64url')}.${payload}.${issuer.mint({ subject: 'jane' }).split('.')[2]}`,
      noSub: issuer.mint({ subject: 'eve', overrideClaims: { sub: undefined } }),
      notAJwt: 'a.b.c',
    };
    for (const [name, token] of Object.entries(tokens)) expect((await authenticate(token)).ok, name).toBe(false);
  });

  it('refuses a token older than iatTTL, or from a sign-in older than authTTL, whatever its exp says', async () => {
    const iatTtl = oidc.iatTtlMs / 1000;
    const authTtl = oidc.authTtlMs / 1000;
    const long = 7 * 86_400;
    const staleIat = issuer.mint({ subject: 'eve', issuedAt: nowSeconds() - iatTtl - 60, expiresInSeconds: long });
    const freshIat = issuer.mint({ subject: 'jane', issuedAt: nowSeconds() - iatTtl + 60, expiresInSeconds: long });
    const staleSignIn = issuer.mint({ subject: 'eve', authTime: nowSeconds() - authTtl - 60 });
    const longSession = issuer.mint({ subject: 'jane', authTime: nowSeconds() - authTtl + 60 });
    const noAuthTime = issuer.mint({ subject: 'eve', overrideClaims: { auth_time: undefined } });
    const noIat = issuer.mint({ subject: 'eve', overrideClaims: { iat: undefined } });
    expect((await authenticate(staleIat)).ok, 'iat past iatTTL').toBe(false);
    expect((await authenticate(freshIat)).ok, 'iat within iatTTL').toBe(true);
    expect((await authenticate(staleSignIn)).ok, 'auth_time past authTTL').toBe(false);
    expect((await authenticate(longSession)).ok, 'auth_time within authTTL').toBe(true);
    expect((await authenticate(noAuthTime)).ok, 'no auth_time').toBe(false);
    expect((await authenticate(noIat)).ok, 'no iat').toBe(false);
  });

  it('routes a JWT by its issuer: a user-pool token is never taken as OIDC, nor an OIDC token as a user-pool one', async () => {
    const userPoolToken = pool.mint({ username: 'alice', sub: 'alice' });
    const oidcToken = issuer.mint({ subject: 'jane' });
    // Both modes: each token goes to its own verifier.
    expect(await authenticate(userPoolToken)).toMatchObject({ ok: true, caller: { mode: 'AMAZON_COGNITO_USER_POOLS' } });
    expect(await authenticate(oidcToken)).toMatchObject({ ok: true, caller: { mode: 'OPENID_CONNECT' } });
    // Only one mode: the other's token is refused.
    const oidcOnly = authenticatorFor(withModes('API_KEY', ['OPENID_CONNECT']));
    const userPoolOnly = authenticatorFor(withModes('API_KEY', ['AMAZON_COGNITO_USER_POOLS']));
    expect((await authenticate(userPoolToken, oidcOnly)).ok).toBe(false);
    expect((await authenticate(oidcToken, oidcOnly)).ok).toBe(true);
    expect((await authenticate(oidcToken, userPoolOnly)).ok).toBe(false);
    // Claiming the other issuer gets a token to the other verifier, which refuses it.
    expect((await authenticate(pool.mint({ username: 'eve', overrideClaims: { iss: issuer.issuer, aud: issuer.clientId } }))).ok).toBe(
      false,
    );
    expect(
      (await authenticate(issuer.mint({ subject: 'eve', overrideClaims: { iss: pool.issuer, token_use: 'id', aud: pool.clientId } }))).ok,
    ).toBe(false);
  });

  it('refuses every OIDC token while the provider has no address yet', async () => {
    const unpublished = new DevOidcIssuer({ keyFile });
    const early = new RequestAuthenticator({ api, apiKeys: [], userPool: pool, oidc: { provider: unpublished, declaration: oidc } });
    expect((await authenticate(issuer.mint({ subject: 'jane' }), early)).ok).toBe(false);
  });
});

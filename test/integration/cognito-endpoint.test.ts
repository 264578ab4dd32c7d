/**
 * The local Cognito user pool endpoint, driven by aws-amplify v6's own Auth
 * category (`signIn`, `fetchAuthSession`, `fetchUserAttributes`, `signOut`)
 * with `Auth.Cognito.userPoolEndpoint` pointing at it, as a web app would be
 * configured; its tokens are then checked by the dev user pool's verifier, the
 * one the local AppSync runtime uses. Amplify keeps its tokens in its default
 * in-memory storage here (Node has no localStorage).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Amplify } from 'aws-amplify';
import { fetchAuthSession, fetchUserAttributes, getCurrentUser, signIn, signOut } from 'aws-amplify/auth';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createCognitoEndpoint,
  devUsers,
  DEV_USER_DECLARATIONS,
  MAX_BODY_BYTES,
  type DevUser,
} from '../../local/identity/cognito-endpoint.js';
import { DevUserPool } from '../../local/identity/dev-user-pool.js';

const userPool = new DevUserPool();
const users: DevUser[] = devUsers();
const password = (username: string): string => users.find((user) => user.username === username)!.password;

let server: Server;
let endpoint: string;
/** The X-Amz-Target of every request Amplify sent, in order. */
const calls: string[] = [];

beforeAll(async () => {
  const cognito = createCognitoEndpoint({ userPool, users });
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST') calls.push(String(req.headers['x-amz-target'] ?? '').replace('AWSCognitoIdentityProviderService.', ''));
    void cognito(req, res, url).then((handled) => {
      if (!handled) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('next handler');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cognito/`;
  Amplify.configure({
    Auth: { Cognito: { userPoolId: userPool.userPoolId, userPoolClientId: userPool.clientId, userPoolEndpoint: endpoint } },
  });
});

afterEach(async () => {
  await signOut().catch(() => undefined);
  calls.length = 0;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const passwordSignIn = (username: string, secret: string) =>
  signIn({ username, password: secret, options: { authFlowType: 'USER_PASSWORD_AUTH' } });

/** A raw call, as the AWS SDK would make it. */
async function call(
  operation: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('the local Cognito endpoint with Amplify Auth', () => {
  it('declares a customer and an administrator, each with a fresh random password unless one is given', () => {
    expect(DEV_USER_DECLARATIONS.map((user) => user.username)).toEqual(['alice', 'admin']);
    expect(users.find((user) => user.username === 'admin')!.groups).toEqual(['admin']);
    const again = devUsers();
    expect(again[0]!.password).not.toBe(users[0]!.password);
    expect(again[0]!.password.length).toBeGreaterThanOrEqual(16);
    expect(devUsers({ password: 'given-Password-1' }).every((user) => user.password === 'given-Password-1')).toBe(true);
  });

  it('signs alice in; her tokens pass the dev pool verifier the runtime uses', async () => {
    const result = await passwordSignIn('alice', password('alice'));
    expect(result).toEqual({ isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    expect(calls).toEqual(['InitiateAuth']);

    const session = await fetchAuthSession();
    const accessToken = session.tokens!.accessToken.toString();
    const idToken = session.tokens!.idToken!.toString();
    const access = await userPool.verify(accessToken);
    expect(access).toMatchObject({
      token_use: 'access',
      username: 'alice',
      sub: 'alice',
      client_id: userPool.clientId,
      iss: userPool.issuer,
    });
    expect(access).not.toHaveProperty('cognito:groups');
    expect(typeof access.origin_jti).toBe('string');
    const id = await userPool.verify(idToken);
    expect(id).toMatchObject({
      token_use: 'id',
      'cognito:username': 'alice',
      aud: userPool.clientId,
      email: 'alice@example.com',
      origin_jti: access.origin_jti,
    });

    expect(await getCurrentUser()).toMatchObject({ username: 'alice', userId: 'alice' });
    expect(await fetchUserAttributes()).toEqual({ sub: 'alice', email: 'alice@example.com', email_verified: 'true' });
    expect(calls).toContain('GetUser');
  });

  it('puts the admin in the admin group (cognito:groups), in both tokens', async () => {
    await passwordSignIn('admin', password('admin'));
    const { tokens } = await fetchAuthSession();
    expect((await userPool.verify(tokens!.accessToken.toString()))['cognito:groups']).toEqual(['admin']);
    expect((await userPool.verify(tokens!.idToken!.toString()))['cognito:groups']).toEqual(['admin']);
  });

  it('refuses a wrong password and an unknown user alike (NotAuthorizedException), as a pool preventing user existence errors does', async () => {
    await expect(passwordSignIn('alice', `${password('alice')}x`)).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    });
    await expect(passwordSignIn('mallory', 'whatever-password')).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    });
    // Another user's password is not this user's.
    await expect(passwordSignIn('alice', password('admin'))).rejects.toMatchObject({ name: 'NotAuthorizedException' });
  });

  it("signs in with Amplify's default flow, USER_SRP_AUTH (the password never sent), as a deployed web client must", async () => {
    const result = await signIn({ username: 'admin', password: password('admin') });
    expect(result).toEqual({ isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    expect(calls).toEqual(['InitiateAuth', 'RespondToAuthChallenge']);
    const { tokens } = await fetchAuthSession();
    expect(await userPool.verify(tokens!.accessToken.toString())).toMatchObject({
      username: 'admin',
      'cognito:groups': ['admin'],
      token_use: 'access',
    });
    expect(await getCurrentUser()).toMatchObject({ username: 'admin', userId: 'admin' });
  });

  it('refuses a wrong password and an unknown user over SRP too, with the same error', async () => {
    await expect(signIn({ username: 'alice', password: `${password('alice')}x` })).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    });
    await expect(signIn({ username: 'mallory', password: 'whatever-password' })).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    });
  });

  it("refreshes the session with the refresh token (GetTokensFromRefreshToken), keeping the sign-in's origin_jti", async () => {
    await passwordSignIn('alice', password('alice'));
    const before = (await fetchAuthSession()).tokens!.accessToken;
    const after = (await fetchAuthSession({ forceRefresh: true })).tokens!.accessToken;
    expect(calls).toEqual(['InitiateAuth', 'GetTokensFromRefreshToken']);
    expect(after.toString()).not.toBe(before.toString());
    expect(after.payload.origin_jti).toBe(before.payload.origin_jti);
    expect(await userPool.verify(after.toString())).toMatchObject({ username: 'alice', token_use: 'access' });
  });

  it('signOut revokes the refresh token (RevokeToken); signOut({ global: true }) revokes the access token too (GlobalSignOut)', async () => {
    await passwordSignIn('alice', password('alice'));
    const first = await fetchAuthSession();
    // Amplify does not hand out the refresh token; sign in by hand to hold one, as a second device.
    const device = await call('InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: userPool.clientId,
      AuthParameters: { USERNAME: 'alice', PASSWORD: password('alice') },
    });
    const deviceResult = device.body.AuthenticationResult as { RefreshToken: string; AccessToken: string };
    expect(await call('RevokeToken', { ClientId: userPool.clientId, Token: deviceResult.RefreshToken })).toMatchObject({
      status: 200,
      body: {},
    });
    const refused = await call('InitiateAuth', {
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      ClientId: userPool.clientId,
      AuthParameters: { REFRESH_TOKEN: deviceResult.RefreshToken },
    });
    expect(refused).toMatchObject({ status: 400, body: { __type: 'NotAuthorizedException' } });
    expect((await call('GetUser', { AccessToken: deviceResult.AccessToken })).body).toMatchObject({
      __type: 'NotAuthorizedException',
      message: 'Access Token has been revoked',
    });

    await signOut();
    expect(calls).toContain('RevokeToken');
    expect((await fetchAuthSession()).tokens).toBeUndefined();

    await passwordSignIn('alice', password('alice'));
    const second = (await fetchAuthSession()).tokens!.accessToken.toString();
    await signOut({ global: true });
    expect(calls).toContain('GlobalSignOut');
    expect((await call('GetUser', { AccessToken: second })).body).toMatchObject({
      __type: 'NotAuthorizedException',
      message: 'Access Token has been revoked',
    });
    // Global sign-out ends every session of the user, the first one's included.
    expect((await call('GetUser', { AccessToken: first.tokens!.accessToken.toString() })).body).toMatchObject({
      __type: 'NotAuthorizedException',
    });
  });
});

describe('the local Cognito endpoint: protocol, errors and CORS', () => {
  it('answers a refresh with REFRESH_TOKEN_AUTH (no new refresh token), as Cognito does', async () => {
    const signedIn = await call('InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: userPool.clientId,
      AuthParameters: { USERNAME: 'admin', PASSWORD: password('admin') },
    });
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(signedIn.body).toMatchObject({ ChallengeParameters: {}, AuthenticationResult: { TokenType: 'Bearer', ExpiresIn: 3600 } });
    const { RefreshToken } = signedIn.body.AuthenticationResult as { RefreshToken: string };
    const refreshed = await call('InitiateAuth', {
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      ClientId: userPool.clientId,
      AuthParameters: { REFRESH_TOKEN: RefreshToken },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.AuthenticationResult).not.toHaveProperty('RefreshToken');
    const { AccessToken } = refreshed.body.AuthenticationResult as { AccessToken: string };
    expect(await userPool.verify(AccessToken)).toMatchObject({ username: 'admin', 'cognito:groups': ['admin'] });
  });

  it("answers errors with Cognito's shape: HTTP 400, __type, message, x-amzn-ErrorType", async () => {
    const badJson = await call('InitiateAuth', '{"AuthFlow": ');
    expect(badJson).toMatchObject({ status: 400, body: { __type: 'SerializationException' } });
    expect(badJson.headers.get('x-amzn-errortype')).toBe('SerializationException:');
    expect(await call('InitiateAuth', '[1,2]')).toMatchObject({ status: 400, body: { __type: 'SerializationException' } });

    expect(await call('SignUp', { ClientId: userPool.clientId, Username: 'eve', Password: 'x' })).toMatchObject({
      status: 400,
      body: { __type: 'UnknownOperationException' },
    });
    expect(await call('constructor', {})).toMatchObject({ status: 400, body: { __type: 'UnknownOperationException' } });
    expect(
      await call('InitiateAuth', {
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: 'someoneelse',
        AuthParameters: { USERNAME: 'alice', PASSWORD: password('alice') },
      }),
    ).toMatchObject({
      status: 400,
      body: { __type: 'ResourceNotFoundException' },
    });
    expect(
      await call('InitiateAuth', { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: userPool.clientId, AuthParameters: { USERNAME: 'alice' } }),
    ).toMatchObject({
      status: 400,
      body: { __type: 'InvalidParameterException' },
    });
    expect(await call('GetUser', { AccessToken: 'not-a-token' })).toMatchObject({
      status: 400,
      body: { __type: 'NotAuthorizedException', message: 'Invalid Access Token' },
    });
    // An ID token is not an access token.
    const idToken = userPool.mint({ username: 'alice', sub: 'alice', tokenUse: 'id' });
    expect(await call('GetUser', { AccessToken: idToken })).toMatchObject({ status: 400, body: { __type: 'NotAuthorizedException' } });
    const expired = userPool.mint({ username: 'alice', sub: 'alice', tokenUse: 'access', expiresInSeconds: -10 });
    expect(await call('GetUser', { AccessToken: expired })).toMatchObject({
      status: 400,
      body: { __type: 'NotAuthorizedException', message: 'Access Token has expired' },
    });
  });

  it('takes each SRP challenge once: its SECRET_BLOCK cannot be answered again, nor with a forged signature', async () => {
    const challenge = await call('InitiateAuth', {
      AuthFlow: 'USER_SRP_AUTH',
      ClientId: userPool.clientId,
      AuthParameters: { USERNAME: 'alice', SRP_A: 'abcdef0123' },
    });
    expect(challenge.status).toBe(200);
    expect(challenge.body).toMatchObject({
      ChallengeName: 'PASSWORD_VERIFIER',
      ChallengeParameters: { USER_ID_FOR_SRP: 'alice', USERNAME: 'alice' },
    });
    const { SECRET_BLOCK, SRP_B, SALT } = challenge.body.ChallengeParameters as Record<string, string>;
    expect(SRP_B).toMatch(/^[0-9a-f]+$/);
    expect(SALT).toMatch(/^[0-9a-f]+$/);
    const answer = {
      ChallengeName: 'PASSWORD_VERIFIER',
      ClientId: userPool.clientId,
      ChallengeResponses: {
        USERNAME: 'alice',
        PASSWORD_CLAIM_SECRET_BLOCK: SECRET_BLOCK,
        TIMESTAMP: 'Mon Jan 5 10:00:00 UTC 2026',
        PASSWORD_CLAIM_SIGNATURE: Buffer.alloc(32).toString('base64'),
      },
    };
    expect(await call('RespondToAuthChallenge', answer)).toMatchObject({
      status: 400,
      body: { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' },
    });
    expect(await call('RespondToAuthChallenge', answer)).toMatchObject({
      status: 400,
      body: { __type: 'NotAuthorizedException', message: expect.stringContaining('session') },
    });
    expect(
      await call('InitiateAuth', {
        AuthFlow: 'USER_SRP_AUTH',
        ClientId: userPool.clientId,
        AuthParameters: { USERNAME: 'alice', SRP_A: 'not hex' },
      }),
    ).toMatchObject({
      status: 400,
      body: { __type: 'InvalidParameterException' },
    });
    expect(await call('RespondToAuthChallenge', { ...answer, ChallengeName: 'SMS_MFA' })).toMatchObject({
      status: 400,
      body: { __type: 'InvalidParameterException' },
    });
  });

  it("gives an unknown user a challenge like a known one's (a salt stable across attempts), so SRP does not reveal who exists", async () => {
    const salts = async (username: string) => {
      const seen = new Set<string>();
      for (let i = 0; i < 2; i++) {
        const response = await call('InitiateAuth', {
          AuthFlow: 'USER_SRP_AUTH',
          ClientId: userPool.clientId,
          AuthParameters: { USERNAME: username, SRP_A: 'abcdef0123' },
        });
        expect(response.status).toBe(200);
        seen.add((response.body.ChallengeParameters as Record<string, string>).SALT!);
      }
      return seen.size;
    };
    expect(await salts('alice')).toBe(1);
    expect(await salts('nobody-here')).toBe(1);
  });

  it("allows only the app client's flows when they are declared, as a deployed client (SRP and refresh only) does", async () => {
    const handler = createCognitoEndpoint({ userPool, users, authFlows: ['USER_SRP_AUTH', 'REFRESH_TOKEN_AUTH'] });
    const local = createServer((req, res) => void handler(req, res, new URL(req.url ?? '/', 'http://127.0.0.1')));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(local.address() as AddressInfo).port}/cognito/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
        body: JSON.stringify({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: userPool.clientId,
          AuthParameters: { USERNAME: 'alice', PASSWORD: password('alice') },
        }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        __type: 'InvalidParameterException',
        message: expect.stringContaining('USER_PASSWORD_AUTH flow not enabled'),
      });
    } finally {
      await new Promise<void>((resolve) => local.close(() => resolve()));
    }
  });

  it('refuses a body past the limit with 413, and anything but POST and OPTIONS with 405', async () => {
    const tooLarge = await call('InitiateAuth', JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', padding: 'x'.repeat(MAX_BODY_BYTES) }));
    expect(tooLarge).toMatchObject({ status: 413, body: { __type: 'RequestEntityTooLargeException' } });
    const get = await fetch(endpoint);
    expect(get.status).toBe(405);
    expect(get.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('can report UserNotFoundException for an unknown user when user existence errors are not prevented', async () => {
    const handler = createCognitoEndpoint({ userPool, users, preventUserExistenceErrors: false });
    const local = createServer((req, res) => void handler(req, res, new URL(req.url ?? '/', 'http://127.0.0.1')));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(local.address() as AddressInfo).port}/cognito/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
        body: JSON.stringify({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: userPool.clientId,
          AuthParameters: { USERNAME: 'nobody', PASSWORD: 'x' },
        }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ __type: 'UserNotFoundException' });
    } finally {
      await new Promise<void>((resolve) => local.close(() => resolve()));
    }
  });

  it('answers a browser preflight for any origin, allowing the headers the AWS SDK and Amplify add', async () => {
    const requested = 'amz-sdk-invocation-id,amz-sdk-request,cache-control,content-type,x-amz-target,x-amz-user-agent';
    const response = await fetch(endpoint, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': requested },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toBe('POST');
    expect(response.headers.get('access-control-allow-headers')).toBe(requested);
    // A header name that is not an HTTP token is not echoed (no header injection).
    const odd = await fetch(endpoint, { method: 'OPTIONS', headers: { 'access-control-request-headers': 'content-type, bad name' } });
    expect(odd.headers.get('access-control-allow-headers')).toBe('content-type');
  });

  it('gives every answer, errors included, access-control-allow-origin: * and a request id', async () => {
    const failed = await call('InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: userPool.clientId,
      AuthParameters: { USERNAME: 'alice', PASSWORD: 'nope' },
    });
    expect(failed.status).toBe(400);
    expect(failed.headers.get('access-control-allow-origin')).toBe('*');
    expect(failed.headers.get('access-control-expose-headers')).toContain('x-amzn-ErrorType');
    expect(failed.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('leaves other paths to the next handler', async () => {
    const response = await fetch(endpoint.replace('/cognito/', '/graphql'), { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('next handler');
    // With or without the trailing slash.
    expect((await fetch(endpoint.replace(/\/$/, ''), { method: 'OPTIONS' })).status).toBe(200);
  });
});

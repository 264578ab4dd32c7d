/**
 * A local stand-in for the Cognito user pool API (cognito-idp), just big enough
 * for a web app to sign in the way it does against a real pool: aws-amplify v6's
 * `signIn`/`fetchAuthSession`/`fetchUserAttributes`/`signOut`, configured with
 * `Auth.Cognito.userPoolEndpoint` pointing here. Tokens come from the dev user
 * pool (local/identity/dev-user-pool.ts), so the local AppSync runtime verifies
 * them as it verifies every dev-pool token (signature, issuer, token_use,
 * client id, expiry).
 *
 * The protocol is Cognito's: `POST` with a JSON body, `content-type:
 * application/x-amz-json-1.1` and `X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>`;
 * errors are HTTP 400 with `{"__type": "<Exception>", "message": "..."}` and
 * `x-amzn-ErrorType`. Operations:
 *
 *   InitiateAuth                USER_SRP_AUTH (Amplify's default signIn), USER_PASSWORD_AUTH,
 *                               REFRESH_TOKEN_AUTH / REFRESH_TOKEN
 *   RespondToAuthChallenge      PASSWORD_VERIFIER, the second step of USER_SRP_AUTH
 *   GetTokensFromRefreshToken   how Amplify 6.2x refreshes its tokens
 *   GetUser                     fetchUserAttributes()
 *   RevokeToken                 signOut() (Amplify revokes the refresh token when the access token has origin_jti)
 *   GlobalSignOut               signOut({ global: true })
 *
 * USER_SRP_AUTH is Cognito's SRP-6a: the 3072-bit group of RFC 5054 with
 * g = 2, k = H(N | g), x = H(salt | H(poolName | username | ":" | password)),
 * the session key derived by HKDF-SHA256 ("Caldera Derived Key") from S and u,
 * and the client proving it with an HMAC over pool name, username, the
 * server's SECRET_BLOCK and a timestamp. The password never crosses the wire,
 * which is why a deployed app client allows only this flow (stacks/constructs/api.ts:
 * ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH); an app written against this
 * endpoint therefore signs in the same way against the real pool.
 * Device tracking (DEVICE_SRP_AUTH), MFA and other challenges are not served.
 *
 * Users are a small declared set with passwords given by the stack (a fresh
 * random password per start unless set): nothing here is a credential that
 * works anywhere but against this one local process. Passwords are compared in
 * constant time (over SHA-256 digests, so lengths do not leak either, and an
 * unknown user costs the same comparison). Refresh tokens are opaque random
 * strings held in memory, bounded in number.
 *
 * CORS is answered as Cognito answers it for browser apps: any origin, a
 * preflight allowing the headers the page asks for (the AWS SDK and Amplify
 * add `x-amz-target`, `x-amz-user-agent`, `amz-sdk-invocation-id`,
 * `amz-sdk-request`, `cache-control`), and `access-control-allow-origin: *`
 * on every answer, errors included.
 */
import { createDiffieHellman, createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isHeaderToken } from '../appsync/cors.js';
import type { DevUserPool } from './dev-user-pool.js';
import { api } from '../../declarations/api.js';

/** A user of the local pool. */
export interface DevUser {
  readonly username: string;
  readonly password: string;
  /** Cognito groups (`cognito:groups`), e.g. `['admin']`. */
  readonly groups?: readonly string[];
  readonly email?: string;
  /** The user's `sub` (their id: the storefront's customerId); the username when unset, as `npm run token` mints. */
  readonly sub?: string;
}

export interface CognitoEndpointOptions {
  readonly userPool: DevUserPool;
  readonly users: readonly DevUser[];
  /** Where it is mounted; requests to any other path are left to the next handler. Default `/cognito/`. */
  readonly path?: string;
  /** Access and ID token lifetime; Cognito's default is one hour. */
  readonly tokenLifetimeSeconds?: number;
  /** Refresh token lifetime; Cognito's default is 30 days. */
  readonly refreshTokenLifetimeSeconds?: number;
  /**
   * An unknown username answers NotAuthorizedException "Incorrect username or password." (Cognito's
   * PreventUserExistenceErrors, the default for app clients) rather than UserNotFoundException. Default true.
   */
  readonly preventUserExistenceErrors?: boolean;
  /** The app client's allowed flows (its ExplicitAuthFlows, without the ALLOW_ prefix); all three by default. */
  readonly authFlows?: ReadonlyArray<'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH' | 'REFRESH_TOKEN_AUTH'>;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** Answers a request it owns (returns true) or leaves it to the next handler (false). */
export type CognitoEndpoint = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

/** The local dev users every start declares: a customer and an administrator. */
export const DEV_USER_DECLARATIONS: ReadonlyArray<Omit<DevUser, 'password'>> = [
  { username: 'alice', email: 'alice@example.com', groups: [] },
  { username: 'admin', email: 'admin@example.com', groups: [api.adminGroup] },
];

/**
 * The dev users with their passwords: `password` for all of them when given (e.g. from an
 * environment variable), else a fresh random one each, to be printed by whoever starts the stack.
 */
export function devUsers(options: { password?: string; declarations?: ReadonlyArray<Omit<DevUser, 'password'>> } = {}): DevUser[] {
  return (options.declarations ?? DEV_USER_DECLARATIONS).map((user) => ({
    ...user,
    password: options.password || `Dev-${randomBytes(12).toString('base64url')}`,
  }));
}

const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
/** An InitiateAuth body is a username, a password and a little metadata; Amplify's UserContextData stays well under this. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Sessions (refresh tokens) held at once; the oldest are forgotten past it. */
const MAX_SESSIONS = 10_000;
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const PREFLIGHT_MAX_AGE_SECONDS = 86_400;
const EXPOSED_HEADERS = 'x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date';
const MAX_REQUESTED_HEADERS_LENGTH = 2048;

/** A USER_SRP_AUTH challenge waits this long for its PASSWORD_VERIFIER answer (Cognito: three minutes). */
const SRP_CHALLENGE_TTL_MS = 3 * 60_000;
/** Challenges waiting at once; the oldest are dropped past it. */
const MAX_PENDING_CHALLENGES = 1000;

/** Cognito's SRP group: RFC 5054's 3072-bit prime, generator 2. */
const SRP_N = BigInt(
  '0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
    'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
    'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
    '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
    'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
    '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
    'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
    'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF',
);
const SRP_G = 2n;

const toBuffer = (value: bigint): Buffer =>
  Buffer.from(value.toString(16).padStart(Math.ceil(value.toString(16).length / 2) * 2, '0'), 'hex');
const SRP_N_BYTES = toBuffer(SRP_N);

/**
 * base^exponent mod N, by OpenSSL (Diffie-Hellman's computeSecret is exactly that modular exponentiation):
 * a few milliseconds, where BigInt square-and-multiply takes a hundred or more per 1024-bit exponent,
 * on the event loop every request shares. BigInt only for the values OpenSSL refuses as a DH public key (0, 1, N-1).
 */
function srpModPow(base: bigint, exponent: bigint): bigint {
  const reduced = base % SRP_N;
  if (reduced > 1n && reduced < SRP_N - 1n && exponent > 0n) {
    try {
      const dh = createDiffieHellman(SRP_N_BYTES, Buffer.from([2]));
      dh.setPrivateKey(toBuffer(exponent));
      return BigInt(`0x${dh.computeSecret(toBuffer(reduced)).toString('hex')}`);
    } catch {
      // fall through to BigInt
    }
  }
  return modPow(reduced, exponent, SRP_N);
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    e >>= 1n;
    b = (b * b) % modulus;
  }
  return result;
}

/** Even-length hex with a leading 00 when the top bit is set: Java's BigInteger.toByteArray(), as Cognito and Amplify hash it. */
export function paddedHex(value: bigint): string {
  let hex = value.toString(16);
  if (hex.length % 2 !== 0) hex = `0${hex}`;
  return /^[89a-f]/i.test(hex) ? `00${hex}` : hex;
}

const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const hashOfHex = (hex: string): bigint => BigInt(`0x${sha256Hex(Buffer.from(hex, 'hex'))}`);
const randomBigInt = (bytes: number): bigint => BigInt(`0x${randomBytes(bytes).toString('hex')}`);
const SRP_K = hashOfHex(paddedHex(SRP_N) + paddedHex(SRP_G));

/** The 16-byte key both sides derive from S and u (HKDF-SHA256, one block, info "Caldera Derived Key" 0x01). */
function srpSessionKey(S: bigint, u: bigint): Buffer {
  const prk = createHmac('sha256', Buffer.from(paddedHex(u), 'hex'))
    .update(Buffer.from(paddedHex(S), 'hex'))
    .digest();
  return createHmac('sha256', prk)
    .update(Buffer.concat([Buffer.from('Caldera Derived Key', 'utf8'), Buffer.from([1])]))
    .digest()
    .subarray(0, 16);
}

interface SrpVerifier {
  readonly salt: bigint;
  readonly v: bigint;
}

/** What a USER_SRP_AUTH challenge remembers until its PASSWORD_VERIFIER answer. */
interface PendingChallenge {
  /** Undefined for an unknown user: the challenge is answered, and its answer refused (no user enumeration). */
  readonly username: string | undefined;
  readonly userIdForSrp: string;
  readonly key: Buffer;
  readonly expiresAt: number;
}

/** A Cognito service error: HTTP status, `__type` and message. */
export class CognitoError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface Session {
  readonly username: string;
  readonly originJti: string;
  readonly refreshTokenDigest: Buffer;
  readonly refreshExpiresAt: number;
  revoked: boolean;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function createCognitoEndpoint(options: CognitoEndpointOptions): CognitoEndpoint {
  const path = options.path ?? '/cognito/';
  const paths = new Set([path, path.endsWith('/') ? path.slice(0, -1) : `${path}/`]);
  const now = options.now ?? (() => Date.now());
  const tokenLifetime = options.tokenLifetimeSeconds ?? 3600;
  const refreshLifetime = options.refreshTokenLifetimeSeconds ?? 30 * 86_400;
  const preventUserExistenceErrors = options.preventUserExistenceErrors ?? true;
  const authFlows = new Set<string>(options.authFlows ?? ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH', 'REFRESH_TOKEN_AUTH']);
  const { userPool } = options;
  /** The part of the pool id after the region, which SRP hashes with the username. */
  const poolName = userPool.userPoolId.split('_')[1] ?? '';

  const users = new Map<string, DevUser & { readonly passwordDigest: Buffer }>();
  for (const user of options.users) {
    if (!user.username || !user.password) throw new Error('Every dev user needs a username and a password');
    if (users.has(user.username)) throw new Error(`Dev user ${user.username} is declared twice`);
    users.set(user.username, { ...user, passwordDigest: digest(user.password) });
  }
  /** Compared against when the username is unknown, so both paths cost the same. */
  const decoy = digest(randomBytes(32).toString('base64url'));

  /** SRP verifiers, with a fresh salt per start, computed on a user's first SRP sign-in. */
  const verifiers = new Map<string, SrpVerifier>();
  function verifierOf(user: DevUser): SrpVerifier {
    let verifier = verifiers.get(user.username);
    if (!verifier) {
      const salt = randomBigInt(16);
      const x = hashOfHex(paddedHex(salt) + sha256Hex(`${poolName}${user.username}:${user.password}`));
      verifier = { salt, v: srpModPow(SRP_G, x) };
      verifiers.set(user.username, verifier);
    }
    return verifier;
  }
  const fakeSaltKey = randomBytes(32);
  const fakeSalt = (username: string): bigint =>
    BigInt(`0x${createHmac('sha256', fakeSaltKey).update(username, 'utf8').digest('hex').slice(0, 32)}`);
  /** USER_SRP_AUTH challenges awaiting their answer, by SECRET_BLOCK (single use). */
  const pending = new Map<string, PendingChallenge>();

  /** By origin_jti (the claim tying access/ID tokens to their sign-in), and by refresh token digest. */
  const sessions = new Map<string, Session>();
  const byRefreshToken = new Map<string, Session>();

  function remember(session: Session): void {
    sessions.set(session.originJti, session);
    byRefreshToken.set(session.refreshTokenDigest.toString('hex'), session);
    while (sessions.size > MAX_SESSIONS) {
      const oldest = sessions.values().next().value as Session;
      sessions.delete(oldest.originJti);
      byRefreshToken.delete(oldest.refreshTokenDigest.toString('hex'));
    }
  }

  function tokensFor(user: DevUser, originJti: string): { AccessToken: string; IdToken: string; ExpiresIn: number; TokenType: 'Bearer' } {
    const sub = user.sub ?? user.username;
    const common = { username: user.username, sub, groups: user.groups ?? [], expiresInSeconds: tokenLifetime };
    return {
      AccessToken: userPool.mint({ ...common, tokenUse: 'access', overrideClaims: { origin_jti: originJti } }),
      IdToken: userPool.mint({
        ...common,
        tokenUse: 'id',
        ...(user.email ? { email: user.email } : {}),
        overrideClaims: { origin_jti: originJti },
      }),
      ExpiresIn: tokenLifetime,
      TokenType: 'Bearer',
    };
  }

  function checkClient(clientId: unknown): void {
    if (typeof clientId !== 'string' || clientId === '')
      throw new CognitoError(
        'InvalidParameterException',
        "1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null",
      );
    if (clientId !== userPool.clientId) throw new CognitoError('ResourceNotFoundException', `User pool client ${clientId} does not exist.`);
  }

  /** A new sign-in: a session (refresh token) and the tokens of InitiateAuth's or RespondToAuthChallenge's AuthenticationResult. */
  function signedIn(user: DevUser): unknown {
    const refreshToken = randomBytes(48).toString('base64url');
    const session: Session = {
      username: user.username,
      originJti: randomUUID(),
      refreshTokenDigest: digest(refreshToken),
      refreshExpiresAt: now() + refreshLifetime * 1000,
      revoked: false,
    };
    remember(session);
    return { ChallengeParameters: {}, AuthenticationResult: { ...tokensFor(user, session.originJti), RefreshToken: refreshToken } };
  }

  /** USER_SRP_AUTH, first step: the server's B, the user's salt and a SECRET_BLOCK naming this challenge. */
  function srpChallenge(parameters: Record<string, unknown>): unknown {
    const username = parameters.USERNAME;
    const srpA = parameters.SRP_A;
    if (typeof username !== 'string' || username === '')
      throw new CognitoError('InvalidParameterException', 'Missing required parameter USERNAME');
    if (typeof srpA !== 'string' || !/^[0-9a-fA-F]{1,1024}$/.test(srpA))
      throw new CognitoError('InvalidParameterException', 'Missing or invalid required parameter SRP_A');
    const A = BigInt(`0x${srpA}`);
    if (A % SRP_N === 0n) throw new CognitoError('InvalidParameterException', 'SRP_A is invalid');
    const user = users.get(username);
    if (!user && !preventUserExistenceErrors) throw new CognitoError('UserNotFoundException', 'User does not exist.');
    // An unknown user gets a challenge all the same, with a salt as stable as a real user's and a random verifier;
    // its answer is then refused like a wrong password.
    const { salt, v } = user ? verifierOf(user) : { salt: fakeSalt(username), v: srpModPow(SRP_G, randomBigInt(32)) };
    let b: bigint;
    let B: bigint;
    do {
      b = randomBigInt(128);
      B = (SRP_K * v + srpModPow(SRP_G, b)) % SRP_N;
    } while (B === 0n);
    const u = hashOfHex(paddedHex(A) + paddedHex(B));
    const S = srpModPow((A * srpModPow(v, u)) % SRP_N, b);
    const secretBlock = randomBytes(64).toString('base64');
    pending.set(secretBlock, {
      username: user?.username,
      userIdForSrp: username,
      key: srpSessionKey(S, u),
      expiresAt: now() + SRP_CHALLENGE_TTL_MS,
    });
    while (pending.size > MAX_PENDING_CHALLENGES) pending.delete(pending.keys().next().value as string);
    return {
      ChallengeName: 'PASSWORD_VERIFIER',
      ChallengeParameters: {
        SALT: salt.toString(16),
        SRP_B: B.toString(16),
        SECRET_BLOCK: secretBlock,
        USERNAME: username,
        USER_ID_FOR_SRP: username,
      },
    };
  }

  /** USER_SRP_AUTH, second step: the client's proof that it derived the same key, i.e. knows the password. */
  function passwordVerifier(responses: Record<string, unknown>): unknown {
    const secretBlock = responses.PASSWORD_CLAIM_SECRET_BLOCK;
    const signature = responses.PASSWORD_CLAIM_SIGNATURE;
    const timestamp = responses.TIMESTAMP;
    const username = responses.USERNAME;
    for (const [name, value] of Object.entries({
      USERNAME: username,
      PASSWORD_CLAIM_SECRET_BLOCK: secretBlock,
      PASSWORD_CLAIM_SIGNATURE: signature,
      TIMESTAMP: timestamp,
    })) {
      if (typeof value !== 'string' || value === '' || value.length > 512)
        throw new CognitoError('InvalidParameterException', `Missing or invalid required parameter ${name}`);
    }
    const challenge = pending.get(secretBlock as string);
    pending.delete(secretBlock as string);
    if (!challenge || now() >= challenge.expiresAt)
      throw new CognitoError('NotAuthorizedException', 'Invalid session for the user, session is expired.');
    if (username !== challenge.userIdForSrp) throw new CognitoError('NotAuthorizedException', 'Incorrect username or password.');
    const expected = createHmac('sha256', challenge.key)
      .update(
        Buffer.concat([
          Buffer.from(poolName, 'utf8'),
          Buffer.from(challenge.userIdForSrp, 'utf8'),
          Buffer.from(secretBlock as string, 'base64'),
          Buffer.from(timestamp as string, 'utf8'),
        ]),
      )
      .digest();
    const presented = Buffer.from(signature as string, 'base64');
    const matches = presented.length === expected.length && timingSafeEqual(presented, expected);
    const user = challenge.username === undefined ? undefined : users.get(challenge.username);
    if (!matches || !user) throw new CognitoError('NotAuthorizedException', 'Incorrect username or password.');
    return signedIn(user);
  }

  function passwordAuth(parameters: Record<string, unknown>): unknown {
    const username = parameters.USERNAME;
    const password = parameters.PASSWORD;
    if (typeof username !== 'string' || username === '')
      throw new CognitoError('InvalidParameterException', 'Missing required parameter USERNAME');
    if (typeof password !== 'string' || password === '')
      throw new CognitoError('InvalidParameterException', 'Missing required parameter PASSWORD');
    const user = users.get(username);
    const matches = timingSafeEqual(digest(password), user?.passwordDigest ?? decoy);
    if (!user) {
      if (preventUserExistenceErrors) throw new CognitoError('NotAuthorizedException', 'Incorrect username or password.');
      throw new CognitoError('UserNotFoundException', 'User does not exist.');
    }
    if (!matches) throw new CognitoError('NotAuthorizedException', 'Incorrect username or password.');
    return signedIn(user);
  }

  function refresh(refreshToken: unknown): unknown {
    if (typeof refreshToken !== 'string' || refreshToken === '')
      throw new CognitoError('InvalidParameterException', 'Missing required parameter REFRESH_TOKEN');
    const session = byRefreshToken.get(digest(refreshToken).toString('hex'));
    if (!session || session.revoked) throw new CognitoError('NotAuthorizedException', 'Invalid Refresh Token');
    if (now() >= session.refreshExpiresAt) throw new CognitoError('NotAuthorizedException', 'Refresh Token has expired');
    const user = users.get(session.username);
    if (!user) throw new CognitoError('NotAuthorizedException', 'Invalid Refresh Token');
    return { ChallengeParameters: {}, AuthenticationResult: tokensFor(user, session.originJti) };
  }

  /** The access token's session, checked as Cognito checks it for its own APIs (revocation included). */
  async function accessSession(accessToken: unknown): Promise<{ user: DevUser; session: Session | undefined }> {
    if (typeof accessToken !== 'string' || accessToken === '')
      throw new CognitoError('InvalidParameterException', 'Missing required parameter AccessToken');
    let payload: Record<string, unknown>;
    try {
      payload = (await userPool.verify(accessToken)) as unknown as Record<string, unknown>;
    } catch (error) {
      const expired = error instanceof Error && /expired/i.test(error.message);
      throw new CognitoError('NotAuthorizedException', expired ? 'Access Token has expired' : 'Invalid Access Token');
    }
    if (payload.token_use !== 'access') throw new CognitoError('NotAuthorizedException', 'Invalid Access Token');
    const user = typeof payload.username === 'string' ? users.get(payload.username) : undefined;
    if (!user) throw new CognitoError('UserNotFoundException', 'User does not exist.');
    const session = typeof payload.origin_jti === 'string' ? sessions.get(payload.origin_jti) : undefined;
    if (session?.revoked) throw new CognitoError('NotAuthorizedException', 'Access Token has been revoked');
    return { user, session };
  }

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    InitiateAuth: (body) => {
      checkClient(body.ClientId);
      const parameters = body.AuthParameters;
      if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
        throw new CognitoError('InvalidParameterException', 'Missing required parameter AuthParameters');
      }
      const flow = body.AuthFlow;
      if (typeof flow !== 'string') throw new CognitoError('InvalidParameterException', 'Missing required parameter AuthFlow');
      const allowedAs = flow === 'REFRESH_TOKEN' ? 'REFRESH_TOKEN_AUTH' : flow;
      if (!authFlows.has(allowedAs)) {
        throw new CognitoError(
          'InvalidParameterException',
          `${flow} flow not enabled for this client (it allows ${[...authFlows].join(', ')})`,
        );
      }
      const authParameters = parameters as Record<string, unknown>;
      if (flow === 'USER_SRP_AUTH') return srpChallenge(authParameters);
      if (flow === 'USER_PASSWORD_AUTH') return passwordAuth(authParameters);
      if (flow === 'REFRESH_TOKEN_AUTH' || flow === 'REFRESH_TOKEN') return refresh(authParameters.REFRESH_TOKEN);
      throw new CognitoError(
        'InvalidParameterException',
        `${flow} flow not enabled for this client (it allows ${[...authFlows].join(', ')})`,
      );
    },
    RespondToAuthChallenge: (body) => {
      checkClient(body.ClientId);
      const responses = body.ChallengeResponses;
      if (typeof responses !== 'object' || responses === null || Array.isArray(responses)) {
        throw new CognitoError('InvalidParameterException', 'Missing required parameter ChallengeResponses');
      }
      if (body.ChallengeName !== 'PASSWORD_VERIFIER') {
        throw new CognitoError(
          'InvalidParameterException',
          `The local user pool answers only the PASSWORD_VERIFIER challenge, not ${String(body.ChallengeName)}`,
        );
      }
      return passwordVerifier(responses as Record<string, unknown>);
    },
    GetTokensFromRefreshToken: (body) => {
      checkClient(body.ClientId);
      const result = refresh(body.RefreshToken) as { AuthenticationResult: unknown };
      return { AuthenticationResult: result.AuthenticationResult };
    },
    GetUser: async (body) => {
      const { user } = await accessSession(body.AccessToken);
      const attributes: Array<{ Name: string; Value: string }> = [{ Name: 'sub', Value: user.sub ?? user.username }];
      if (user.email) attributes.push({ Name: 'email', Value: user.email }, { Name: 'email_verified', Value: 'true' });
      return { Username: user.username, UserAttributes: attributes };
    },
    RevokeToken: (body) => {
      checkClient(body.ClientId);
      if (typeof body.Token !== 'string' || body.Token === '')
        throw new CognitoError('InvalidParameterException', 'Missing required parameter Token');
      const session = byRefreshToken.get(digest(body.Token).toString('hex'));
      // Cognito answers an unknown or already revoked refresh token with success too.
      if (session) session.revoked = true;
      return {};
    },
    GlobalSignOut: async (body) => {
      const { user } = await accessSession(body.AccessToken);
      for (const session of sessions.values()) if (session.username === user.username) session.revoked = true;
      return {};
    },
  };

  return async (req, res, url) => {
    if (!paths.has(url.pathname)) return false;
    const requestId = randomUUID();
    const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED_HEADERS, 'x-amzn-requestid': requestId };

    if (req.method === 'OPTIONS') {
      req.resume();
      const requested = String(req.headers['access-control-request-headers'] ?? '');
      const echoed =
        requested.length <= MAX_REQUESTED_HEADERS_LENGTH
          ? requested
              .split(',')
              .map((name) => name.trim())
              .filter((name) => name !== '' && isHeaderToken(name))
          : [];
      res.writeHead(200, {
        ...cors,
        'access-control-allow-methods': 'POST',
        ...(echoed.length > 0 ? { 'access-control-allow-headers': echoed.join(',') } : {}),
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
        'content-length': '0',
      });
      res.end();
      return true;
    }

    const send = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { ...cors, ...extra, 'content-type': CONTENT_TYPE, 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    const fail = (error: CognitoError): void =>
      send(error.status, { __type: error.type, message: error.message }, { 'x-amzn-errortype': `${error.type}:` });

    try {
      if (req.method !== 'POST') {
        req.resume();
        res.setHeader('allow', 'POST, OPTIONS');
        throw new CognitoError('MethodNotAllowedException', `Use POST for the Cognito user pool API, not ${req.method}`, 405);
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
      const operation = Object.hasOwn(operations, name) ? operations[name] : undefined;
      if (!operation) {
        req.resume();
        throw new CognitoError(
          'UnknownOperationException',
          `Unknown or unsupported operation ${target || '(no X-Amz-Target)'}; the local user pool serves ${Object.keys(operations).join(', ')}`,
        );
      }
      if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
        res.setHeader('connection', 'close');
        throw new CognitoError('RequestEntityTooLargeException', `Request body exceeds ${MAX_BODY_BYTES} bytes`, 413);
      }
      const text = await readLimited(req, MAX_BODY_BYTES);
      if (text === undefined) {
        res.setHeader('connection', 'close');
        throw new CognitoError('RequestEntityTooLargeException', `Request body exceeds ${MAX_BODY_BYTES} bytes`, 413);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new CognitoError('SerializationException', 'The request body is not valid JSON');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new CognitoError('SerializationException', 'The request body must be a JSON object');
      send(200, await operation(body as Record<string, unknown>));
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return true;
      }
      if (error instanceof CognitoError) fail(error);
      else {
        console.error('[cognito] request failed', error);
        fail(new CognitoError('InternalErrorException', 'An internal error occurred', 500));
      }
    }
    return true;
  };
}

/** The body as UTF-8, or undefined once it passes `limit` bytes (the rest is then dropped unread). */
function readLimited(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: string | undefined): void => {
      if (done) return;
      done = true;
      resolve(value);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > limit) {
        chunks.length = 0;
        finish(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => finish(Buffer.concat(chunks).toString('utf8')));
    req.on('error', (error) => {
      if (!done) {
        done = true;
        reject(error);
      }
    });
    req.on('close', () => {
      if (!done) {
        done = true;
        reject(new Error('The request closed before its body was read'));
      }
    });
  });
}

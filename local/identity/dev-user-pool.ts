import { randomUUID, type KeyObject } from 'node:crypto';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { CognitoIdOrAccessTokenPayload } from 'aws-jwt-verify/jwt-model';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { loadOrCreateSigningKey, publicJwkOf, signJwt } from './signing-key.js';

/**
 * A development stand-in for a Cognito user pool's token issuer: it holds an
 * RSA key pair, publishes the JWKS and mints ID/access tokens with Cognito's
 * claims. Tokens are verified by aws-jwt-verify's CognitoJwtVerifier (the same
 * verifier used against a real pool), pre-loaded with this JWKS instead of
 * fetching it, so signature, issuer, token_use, expiry and client id are all
 * checked exactly as in AWS.
 */

export interface DevUserPoolOptions {
  /** Must look like a real pool id; the issuer is derived from it. */
  readonly userPoolId?: string;
  readonly clientId?: string;
  /** Keeps the signing key across restarts so minted tokens stay valid. */
  readonly keyFile?: string;
}

export interface MintOptions {
  readonly username: string;
  readonly sub?: string;
  readonly groups?: readonly string[];
  readonly email?: string;
  readonly tokenUse?: 'id' | 'access';
  readonly expiresInSeconds?: number;
  /** Claims to set or replace, e.g. a foreign `iss` or a `token_use` of "refresh", for negative tests. */
  readonly overrideClaims?: Readonly<Record<string, unknown>>;
}

const KEY_ID = 'local-dev-key';

export class DevUserPool {
  readonly userPoolId: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly jwks: Jwks;
  readonly #privateKey: KeyObject;
  readonly #verifier;

  constructor(options: DevUserPoolOptions = {}) {
    this.userPoolId = options.userPoolId ?? 'us-east-1_LocalDev';
    this.clientId = options.clientId ?? 'localdevclient';
    const region = this.userPoolId.split('_')[0];
    this.issuer = `https://cognito-idp.${region}.amazonaws.com/${this.userPoolId}`;
    this.#privateKey = loadOrCreateSigningKey(options.keyFile);
    this.jwks = { keys: [publicJwkOf(this.#privateKey, KEY_ID)] };
    this.#verifier = CognitoJwtVerifier.create({ userPoolId: this.userPoolId, tokenUse: null, clientId: this.clientId });
    this.#verifier.cacheJwks(this.jwks);
  }

  mint(options: MintOptions): string {
    const now = Math.floor(Date.now() / 1000);
    const tokenUse = options.tokenUse ?? 'id';
    const sub = options.sub ?? randomUUID();
    const common = {
      sub,
      iss: this.issuer,
      token_use: tokenUse,
      auth_time: now,
      iat: now,
      exp: now + (options.expiresInSeconds ?? 3600),
      jti: randomUUID(),
      event_id: randomUUID(),
      ...(options.groups && options.groups.length > 0 ? { 'cognito:groups': [...options.groups] } : {}),
    };
    const claims =
      tokenUse === 'id'
        ? {
            ...common,
            aud: this.clientId,
            'cognito:username': options.username,
            ...(options.email ? { email: options.email, email_verified: true } : {}),
          }
        : { ...common, client_id: this.clientId, username: options.username, scope: 'aws.cognito.signin.user.admin' };
    return signJwt(this.#privateKey, KEY_ID, { ...claims, ...options.overrideClaims });
  }

  /** Verifies like AppSync does for AMAZON_COGNITO_USER_POOLS; throws on any failed check. */
  async verify(
    token: string,
  ): Promise<CognitoIdOrAccessTokenPayload<{ tokenUse: null; clientId: string; userPoolId: string }, Record<string, never>>> {
    return this.#verifier.verify(token);
  }
}

import type { AppSyncIdentity, AppSyncIdentityOIDC } from 'aws-lambda';
import { JwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import type { ApiDeclaration, AuthMode, OpenIdConnectDeclaration } from '../../declarations/api.js';
import type { DevUserPool } from '../identity/dev-user-pool.js';
import { verifySigV4, type IamPrincipal, type SignedRequest } from '../identity/sigv4.js';
import type { GraphQLRequest } from './execute.js';
import { VerifiedTokens } from './verified-tokens.js';
import type { Caller } from './field-authorization.js';
import { graphQLRequestOfBody, type LambdaAuthorizer } from './lambda-authorizer.js';

export interface ApiKey {
  readonly id: string;
  /** Epoch seconds, as AppSync reports `expires`. */
  readonly expires: number;
}

export type Authentication =
  | { readonly ok: true; readonly caller: Caller; readonly identity: AppSyncIdentity }
  | { readonly ok: false; readonly message: string };

export type Headers = Readonly<Record<string, string | undefined>>;

/**
 * What `authenticate` may know about the request: what a SigV4 signature
 * covers (method, path, exact body), and optionally the parsed GraphQL request
 * a Lambda authorizer is told about. Without `graphql`, it is read from `body`.
 */
export interface AuthenticationRequest extends Omit<SignedRequest, 'headers'> {
  readonly graphql?: GraphQLRequest;
}

/** Three base64url segments: what AppSync hands to the user-pool (or OIDC) verifier rather than to a Lambda authorizer. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const bearerless = (header: string): string => header.replace(/^Bearer\s+/i, '');

const NOT_AUTHORIZED = 'You are not authorized to make this call.';

/**
 * The OpenID Connect provider of the OPENID_CONNECT mode, as AppSync knows
 * it: the issuer (undefined until it has an address, e.g. the local dev
 * issuer before the stack listens), the app's client id, and its keys.
 * local/identity/dev-oidc-issuer.ts's DevOidcIssuer fits.
 */
export interface OidcProvider {
  readonly issuer: string | undefined;
  readonly clientId: string;
  readonly jwks: Jwks;
}

/** The unverified `iss` and `kid` of a JWT-shaped token: only to pick the verifier, which then checks everything. */
function unverifiedIssuer(token: string): { iss: unknown; kid: unknown } | undefined {
  try {
    const { header, payload } = decomposeUnverifiedJwt(token);
    return { iss: payload.iss, kid: header.kid };
  } catch {
    return undefined;
  }
}

/**
 * Decides which of the API's modes a request uses and whether its credentials
 * hold. A request that fails here gets HTTP 401 before any resolver runs.
 * Modes this runtime cannot verify are refused, never waved through.
 */
export class RequestAuthenticator {
  readonly #modes: ReadonlySet<AuthMode>;
  readonly #apiKeys: ReadonlyMap<string, ApiKey>;
  readonly #userPool: DevUserPool | undefined;
  readonly #iamPrincipals: ReadonlyMap<string, IamPrincipal>;
  readonly #region: string;
  readonly #lambdaAuthorizer: LambdaAuthorizer | undefined;
  readonly #oidc: { readonly provider: OidcProvider; readonly declaration: OpenIdConnectDeclaration } | undefined;
  #oidcVerifier: { readonly issuer: string; readonly verifier: OidcVerifier } | undefined;
  /** JWTs that passed, with what they verified to, until their exp (or OIDC TTL) would refuse them. */
  readonly #verified = new VerifiedTokens<VerifiedJwt>();

  constructor(options: {
    api: ApiDeclaration;
    apiKeys: readonly ApiKey[];
    userPool?: DevUserPool;
    iamPrincipals?: readonly IamPrincipal[];
    region?: string;
    /** Serves AWS_LAMBDA when it is one of the API's modes; without it, such tokens are refused. */
    lambdaAuthorizer?: LambdaAuthorizer;
    /**
     * Serves OPENID_CONNECT when it is one of the API's modes: the provider and
     * the declared token lifetimes (`openIdConnectOf(api)`); without it, such tokens are refused.
     */
    oidc?: { readonly provider: OidcProvider; readonly declaration: OpenIdConnectDeclaration };
  }) {
    this.#modes = new Set([options.api.defaultAuthMode, ...options.api.additionalAuthModes]);
    this.#apiKeys = new Map(options.apiKeys.map((key) => [key.id, key]));
    this.#userPool = options.userPool;
    this.#iamPrincipals = new Map((options.iamPrincipals ?? []).map((p) => [p.accessKeyId, p]));
    this.#region = options.region ?? 'us-east-1';
    this.#lambdaAuthorizer = options.lambdaAuthorizer;
    this.#oidc = options.oidc;
  }

  /**
   * `request` is what a SigV4 signature covers (method, path, exact body); for
   * the real-time handshake AppSync signs `POST <endpoint>/connect` with `{}`.
   * An `Authorization` header that is neither SigV4 nor JWT-shaped goes to the
   * Lambda authorizer when AWS_LAMBDA is a mode (a JWT-shaped one too, when no
   * user-pool or OIDC mode could claim it).
   */
  async authenticate(headers: Headers, sourceIp: string, request?: AuthenticationRequest): Promise<Authentication> {
    const authorization = headers['authorization'];
    if (authorization?.startsWith('AWS4-HMAC-SHA256 ')) return this.#iam(headers, sourceIp, request);
    if (authorization && this.#forLambda(authorization)) return this.#lambda(authorization, headers, request);
    if (authorization) return this.#jwt(bearerless(authorization), sourceIp);
    const apiKey = headers['x-api-key'];
    if (apiKey !== undefined && this.#modes.has('API_KEY')) return this.#apiKey(apiKey);
    return { ok: false, message: NOT_AUTHORIZED };
  }

  #forLambda(authorization: string): boolean {
    if (!this.#modes.has('AWS_LAMBDA')) return false;
    const jwtModes = this.#modes.has('AMAZON_COGNITO_USER_POOLS') || this.#modes.has('OPENID_CONNECT');
    return !(jwtModes && JWT_SHAPE.test(bearerless(authorization)));
  }

  async #lambda(token: string, headers: Headers, request: AuthenticationRequest | undefined): Promise<Authentication> {
    if (!this.#lambdaAuthorizer) return { ok: false, message: NOT_AUTHORIZED };
    const graphql = request?.graphql ?? graphQLRequestOfBody(request?.body);
    const decision = await this.#lambdaAuthorizer.authorize(token, graphql, headers);
    if (!decision.ok) return { ok: false, message: NOT_AUTHORIZED };
    return { ok: true, caller: { mode: 'AWS_LAMBDA', groups: [], deniedFields: decision.deniedFields }, identity: decision.identity };
  }

  async #iam(headers: Headers, sourceIp: string, request: AuthenticationRequest | undefined): Promise<Authentication> {
    if (!this.#modes.has('AWS_IAM') || !request) return { ok: false, message: NOT_AUTHORIZED };
    const verified = await verifySigV4({ ...request, headers }, this.#iamPrincipals, { region: this.#region, service: 'appsync' });
    if (!verified.ok) return { ok: false, message: NOT_AUTHORIZED };
    const { principal } = verified;
    return {
      ok: true,
      caller: { mode: 'AWS_IAM', groups: [] },
      identity: {
        accountId: principal.accountId,
        cognitoIdentityPoolId: null as unknown as string,
        cognitoIdentityId: null as unknown as string,
        sourceIp: [sourceIp],
        username: principal.accessKeyId,
        userArn: principal.userArn,
        cognitoIdentityAuthType: null as unknown as string,
        cognitoIdentityAuthProvider: null as unknown as string,
      },
    };
  }

  #apiKey(id: string): Authentication {
    const key = this.#apiKeys.get(id);
    if (!key || key.expires * 1000 <= Date.now()) return { ok: false, message: NOT_AUTHORIZED };
    return { ok: true, caller: { mode: 'API_KEY', groups: [] }, identity: null };
  }

  /**
   * A JWT goes to the mode whose issuer its (unverified) `iss` names: the user
   * pool's, or the OIDC provider's. That only picks the verifier; the chosen
   * one checks signature, issuer and audience, so a token claiming the other
   * issuer fails there. A token of neither issuer is refused.
   */
  async #jwt(token: string, sourceIp: string): Promise<Authentication> {
    const verified = this.#verified.get(token);
    if (verified) return authenticationOf(verified, sourceIp);
    const unverified = unverifiedIssuer(token);
    if (!unverified || typeof unverified.iss !== 'string') return { ok: false, message: NOT_AUTHORIZED };
    if (this.#modes.has('AMAZON_COGNITO_USER_POOLS') && this.#userPool && unverified.iss === this.#userPool.issuer)
      return this.#userPoolToken(token, sourceIp);
    const provider = this.#oidc?.provider;
    if (this.#modes.has('OPENID_CONNECT') && provider?.issuer !== undefined && unverified.iss === provider.issuer) {
      // A key the provider never published is refused here, rather than sending the verifier off to fetch the JWKS again.
      if (!provider.jwks.keys.some((key) => key.kid === unverified.kid)) return { ok: false, message: NOT_AUTHORIZED };
      return this.#oidcToken(token);
    }
    return { ok: false, message: NOT_AUTHORIZED };
  }

  /**
   * AppSync's OPENID_CONNECT checks: the signature against the provider's
   * JWKS, `iss`, `aud` against the client id, `exp` (and `nbf`), then its own
   * freshness checks: no older than `iatTtlMs` since `iat`, nor `authTtlMs`
   * since the sign-in (`auth_time`; a token without one cannot prove it and is
   * refused).
   */
  async #oidcToken(token: string): Promise<Authentication> {
    const oidc = this.#oidc;
    if (!oidc) return { ok: false, message: NOT_AUTHORIZED };
    try {
      const payload = await this.#oidcVerifierFor(oidc.provider).verify(token);
      const now = Date.now();
      const { iat, auth_time: authTime, sub, iss } = payload;
      if (typeof iat !== 'number' || now - iat * 1000 > oidc.declaration.iatTtlMs) return { ok: false, message: NOT_AUTHORIZED };
      if (typeof authTime !== 'number' || now - authTime * 1000 > oidc.declaration.authTtlMs) return { ok: false, message: NOT_AUTHORIZED };
      if (typeof sub !== 'string' || sub === '' || typeof iss !== 'string') return { ok: false, message: NOT_AUTHORIZED };
      const verified: VerifiedJwt = { mode: 'OPENID_CONNECT', claims: payload, issuer: iss, sub };
      const validUntilMs = Math.min(
        typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY,
        iat * 1000 + oidc.declaration.iatTtlMs,
        authTime * 1000 + oidc.declaration.authTtlMs,
      );
      this.#verified.set(token, verified, validUntilMs, now);
      return authenticationOf(verified, '');
    } catch {
      return { ok: false, message: NOT_AUTHORIZED };
    }
  }

  /** aws-jwt-verify's generic verifier for the provider's issuer and client id, its JWKS pre-loaded (no network). */
  #oidcVerifierFor(provider: OidcProvider): OidcVerifier {
    const issuer = provider.issuer;
    if (issuer === undefined) throw new Error('The OIDC provider has no issuer yet');
    if (this.#oidcVerifier?.issuer !== issuer) {
      const verifier = JwtVerifier.create({ issuer, audience: provider.clientId, jwksUri: `${issuer}/.well-known/jwks.json` });
      verifier.cacheJwks(provider.jwks);
      this.#oidcVerifier = { issuer, verifier };
      // What another issuer vouched for no longer counts.
      this.#verified.clear();
    }
    return this.#oidcVerifier.verifier;
  }

  async #userPoolToken(token: string, sourceIp: string): Promise<Authentication> {
    if (!this.#userPool) return { ok: false, message: NOT_AUTHORIZED };
    try {
      const claims = await this.#userPool.verify(token);
      const verified: VerifiedJwt = { mode: 'AMAZON_COGNITO_USER_POOLS', claims };
      this.#verified.set(token, verified, claims.exp * 1000);
      return authenticationOf(verified, sourceIp);
    } catch {
      return { ok: false, message: NOT_AUTHORIZED };
    }
  }
}

type OidcVerifier = { verify(token: string): Promise<JwtPayload> };

type UserPoolClaims = Awaited<ReturnType<DevUserPool['verify']>>;

/** What a JWT verified to: enough to build each request's caller and identity. */
type VerifiedJwt =
  | { readonly mode: 'AMAZON_COGNITO_USER_POOLS'; readonly claims: UserPoolClaims }
  | { readonly mode: 'OPENID_CONNECT'; readonly claims: JwtPayload; readonly issuer: string; readonly sub: string };

/** The caller and identity of a verified JWT; the source IP is this request's (a user-pool identity carries it). */
function authenticationOf(verified: VerifiedJwt, sourceIp: string): Authentication {
  if (verified.mode === 'OPENID_CONNECT') {
    return {
      ok: true,
      caller: { mode: 'OPENID_CONNECT', groups: [] },
      identity: oidcIdentity(verified.claims, verified.issuer, verified.sub),
    };
  }
  const groups = (verified.claims['cognito:groups'] as string[] | undefined) ?? [];
  return { ok: true, caller: { mode: 'AMAZON_COGNITO_USER_POOLS', groups }, identity: userPoolIdentity(verified.claims, sourceIp) };
}

/**
 * AppSync's `identity` for a verified OIDC token (its resolver context
 * reference: `claims`, `issuer`, `sub`; no username, groups or source IP).
 */
export function oidcIdentity(claims: JwtPayload, issuer: string, sub: string): AppSyncIdentityOIDC {
  return { claims, issuer, sub };
}

/** AppSync's `identity` for a verified user-pool token: its claims, as a Lambda resolver receives them. */
export function userPoolIdentity(claims: UserPoolClaims, sourceIp: string): AppSyncIdentity {
  const groups = (claims['cognito:groups'] as string[] | undefined) ?? [];
  return {
    sub: claims.sub,
    issuer: claims.iss,
    username: String(claims['cognito:username'] ?? claims['username'] ?? claims.sub),
    claims,
    sourceIp: [sourceIp],
    defaultAuthStrategy: 'ALLOW',
    groups: groups.length > 0 ? groups : null,
  };
}

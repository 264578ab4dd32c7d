import { randomUUID, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { loadOrCreateSigningKey, publicJwkOf, signJwt } from './signing-key.js';

/**
 * A development stand-in for the company's OpenID Connect provider (Okta,
 * Entra ID, Auth0…), the issuer of the API's OPENID_CONNECT mode locally. It
 * holds an RSA key pair, mints ID tokens with the standard OIDC claims, and
 * publishes what AppSync reads of a real provider, under `<stack>/oidc`: the
 * discovery document (`/oidc/.well-known/openid-configuration`) and the JWKS
 * it points to. It has no sign-in of its own (no authorization endpoint):
 * `npm run token -- --oidc` mints a staff token from the key file.
 *
 * The issuer URL is the stack's own address, known only once it listens:
 * `publishAt` sets it, and nothing is minted or trusted before.
 * Verification is AppSync's job, not the issuer's: local/appsync/authentication.ts
 * checks tokens against `issuer`, `clientId` and `jwks`.
 */

export interface DevOidcIssuerOptions {
  /** The app registration staff tokens are issued to (their `aud`); `storefront-staff-local` when unset. */
  readonly clientId?: string;
  /** Keeps the signing key across restarts so minted tokens stay valid; a fresh key per start when unset. */
  readonly keyFile?: string;
}

export interface OidcMintOptions {
  /** The staff member's stable id at the provider (`sub`). */
  readonly subject: string;
  readonly email?: string;
  readonly name?: string;
  /** The provider's groups (`groups` claim); AppSync gives them no meaning, resolvers may read them. */
  readonly groups?: readonly string[];
  /** Lifetime from `iat`; one hour when unset. */
  readonly expiresInSeconds?: number;
  /** Epoch seconds of issue (`iat`); now when unset. */
  readonly issuedAt?: number;
  /** Epoch seconds of the sign-in at the provider (`auth_time`); the issue time when unset. */
  readonly authTime?: number;
  /** Claims to set, replace, or (with `undefined`) drop, e.g. a foreign `aud` for negative tests. */
  readonly overrideClaims?: Readonly<Record<string, unknown>>;
}

/** Where the issuer lives on the stack's HTTP endpoint. */
export const DEV_OIDC_ISSUER_PATH = '/oidc';
const DISCOVERY_PATH = `${DEV_OIDC_ISSUER_PATH}/.well-known/openid-configuration`;
const JWKS_PATH = `${DEV_OIDC_ISSUER_PATH}/.well-known/jwks.json`;
const KEY_ID = 'local-dev-oidc-key';

/** The issuer URL of a stack reachable at `baseUrl` (e.g. `http://127.0.0.1:4000` → `http://127.0.0.1:4000/oidc`). */
export function devOidcIssuerUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.pathname !== '/' || url.search || url.hash) throw new Error(`The stack's base URL is an origin only, not ${baseUrl}`);
  return `${url.origin}${DEV_OIDC_ISSUER_PATH}`;
}

export class DevOidcIssuer {
  readonly clientId: string;
  readonly jwks: Jwks;
  readonly #privateKey: KeyObject;
  #issuer: string | undefined;

  constructor(options: DevOidcIssuerOptions = {}) {
    this.clientId = options.clientId ?? 'storefront-staff-local';
    this.#privateKey = loadOrCreateSigningKey(options.keyFile);
    this.jwks = { keys: [publicJwkOf(this.#privateKey, KEY_ID)] };
  }

  /** Sets the issuer URL from the stack's base URL, once (a second, different one is a wiring mistake). */
  publishAt(baseUrl: string): this {
    const issuer = devOidcIssuerUrl(baseUrl);
    if (this.#issuer !== undefined && this.#issuer !== issuer)
      throw new Error(`The dev OIDC issuer is already published at ${this.#issuer}, not ${issuer}`);
    this.#issuer = issuer;
    return this;
  }

  /** The `iss` of its tokens; undefined until published. */
  get issuer(): string | undefined {
    return this.#issuer;
  }

  mint(options: OidcMintOptions): string {
    const issuer = this.#published();
    const now = Math.floor(Date.now() / 1000);
    const issuedAt = options.issuedAt ?? now;
    const claims: Record<string, unknown> = {
      iss: issuer,
      sub: options.subject,
      aud: this.clientId,
      iat: issuedAt,
      auth_time: options.authTime ?? issuedAt,
      exp: issuedAt + (options.expiresInSeconds ?? 3600),
      jti: randomUUID(),
      ...(options.email ? { email: options.email, email_verified: true } : {}),
      ...(options.name ? { name: options.name } : {}),
      ...(options.groups && options.groups.length > 0 ? { groups: [...options.groups] } : {}),
      ...options.overrideClaims,
    };
    return signJwt(this.#privateKey, KEY_ID, claims);
  }

  /**
   * The discovery document (OpenID Connect Discovery 1.0) as far as this
   * issuer goes: AppSync reads `issuer` (which must equal the tokens' `iss`)
   * and `jwks_uri`. No authorization or token endpoint: it signs in no one.
   */
  discoveryDocument(): Record<string, unknown> {
    const issuer = this.#published();
    return {
      issuer,
      jwks_uri: `${new URL(issuer).origin}${JWKS_PATH}`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['iss', 'sub', 'aud', 'iat', 'auth_time', 'exp', 'jti', 'email', 'email_verified', 'name', 'groups'],
    };
  }

  /**
   * Serves the discovery document and the JWKS (GET or HEAD): public, as a
   * real provider's are, so any origin may read them. True when handled.
   */
  routes = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (url.pathname !== DISCOVERY_PATH && url.pathname !== JWKS_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    if (this.#issuer === undefined) {
      res.writeHead(503, { 'retry-after': '1' }).end();
      return true;
    }
    const body = JSON.stringify(url.pathname === JWKS_PATH ? this.jwks : this.discoveryDocument());
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };

  #published(): string {
    if (this.#issuer === undefined) throw new Error('The dev OIDC issuer has no URL yet: publishAt(<stack URL>) first');
    return this.#issuer;
  }
}

import { randomBytes } from 'node:crypto';
import { api } from '../../declarations/api.js';
import { issuePartnerToken, type PartnerCredentials } from '../../lib/partner-tokens.js';
import type { ApiKey } from '../appsync/authentication.js';
import { DevOidcIssuer } from './dev-oidc-issuer.js';
import { DevUserPool } from './dev-user-pool.js';
import type { IamPrincipal } from './sigv4.js';

/**
 * Every credential the local stack hands out, minted in one place: the API
 * key (with the declared expiry), the dev user pool's and the dev OIDC
 * issuer's signing keys, the IAM
 * principal trusted for SigV4, the one partner the Lambda authorizer admits,
 * and the secret that gates the dev token endpoint. Fresh on every start
 * unless fixed by the caller (`npm run dev` takes them from the environment).
 */

export interface LocalCredentialOptions {
  /** Fixed API key (e.g. from APPSYNC_API_KEY); a fresh `da2-` key otherwise. */
  readonly apiKey?: string;
  /** Signing key file of the dev user pool; a fresh key per start when unset. */
  readonly userPoolKeyFile?: string;
  /** Signing key file of the dev OIDC issuer (staff tokens); a fresh key per start when unset. */
  readonly oidcIssuerKeyFile?: string;
  /** The IAM principal trusted for AWS_IAM (SigV4) requests; a fresh key pair when unset. */
  readonly iamPrincipal?: IamPrincipal;
  /** The one partner the Lambda authorizer admits; a fresh secret when unset. */
  readonly partner?: { readonly partnerId: string; readonly secret?: string };
  /** The secret POST /dev/token requires; a fresh one when unset. */
  readonly devSecret?: string;
}

export interface LocalCredentials {
  readonly apiKey: string;
  /** The API's keys with their expiry, as the authenticator checks them. */
  readonly apiKeys: readonly ApiKey[];
  readonly userPool: DevUserPool;
  /** Not yet published: the stack gives it its URL once it listens (`publishAt`). */
  readonly oidcIssuer: DevOidcIssuer;
  readonly iamPrincipal: IamPrincipal;
  readonly partner: PartnerCredentials;
  readonly devSecret: string;
}

/** The local account; AppSync field ARNs and authorizer events carry it. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** AppSync API keys look like `da2-` followed by 26 lowercase letters and digits. */
export function newApiKey(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `da2-${[...randomBytes(26)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

export function localCredentials(options: LocalCredentialOptions = {}, now = Date.now()): LocalCredentials {
  const apiKey = options.apiKey ?? newApiKey();
  return {
    apiKey,
    apiKeys: [{ id: apiKey, expires: Math.floor(now / 1000) + api.apiKeyTtlDays * 86_400 }],
    userPool: new DevUserPool({ keyFile: options.userPoolKeyFile }),
    oidcIssuer: new DevOidcIssuer({ keyFile: options.oidcIssuerKeyFile }),
    iamPrincipal: options.iamPrincipal ?? {
      accessKeyId: `AKIALOCAL${randomBytes(6).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64url'),
      accountId: LOCAL_ACCOUNT_ID,
      userArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/local-backend`,
    },
    partner: issuePartnerToken(options.partner?.partnerId ?? 'local-partner', options.partner?.secret),
    devSecret: options.devSecret ?? randomBytes(24).toString('base64url'),
  };
}

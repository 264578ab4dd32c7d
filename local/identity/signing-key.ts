import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Jwk } from 'aws-jwt-verify/jwk';

/**
 * The RSA key a local token issuer signs with (the dev user pool, the dev OIDC
 * issuer): read from `keyFile` when it exists, else generated, and saved there
 * (owner-only) when a file is given, so that tokens minted before a restart
 * still verify after it.
 */
export function loadOrCreateSigningKey(keyFile: string | undefined): KeyObject {
  if (keyFile && existsSync(keyFile)) return createPrivateKey(readFileSync(keyFile));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (keyFile) {
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  return privateKey;
}

/** The public half of `privateKey` as the JWKS entry verifiers look up by `kid`. */
export function publicJwkOf(privateKey: KeyObject, kid: string): Jwk {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { kty: 'RSA', n: String(jwk.n), e: String(jwk.e), kid, alg: 'RS256', use: 'sig' };
}

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An RS256 JWT of `claims`, signed with `privateKey` under `kid`. */
export function signJwt(privateKey: KeyObject, kid: string, claims: Readonly<Record<string, unknown>>): string {
  const signingInput = `${base64url({ alg: 'RS256', kid, typ: 'JWT' })}.${base64url(claims)}`;
  return `${signingInput}.${sign('RSA-SHA256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
}

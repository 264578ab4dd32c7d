import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { PARTNER_ID, PARTNER_TOKEN_EXPRESSION, SECRET } from '../declarations/partner-token-format.js';

export { PARTNER_TOKEN_EXPRESSION };

/**
 * Partner integration tokens: `partner-<id>.<secret>`, sent as the
 * Authorization header (optionally `Bearer `-prefixed) and checked by the
 * AWS_LAMBDA authorizer. Only SHA-256 hashes of the secrets are ever
 * configured (PARTNER_TOKENS_SHA256 = `id:sha256hex,…`), so configuration,
 * Terraform state and logs never hold a usable token. Secrets are at least
 * 32 base64url characters (≥ 192 bits), so a fast hash is enough: there is
 * nothing to brute-force, unlike a password.
 *
 * The module uses node:crypto only: it is bundled into the authorizer, whose
 * cold start sits on the path of every uncached partner request.
 */

const TOKEN = new RegExp(`^(?:Bearer )?partner-(${PARTNER_ID})\\.(${SECRET})$`);
const HASH_ENTRY = new RegExp(`^(${PARTNER_ID}):([0-9a-f]{64})$`);

export interface PartnerToken {
  readonly partnerId: string;
  readonly secret: string;
}

export function parsePartnerToken(authorizationToken: string): PartnerToken | undefined {
  const match = TOKEN.exec(authorizationToken);
  return match ? { partnerId: match[1] as string, secret: match[2] as string } : undefined;
}

export function secretSha256(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Parses `id:sha256hex` pairs, comma-separated. Unset or blank means no
 * partners (every token is refused). A malformed entry throws: a typo in the
 * configuration must fail loudly at init rather than silently lock a partner out.
 */
export function parsePartnerHashes(value: string | undefined): ReadonlyMap<string, Buffer> {
  const partners = new Map<string, Buffer>();
  for (const entry of (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)) {
    const match = HASH_ENTRY.exec(entry);
    if (!match) throw new Error(`PARTNER_TOKENS_SHA256: "${entry.slice(0, 40)}" is not an id:sha256hex pair`);
    const [, partnerId, hash] = match as unknown as [string, string, string];
    if (partners.has(partnerId)) throw new Error(`PARTNER_TOKENS_SHA256: partner ${partnerId} is listed twice`);
    partners.set(partnerId, Buffer.from(hash, 'hex'));
  }
  return partners;
}

/** The partner id a token proves, or undefined. The hash comparison takes the same time whatever the secret. */
export function verifyPartnerToken(authorizationToken: string, partners: ReadonlyMap<string, Buffer>): string | undefined {
  const token = parsePartnerToken(authorizationToken);
  if (!token) return undefined;
  const expected = partners.get(token.partnerId);
  if (!expected) return undefined;
  const presented = createHash('sha256').update(token.secret, 'utf8').digest();
  return timingSafeEqual(presented, expected) ? token.partnerId : undefined;
}

export interface PartnerCredentials {
  readonly partnerId: string;
  /** What the partner sends as its Authorization header. */
  readonly token: string;
  /** Its PARTNER_TOKENS_SHA256 entry. */
  readonly hashEntry: string;
}

/** Issues a token for a partner: a fresh random secret unless one is given (e.g. a fixed local one). */
export function issuePartnerToken(partnerId: string, secret = randomBytes(32).toString('base64url')): PartnerCredentials {
  const token = `partner-${partnerId}.${secret}`;
  if (!parsePartnerToken(token)) {
    throw new Error(`partner id must match ${PARTNER_ID} and the secret ${SECRET}`);
  }
  return { partnerId, token, hashEntry: `${partnerId}:${secretSha256(secret)}` };
}

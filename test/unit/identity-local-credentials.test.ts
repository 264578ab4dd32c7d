/** local/identity/local-credentials.ts: what the local stack hands out, minted in one place. */
import { describe, expect, it } from 'vitest';
import { api } from '../../declarations/api.js';
import { localCredentials, newApiKey } from '../../local/identity/local-credentials.js';
import { parsePartnerHashes, verifyPartnerToken } from '../../lib/partner-tokens.js';

describe('localCredentials', () => {
  it("mints fresh credentials in AppSync's shapes, the API key expiring after the declared TTL", () => {
    const now = Date.UTC(2026, 10, 29);
    const a = localCredentials({}, now);
    const b = localCredentials({}, now);
    expect(a.apiKey).toMatch(/^da2-[a-z0-9]{26}$/);
    expect(a.apiKey).not.toBe(b.apiKey);
    expect(a.apiKeys).toEqual([{ id: a.apiKey, expires: now / 1000 + api.apiKeyTtlDays * 86_400 }]);
    expect(a.iamPrincipal.accessKeyId).toMatch(/^AKIALOCAL[0-9A-F]{12}$/);
    expect(a.devSecret).not.toBe(b.devSecret);
    // The partner's token verifies against the hash entry the authorizer is configured with.
    expect(verifyPartnerToken(a.partner.token, parsePartnerHashes(a.partner.hashEntry))).toBe('local-partner');
    expect(verifyPartnerToken(b.partner.token, parsePartnerHashes(a.partner.hashEntry))).toBeUndefined();
  });

  it('keeps what the caller fixes', () => {
    const fixed = localCredentials({
      apiKey: 'da2-fixedfixedfixedfixedfixedfi',
      devSecret: 'secret',
      partner: { partnerId: 'acme', secret: 'x'.repeat(40) },
    });
    expect(fixed.apiKey).toBe('da2-fixedfixedfixedfixedfixedfi');
    expect(fixed.devSecret).toBe('secret');
    expect(fixed.partner.token).toBe(`partner-acme.${'x'.repeat(40)}`);
    expect(newApiKey()).toMatch(/^da2-/);
  });
});

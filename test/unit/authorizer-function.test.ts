import { Logger } from '@aws-lambda-powertools/logger';
import type { AppSyncAuthorizerEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { api } from '../../declarations/api.js';
import { issuePartnerToken, parsePartnerHashes, PARTNER_TOKEN_EXPRESSION } from '../../lib/partner-tokens.js';
import { createPartnerAuthorizer, handler, PARTNER_DENIED_FIELDS } from '../../resolvers/authorizer/index.js';

const silent = new Logger({ serviceName: 'authorizer-test', logLevel: 'SILENT' });
const acme = issuePartnerToken('acme');
const globex = issuePartnerToken('globex');
const authorize = createPartnerAuthorizer(`${acme.hashEntry}, ${globex.hashEntry}`, silent);

const event = (authorizationToken: string): AppSyncAuthorizerEvent => ({
  authorizationToken,
  requestContext: {
    apiId: 'api1',
    accountId: '111122223333',
    requestId: 'r1',
    queryString: '{ products(category: "books") { items { id } } }',
    variables: {},
  },
  requestHeaders: { authorization: authorizationToken },
});

const refused = { isAuthorized: false, ttlOverride: 0 };

describe('partner authorizer (AWS_LAMBDA handler)', () => {
  it('admits a known partner: its id as resolverContext, stock levels denied, the API TTL kept', async () => {
    const result = await authorize(event(acme.token));
    expect(result).toEqual({ isAuthorized: true, resolverContext: { partnerId: 'acme' }, deniedFields: ['Product.stock'] });
    expect(result.ttlOverride).toBeUndefined();
    expect(await authorize(event(`Bearer ${globex.token}`))).toMatchObject({
      isAuthorized: true,
      resolverContext: { partnerId: 'globex' },
    });
    expect(PARTNER_DENIED_FIELDS).toEqual(['Product.stock']);
  });

  it("refuses a wrong secret, even one that is another partner's, without caching the refusal", async () => {
    const wrongSecret = issuePartnerToken('acme').token;
    expect(await authorize(event(wrongSecret))).toEqual(refused);
    const globexSecret = globex.token.slice(globex.token.indexOf('.') + 1);
    expect(await authorize(event(`partner-acme.${globexSecret}`))).toEqual(refused);
  });

  it('refuses an unknown partner', async () => {
    expect(await authorize(event(issuePartnerToken('initech').token))).toEqual(refused);
  });

  it('refuses malformed tokens', async () => {
    const secret = acme.token.slice(acme.token.indexOf('.') + 1);
    for (const token of [
      '',
      'partner-acme',
      `partner-acme.${secret.slice(0, 10)}`, // secret too short
      `partner-ACME.${secret}`, // ids are lower case
      `acme.${secret}`,
      `Basic ${secret}`,
      `${acme.token}.extra`,
      `Bearer  ${acme.token}`, // one space only, as AppSync's expression says
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
    ]) {
      expect(await authorize(event(token)), token).toEqual(refused);
    }
    // A Lambda payload is JSON: a missing token must be refused, not crash the handler.
    expect(await authorize({ ...event(''), authorizationToken: undefined as unknown as string })).toEqual(refused);
  });

  it('admits nobody when PARTNER_TOKENS_SHA256 is empty or unset (as the handler module is, in this process)', async () => {
    expect(await createPartnerAuthorizer('', silent)(event(acme.token))).toEqual(refused);
    expect(await createPartnerAuthorizer(undefined, silent)(event(acme.token))).toEqual(refused);
    expect(await handler(event(acme.token), {} as Context, () => undefined)).toEqual(refused);
  });

  it('fails at init on a malformed partner list rather than locking partners out silently', () => {
    expect(() => createPartnerAuthorizer('acme:not-a-hash', silent)).toThrow(/not an id:sha256hex pair/);
    expect(() => createPartnerAuthorizer(`${acme.hashEntry},${acme.hashEntry}`, silent)).toThrow(/listed twice/);
    expect(parsePartnerHashes(' , ').size).toBe(0);
  });

  it('agrees with the identityValidationExpression AppSync applies before invoking it', () => {
    expect(api.lambdaAuthorizer.identityValidationExpression).toBe(PARTNER_TOKEN_EXPRESSION);
    const expression = new RegExp(PARTNER_TOKEN_EXPRESSION);
    expect(expression.test(acme.token)).toBe(true);
    expect(expression.test(`Bearer ${acme.token}`)).toBe(true);
    expect(expression.test('partner-acme')).toBe(false);
    expect(expression.test('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).toBe(false);
    expect(() => issuePartnerToken('Not An Id')).toThrow(/partner id/);
  });
});

import { Logger } from '@aws-lambda-powertools/logger';
import type { AppSyncAuthorizerEvent, AppSyncAuthorizerHandler, AppSyncAuthorizerResult } from 'aws-lambda';
import { parsePartnerHashes, parsePartnerToken, verifyPartnerToken } from '../../lib/partner-tokens.js';
import type { FieldCoordinate } from '../../declarations/functions.js';

/**
 * The API's AWS_LAMBDA authorizer: partner integrations present
 * `partner-<id>.<secret>` (lib/partner-tokens.ts) and are let in when the
 * secret's SHA-256 matches their entry in PARTNER_TOKENS_SHA256.
 *
 * What a partner may reach is the schema's @aws_lambda types and fields (the
 * catalog: products, reviews, ratings); on top of that, `deniedFields` hides
 * stock levels, which are commercially sensitive and which partners have no
 * business reading. Denied fields resolve to null with an Unauthorized error,
 * so they must be nullable in the schema.
 */

/** What resolvers see as `identity.resolverContext`. */
export interface PartnerContext {
  readonly partnerId: string;
}

/** Typed against the schema's fields: renaming one fails `tsc` here rather than silently un-denying it. */
export const PARTNER_DENIED_FIELDS = ['Product.stock'] as const satisfies readonly FieldCoordinate[];

/**
 * Refusals are not cached (`ttlOverride: 0`): a partner onboarded or given a
 * new secret gets in at once, rather than after a cached refusal expires.
 * Grants keep the API's TTL (declarations/api.ts), so removing a partner takes effect
 * within that time.
 */
const REFUSED: AppSyncAuthorizerResult<PartnerContext> = { isAuthorized: false, ttlOverride: 0 };

export type PartnerAuthorizer = (event: AppSyncAuthorizerEvent) => Promise<AppSyncAuthorizerResult<PartnerContext>>;

/** Builds the decision function once per execution environment: the partner list is parsed at init. */
export function createPartnerAuthorizer(
  partnerTokensSha256: string | undefined,
  logger = new Logger({ serviceName: 'authorizer' }),
): PartnerAuthorizer {
  const partners = parsePartnerHashes(partnerTokensSha256);
  return async (event) => {
    const token = typeof event.authorizationToken === 'string' ? event.authorizationToken : '';
    const partnerId = verifyPartnerToken(token, partners);
    if (!partnerId) {
      // Never log the token itself; the claimed partner id is enough to investigate.
      logger.warn('Partner token refused', {
        claimedPartnerId: parsePartnerToken(token)?.partnerId ?? null,
        requestId: event.requestContext?.requestId,
      });
      return REFUSED;
    }
    return { isAuthorized: true, resolverContext: { partnerId }, deniedFields: [...PARTNER_DENIED_FIELDS] };
  };
}

// A malformed PARTNER_TOKENS_SHA256 throws here, at init: every invocation then
// fails and AppSync answers 401, with the cause in the function's log.
const authorize = createPartnerAuthorizer(process.env.PARTNER_TOKENS_SHA256);

export const handler: AppSyncAuthorizerHandler<PartnerContext> = (event) => authorize(event);

/**
 * The shape of a partner integration token, `partner-<id>.<secret>`: part of
 * the API's declaration (AppSync's `identityValidationExpression` for the
 * AWS_LAMBDA mode, in ./api.ts) and of the authorizer's parsing
 * (lib/partner-tokens.ts), so both read it from here.
 */

export const PARTNER_ID = '[a-z0-9][a-z0-9-]{0,31}';
export const SECRET = '[A-Za-z0-9_-]{32,128}';

/**
 * The token's shape as a regular expression, for AppSync's
 * `identityValidationExpression`: AppSync refuses anything else with 401
 * without invoking (and paying for) the authorizer. Anchored explicitly, so it
 * means the same whether the matcher searches or matches the whole token.
 */
export const PARTNER_TOKEN_EXPRESSION = `^(Bearer )?partner-${PARTNER_ID}\\.${SECRET}$`;

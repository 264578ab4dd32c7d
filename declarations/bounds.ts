/**
 * Every bound the resolvers enforce, in one place. Validation (lib/validation.ts),
 * the resolvers' checks and their DynamoDB condition expressions all read these,
 * so a limit cannot be tightened in one path and forgotten in another.
 *
 * Two kinds of limit meet here: what the API promises (GraphQL `Int` is 32-bit
 * signed, so any number a field returns must fit it, or every later read of
 * the item fails) and what DynamoDB accepts (key sizes, item size). The domain
 * bounds are chosen so that whatever they admit also fits both; the unit tests
 * (test/unit/bounds.test.ts) check those inequalities.
 */

/** GraphQL `Int`: 32-bit signed. A stored number above this breaks every query that returns it. */
export const GRAPHQL_INT_MAX = 2 ** 31 - 1;
export const GRAPHQL_INT_MIN = -(2 ** 31);

// --- Catalog -------------------------------------------------------------

/** Highest unit price, in cents (one million in the currency's major unit). */
export const MAX_PRICE_CENTS = 100_000_000;
/** Highest stock level of a product; `Product.stock` must stay a GraphQL Int. */
export const MAX_STOCK = 1_000_000_000;

export const MAX_SKU_LENGTH = 64;
export const MAX_NAME_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 5000;
/** Categories are index partition keys (byCategory) and cache key parts. */
export const MAX_CATEGORY_LENGTH = 64;

// --- Orders --------------------------------------------------------------

/** An order holds at most 100 lines; lines may repeat a product. */
export const MAX_ORDER_LINES = 100;
/** TransactWriteItems takes at most 100 actions: the order put plus one stock update per distinct product. */
export const MAX_DISTINCT_PRODUCTS = 99;
/** Most units of a product per order line. */
export const MAX_QUANTITY = 1000;
/**
 * Highest order total, in cents. `Order.totalCents` is an Int, so this is the
 * binding limit: 100 lines × 1000 units × MAX_PRICE_CENTS would be 1e13.
 */
export const MAX_ORDER_TOTAL_CENTS = GRAPHQL_INT_MAX;
/** RFC 5321's limit on a forward path; AWSEmail alone lets a 900 KB address through. */
export const MAX_EMAIL_LENGTH = 254;
/** Idempotency keys chosen by the client. */
export const CLIENT_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_CLIENT_TOKEN_LENGTH = 64;

// --- Reviews -------------------------------------------------------------

export const MIN_RATING = 1;
export const MAX_RATING = 5;
export const MAX_REVIEW_TITLE_LENGTH = 200;
export const MAX_REVIEW_BODY_LENGTH = 5000;
/** `RatingSummary.count` is an Int; the stream function stops counting below it. */
export const MAX_RATING_COUNT = GRAPHQL_INT_MAX;

// --- Ids, keys and pages -------------------------------------------------

/** DynamoDB's own key limits (UTF-8 bytes): the API's bounds must stay under them. */
export const DYNAMODB_PARTITION_KEY_MAX_BYTES = 2048;
export const DYNAMODB_SORT_KEY_MAX_BYTES = 1024;
/** DynamoDB's item size limit. */
export const DYNAMODB_ITEM_MAX_BYTES = 400 * 1024;

/**
 * Longest id the API accepts as an argument, in UTF-8 bytes. Ids are issued
 * by the API (UUIDs, 32-hex order ids, `<timestamp>#<8 hex>` review ids) or
 * seeded (`sample-00001`); 128 bytes leaves room and keeps every id far from
 * DynamoDB's key limits and cheap to echo back in an error.
 */
export const MAX_ID_BYTES = 128;

/**
 * Longest value of one key attribute inside a `nextToken`. Tokens carry
 * LastEvaluatedKeys (ids, categories, customer subs, timestamps): the sort
 * key limit is the smaller of DynamoDB's two.
 */
export const MAX_TOKEN_KEY_BYTES = DYNAMODB_SORT_KEY_MAX_BYTES;
/** Longest `nextToken` accepted: three such attributes, JSON-encoded, base64url (4/3). */
export const MAX_NEXT_TOKEN_LENGTH = 8192;

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

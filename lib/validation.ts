import {
  CLIENT_TOKEN_PATTERN,
  DEFAULT_PAGE_SIZE,
  MAX_CATEGORY_LENGTH,
  MAX_CLIENT_TOKEN_LENGTH,
  MAX_EMAIL_LENGTH,
  MAX_ID_BYTES,
  MAX_ORDER_TOTAL_CENTS,
  MAX_PAGE_SIZE,
} from '../declarations/bounds.js';
import { validationError } from './errors.js';

/**
 * Input checks that run before any AWS call. Each throws a ValidationError
 * that names the offending argument, so a client can point at it; none
 * echoes a rejected string back (it may be hundreds of kilobytes).
 */

// Re-exported for callers that size pages (cost/workload.ts); the bounds live in declarations/bounds.ts.
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE };

/** A lone UTF-16 surrogate has no UTF-8 encoding: DynamoDB and JSON consumers would mangle or refuse it. */
const LONE_SURROGATE = /\p{Cs}/u;
/** Control characters have no place in an identifier or a category (they are cache key parts, too). */
const CONTROL = /\p{Cc}/u;

export function requireInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw validationError(`${name} must be an integer between ${min} and ${max}`, { field: name, value });
  }
  return value;
}

export function requireText(name: string, value: string, maxLength: number, minLength = 1): string {
  const trimmed = typeof value === 'string' ? value.trim() : '';
  if (typeof value !== 'string' || trimmed.length < minLength || trimmed.length > maxLength || LONE_SURROGATE.test(trimmed)) {
    throw validationError(`${name} must be ${minLength} to ${maxLength} characters`, { field: name });
  }
  return trimmed;
}

export function optionalText(name: string, value: string | null | undefined, maxLength: number): string | null {
  if (value === null || value === undefined) return null;
  return requireText(name, value, maxLength, 0) || null;
}

export function requireToken(name: string, value: string): string {
  if (typeof value !== 'string' || !CLIENT_TOKEN_PATTERN.test(value)) {
    throw validationError(`${name} must be 1 to ${MAX_CLIENT_TOKEN_LENGTH} characters of A-Z, a-z, 0-9, '_' or '-'`, { field: name });
  }
  return value;
}

/**
 * Every id argument (product, order, review ids, order lines' productId):
 * 1 to MAX_ID_BYTES UTF-8 bytes, no control characters, well-formed
 * Unicode. An id that passes is safe to use as a DynamoDB key and a cache key
 * part; whether it exists is the resolver's question (null or NotFound).
 */
export function isId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    // Every UTF-16 unit takes at least one UTF-8 byte: a longer string cannot fit, so skip encoding it.
    value.length <= MAX_ID_BYTES &&
    Buffer.byteLength(value, 'utf8') <= MAX_ID_BYTES &&
    !CONTROL.test(value) &&
    !LONE_SURROGATE.test(value)
  );
}

export function requireId(name: string, value: string): string {
  if (!isId(value)) {
    throw validationError(`${name} must be an id of 1 to ${MAX_ID_BYTES} bytes without control characters`, { field: name });
  }
  return value;
}

/**
 * A category, as stored (trimmed) and as queried: it is the byCategory index's
 * partition key and part of the page cache's keys.
 */
export function requireCategory(name: string, value: string): string {
  const category = requireText(name, value, MAX_CATEGORY_LENGTH);
  if (CONTROL.test(category)) throw validationError(`${name} must not contain control characters`, { field: name });
  return category;
}

/** The schema's AWSEmail checks the form, not the length; the order item must stay small. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function optionalEmail(name: string, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || value.length > MAX_EMAIL_LENGTH || !EMAIL.test(value)) {
    throw validationError(`${name} must be an email address of at most ${MAX_EMAIL_LENGTH} characters`, { field: name });
  }
  return value;
}

/**
 * The order total, refused above MAX_ORDER_TOTAL_CENTS before anything is
 * written: `Order.totalCents` is a GraphQL Int, and a stored order beyond it
 * would fail every later read of it (the placement's answer, `order`,
 * `myOrders`, replays of its clientToken). placeOrder's transaction pins each
 * price it read (`priceCents = :price`), so the total cannot move after this.
 */
export function orderTotal(lines: ReadonlyArray<{ readonly quantity: number; readonly unitPriceCents: number }>): number {
  // Within the order bounds at most 100 × 1000 × 1e8 = 1e13: exact in a double, and so is the comparison.
  const total = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  if (!Number.isSafeInteger(total) || total > MAX_ORDER_TOTAL_CENTS) {
    throw validationError(`The order total would be ${total} cents; an order may total at most ${MAX_ORDER_TOTAL_CENTS}`, {
      field: 'items',
      totalCents: total,
      maxTotalCents: MAX_ORDER_TOTAL_CENTS,
    });
  }
  return total;
}

export function pageSize(limit: number | null | undefined): number {
  if (limit === null || limit === undefined) return DEFAULT_PAGE_SIZE;
  return requireInt('limit', limit, 1, MAX_PAGE_SIZE);
}

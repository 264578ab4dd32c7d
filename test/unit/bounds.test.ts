import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as bounds from '../../declarations/bounds.js';
import { DomainError } from '../../lib/errors.js';
import { decodeNextToken, encodeNextToken } from '../../lib/pagination.js';
import { isId, optionalEmail, orderTotal, requireCategory, requireId, requireText } from '../../lib/validation.js';

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Runs `work` and returns the DomainError it throws (failing if it throws anything else or nothing). */
function domainErrorOf(work: () => unknown): DomainError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError');
}

describe('bounds fit the API and DynamoDB', () => {
  it('keeps every number a field returns within GraphQL Int', () => {
    expect(bounds.GRAPHQL_INT_MAX).toBe(2_147_483_647);
    expect(bounds.MAX_PRICE_CENTS).toBeLessThanOrEqual(bounds.GRAPHQL_INT_MAX);
    expect(bounds.MAX_STOCK).toBeLessThanOrEqual(bounds.GRAPHQL_INT_MAX);
    expect(bounds.MAX_ORDER_TOTAL_CENTS).toBeLessThanOrEqual(bounds.GRAPHQL_INT_MAX);
    expect(bounds.MAX_RATING_COUNT).toBeLessThanOrEqual(bounds.GRAPHQL_INT_MAX);
  });

  it('lets every intermediate sum be computed exactly', () => {
    // The largest order total before it is refused, and the largest rating total.
    expect(bounds.MAX_ORDER_LINES * bounds.MAX_QUANTITY * bounds.MAX_PRICE_CENTS).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    expect(bounds.MAX_RATING_COUNT * bounds.MAX_RATING).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    // A whole order of one product can never ask for more than a product may hold.
    expect(bounds.MAX_ORDER_LINES * bounds.MAX_QUANTITY).toBeLessThanOrEqual(bounds.MAX_STOCK);
  });

  it('keeps a placement within one transaction', () => {
    expect(bounds.MAX_DISTINCT_PRODUCTS + 1).toBeLessThanOrEqual(100);
    expect(bounds.MAX_DISTINCT_PRODUCTS).toBeLessThanOrEqual(bounds.MAX_ORDER_LINES);
  });

  it('keeps ids, categories and token attributes under DynamoDB key limits', () => {
    expect(bounds.MAX_ID_BYTES).toBeLessThanOrEqual(bounds.DYNAMODB_SORT_KEY_MAX_BYTES);
    // Four UTF-8 bytes per character at worst (a surrogate pair is two of the 64 units, so less).
    expect(bounds.MAX_CATEGORY_LENGTH * 4).toBeLessThanOrEqual(bounds.DYNAMODB_PARTITION_KEY_MAX_BYTES);
    expect(bounds.MAX_TOKEN_KEY_BYTES).toBeLessThanOrEqual(bounds.DYNAMODB_SORT_KEY_MAX_BYTES);
  });

  it('keeps the largest order and product items far below DynamoDB item size', () => {
    const id = 'x'.repeat(bounds.MAX_ID_BYTES);
    const order = {
      id: 'f'.repeat(32),
      customerId: id,
      status: 'CANCELLED',
      items: Array.from({ length: bounds.MAX_ORDER_LINES }, () => ({
        productId: id,
        quantity: bounds.MAX_QUANTITY,
        unitPriceCents: bounds.MAX_PRICE_CENTS,
      })),
      totalCents: bounds.MAX_ORDER_TOTAL_CENTS,
      currency: 'USD',
      clientToken: 'x'.repeat(bounds.MAX_CLIENT_TOKEN_LENGTH),
      contactEmail: 'x'.repeat(bounds.MAX_EMAIL_LENGTH),
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    expect(utf8(JSON.stringify(order))).toBeLessThan(bounds.DYNAMODB_ITEM_MAX_BYTES / 4);
    // Three UTF-8 bytes per UTF-16 unit at worst.
    const textBytes = 3 * (bounds.MAX_SKU_LENGTH + bounds.MAX_NAME_LENGTH + bounds.MAX_DESCRIPTION_LENGTH + bounds.MAX_CATEGORY_LENGTH);
    expect(textBytes + 1024).toBeLessThan(bounds.DYNAMODB_ITEM_MAX_BYTES / 4);
  });

  it('accepts any nextToken the API can issue', () => {
    const widest = encodeNextToken({
      id: '\u{10FFFF}'.repeat(bounds.MAX_TOKEN_KEY_BYTES / 4),
      category: '\u{10FFFF}'.repeat(bounds.MAX_TOKEN_KEY_BYTES / 4),
      createdAt: 'x'.repeat(bounds.MAX_TOKEN_KEY_BYTES),
    })!;
    expect(widest.length).toBeLessThanOrEqual(bounds.MAX_NEXT_TOKEN_LENGTH);
  });
});

describe('requireId', () => {
  it('accepts the ids the API issues and seeds', () => {
    for (const id of [
      '0b9f3c1e-6a8d-4b0e-9a57-3f1d2c4b5a6e',
      'sample-00001',
      'a'.repeat(32),
      '2026-01-01T00:00:00.000Z#1a2b3c4d',
      'é',
      '🙂',
    ]) {
      expect(requireId('id', id)).toBe(id);
    }
    expect(requireId('id', 'x'.repeat(bounds.MAX_ID_BYTES))).toHaveLength(bounds.MAX_ID_BYTES);
  });

  it('refuses empty, oversized, control and malformed ids, without echoing them', () => {
    const huge = 'y'.repeat(900 * 1024);
    for (const bad of [
      '',
      'x'.repeat(bounds.MAX_ID_BYTES + 1),
      'é'.repeat(bounds.MAX_ID_BYTES / 2 + 1),
      huge,
      'a\u0000b',
      'line\nbreak',
      '\ud800',
      'a\udc00',
    ]) {
      const error = domainErrorOf(() => requireId('items[3].productId', bad));
      expect(error.errorType).toBe('ValidationError');
      expect(error.errorInfo).toEqual({ field: 'items[3].productId' });
      expect(error.message).toContain('items[3].productId');
      if (bad.length > 0) expect(error.message).not.toContain(bad);
    }
  });

  it('agrees with the key limits for any string (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 60 })), (value) => {
        const expected = value.length > 0 && utf8(value) <= bounds.MAX_ID_BYTES && !/\p{Cc}|\p{Cs}/u.test(value);
        expect(isId(value)).toBe(expected);
        if (expected) expect(requireId('id', value)).toBe(value);
        else expect(domainErrorOf(() => requireId('id', value)).errorType).toBe('ValidationError');
      }),
      { numRuns: 200 },
    );
  });
});

describe('text, category and email', () => {
  it('trims categories and refuses blank, long or control-laden ones', () => {
    expect(requireCategory('category', '  books ')).toBe('books');
    for (const bad of ['', '   ', 'x'.repeat(bounds.MAX_CATEGORY_LENGTH + 1), 'bo\u0007oks', '\ud83d']) {
      expect(domainErrorOf(() => requireCategory('category', bad)).errorType).toBe('ValidationError');
    }
  });

  it('refuses text with a lone surrogate, which has no UTF-8 form', () => {
    expect(domainErrorOf(() => requireText('name', 'tea \ud800', 200)).errorType).toBe('ValidationError');
    expect(requireText('name', 'tea 🍵', 200)).toBe('tea 🍵');
  });

  it('bounds contact emails by length, which AWSEmail does not', () => {
    expect(optionalEmail('contactEmail', 'alice@example.com')).toBe('alice@example.com');
    expect(optionalEmail('contactEmail', null)).toBeNull();
    const long = `${'a'.repeat(900 * 1024)}@example.com`;
    const error = domainErrorOf(() => optionalEmail('contactEmail', long));
    expect(error).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'contactEmail' } });
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('orderTotal', () => {
  it('sums lines and refuses a total beyond GraphQL Int', () => {
    expect(
      orderTotal([
        { quantity: 2, unitPriceCents: 250 },
        { quantity: 1, unitPriceCents: 1000 },
      ]),
    ).toBe(1500);
    expect(orderTotal([{ quantity: 21, unitPriceCents: bounds.MAX_PRICE_CENTS }])).toBe(2_100_000_000);
    const error = domainErrorOf(() => orderTotal([{ quantity: 22, unitPriceCents: bounds.MAX_PRICE_CENTS }]));
    expect(error).toMatchObject({
      errorType: 'ValidationError',
      errorInfo: { totalCents: 2_200_000_000, maxTotalCents: bounds.GRAPHQL_INT_MAX },
    });
  });

  it('either returns the exact in-range total or refuses (property)', () => {
    const line = fc.record({
      quantity: fc.integer({ min: 1, max: bounds.MAX_QUANTITY }),
      unitPriceCents: fc.integer({ min: 0, max: bounds.MAX_PRICE_CENTS }),
    });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: bounds.MAX_ORDER_LINES }), (lines) => {
        const exact = lines.reduce((sum, l) => sum + BigInt(l.quantity) * BigInt(l.unitPriceCents), 0n);
        if (exact <= BigInt(bounds.GRAPHQL_INT_MAX)) expect(BigInt(orderTotal(lines))).toBe(exact);
        else expect(domainErrorOf(() => orderTotal(lines)).errorType).toBe('ValidationError');
      }),
      { numRuns: 300 },
    );
  });
});

describe('nextToken', () => {
  const expected = { attributes: ['id', 'category', 'createdAt'], partition: { name: 'category', value: 'books' } } as const;
  const forge = (key: unknown): string => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

  it('refuses key attributes of the wrong type or size, which DynamoDB would refuse with its own message', () => {
    const forged = [
      { id: 5, category: 'books', createdAt: 'x' },
      { id: '', category: 'books', createdAt: 'x' },
      { id: 'p', category: 'books', createdAt: 'x'.repeat(bounds.MAX_TOKEN_KEY_BYTES + 1) },
      { id: 'p', category: 'books', createdAt: '\ud800' },
      { id: ['p'], category: 'books', createdAt: 'x' },
      { id: { S: 'p' }, category: 'books', createdAt: 'x' },
      { id: null, category: 'books', createdAt: 'x' },
      { id: true, category: 'books', createdAt: 'x' },
    ];
    for (const key of forged) {
      expect(domainErrorOf(() => decodeNextToken(forge(key), expected)).errorType).toBe('ValidationError');
    }
    expect(domainErrorOf(() => decodeNextToken('A'.repeat(bounds.MAX_NEXT_TOKEN_LENGTH + 1), expected)).errorType).toBe('ValidationError');
    expect(domainErrorOf(() => decodeNextToken('', expected)).errorType).toBe('ValidationError');
  });

  it('either yields string key attributes DynamoDB accepts or refuses, for any JSON (property)', () => {
    const attribute = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.jsonValue(), fc.constant('books'));
    fc.assert(
      fc.property(fc.record({ id: attribute, category: attribute, createdAt: attribute }, { requiredKeys: [] }), (key) => {
        let decoded: Record<string, string> | undefined;
        try {
          decoded = decodeNextToken(forge(key), expected);
        } catch (error) {
          expect(error).toMatchObject({ errorType: 'ValidationError' });
          return;
        }
        expect(decoded?.category).toBe('books');
        for (const value of Object.values(decoded ?? {})) {
          expect(typeof value).toBe('string');
          expect(value.length).toBeGreaterThan(0);
          expect(utf8(value)).toBeLessThanOrEqual(bounds.MAX_TOKEN_KEY_BYTES);
        }
      }),
      { numRuns: 300 },
    );
  });
});

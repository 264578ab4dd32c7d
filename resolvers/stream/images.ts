import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue as EventAttributeValue, DynamoDBRecord } from 'aws-lambda';
import type { Currency } from '../../generated/graphql.js';
import { GRAPHQL_INT_MAX, MAX_PRICE_CENTS, MAX_RATING, MAX_RATING_COUNT, MAX_STOCK, MIN_RATING } from '../../declarations/bounds.js';
import type { ProductItem, ReviewItem } from '../../lib/model.js';

/**
 * Stream images as stored items. A stream carries whatever was written,
 * through the API or not (scripts, the console, other services), so every
 * image is checked before it is trusted: an image that is not a valid item
 * fails its record, which then goes through retries to the dead letters
 * instead of into the cache or the rating summary.
 */

export class InvalidImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidImageError';
  }
}

/** The event's JSON form (binary as base64) back to the SDK's, then to plain values. */
export function unmarshallImage(image: Record<string, EventAttributeValue> | undefined): Record<string, unknown> | undefined {
  if (!image) return undefined;
  return unmarshall(Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toSdkValue(value)])));
}

/** Plain Uint8Array, as the SDK itself returns binary attributes. */
const fromBase64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

function toSdkValue(value: EventAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: fromBase64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(fromBase64) };
  if (value.L !== undefined) return { L: value.L.map(toSdkValue) };
  if (value.M !== undefined) return { M: Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, toSdkValue(v)])) };
  // The remaining members (S, N, BOOL, NULL, SS, NS) have the same shape in both.
  return value as AttributeValue;
}

/** The partition key of any record (REMOVE records have no NewImage). */
export function keyOf(record: DynamoDBRecord, attribute: string): string {
  const value = unmarshallImage(record.dynamodb?.Keys)?.[attribute];
  if (typeof value !== 'string' || value === '') throw new InvalidImageError(`record ${record.eventID ?? '?'} has no ${attribute} key`);
  return value;
}

type Check = (value: unknown) => boolean;
const text: Check = (v) => typeof v === 'string' && v.length > 0;
const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const optionalText: Check = (v) => v === undefined || v === null || typeof v === 'string';

/** Values quoted in an error (it is logged, and lands in dead letters) are cut short: an attribute may hold 400 KB. */
const MAX_QUOTED_LENGTH = 80;
const clip = (text: string): string =>
  text.length > MAX_QUOTED_LENGTH ? `${text.slice(0, MAX_QUOTED_LENGTH)}… (${text.length} characters)` : text;
const quote = (value: unknown): string => clip(JSON.stringify(value) ?? String(value));

function check<T>(what: string, image: Record<string, unknown> | undefined, shape: Record<keyof T & string, Check>): T {
  if (!image) throw new InvalidImageError(`${what}: the record has no new image`);
  const wrong = Object.entries<Check>(shape)
    .filter(([field, valid]) => !valid(image[field]))
    .map(([field]) => `${field}=${quote(image[field])}`);
  if (wrong.length > 0) throw new InvalidImageError(`${what} ${clip(String(image.id))} is not a valid item: ${wrong.join(', ')}`);
  return image as T;
}

const currencies = ['USD', 'EUR', 'GBP'] as const satisfies readonly Currency[];
// Fails to compile when the schema gains a currency this list lacks.
type Exhaustive<Missing extends never> = Missing;
export type CurrenciesChecked = Exhaustive<Exclude<Currency, (typeof currencies)[number]>>;

// Numbers the API returns as GraphQL Ints are held to the API's bounds (declarations/bounds.ts): an image
// outside them, written around the API, must not be cached and served, since it cannot be returned.
const productShape: Record<keyof ProductItem, Check> = {
  id: text,
  sku: text,
  name: text,
  description: optionalText,
  priceCents: integer(0, MAX_PRICE_CENTS),
  currency: (v) => (currencies as readonly unknown[]).includes(v),
  category: text,
  stock: integer(0, MAX_STOCK),
  version: integer(1, GRAPHQL_INT_MAX),
  createdAt: text,
  updatedAt: text,
  ratingCount: integer(0, MAX_RATING_COUNT),
  ratingTotal: integer(0),
};

export function productImage(record: DynamoDBRecord): ProductItem {
  const item = check<ProductItem>('product', unmarshallImage(record.dynamodb?.NewImage), productShape);
  return { ...item, description: item.description ?? null };
}

/** The fields of a new review that the rating summary depends on. */
export function reviewImage(record: DynamoDBRecord): Pick<ReviewItem, 'productId' | 'id' | 'rating'> {
  return check<ReviewItem>('review', unmarshallImage(record.dynamodb?.NewImage), {
    productId: text,
    id: text,
    authorId: text,
    rating: integer(MIN_RATING, MAX_RATING),
    title: optionalText,
    body: optionalText,
    createdAt: text,
  });
}

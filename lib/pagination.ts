import { MAX_NEXT_TOKEN_LENGTH, MAX_TOKEN_KEY_BYTES } from '../declarations/bounds.js';
import { validationError } from './errors.js';

type Key = Record<string, string>;

/**
 * Opaque `nextToken`s: DynamoDB's LastEvaluatedKey, base64url-encoded. A token
 * is only accepted for the partition it was issued for, so a client cannot
 * edit one to page through another customer's orders.
 *
 * A token is client input like any other: before it becomes an
 * ExclusiveStartKey, every attribute must have the type and size a key
 * attribute of these tables can have (all are strings), or DynamoDB would
 * refuse the query with its own message.
 */
export function encodeNextToken(lastEvaluatedKey: Record<string, unknown> | undefined): string | null {
  if (!lastEvaluatedKey) return null;
  return Buffer.from(JSON.stringify(lastEvaluatedKey), 'utf8').toString('base64url');
}

const LONE_SURROGATE = /\p{Cs}/u;

/** A value DynamoDB accepts for a string key attribute: non-empty, well-formed, within the sort key limit. */
const isKeyString = (value: unknown): value is string =>
  typeof value === 'string' &&
  value.length > 0 &&
  value.length <= MAX_TOKEN_KEY_BYTES &&
  Buffer.byteLength(value, 'utf8') <= MAX_TOKEN_KEY_BYTES &&
  !LONE_SURROGATE.test(value);

export function decodeNextToken(
  token: string | null | undefined,
  expected: { attributes: readonly string[]; partition: { name: string; value: string } },
): Key | undefined {
  if (token === null || token === undefined) return undefined;
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_NEXT_TOKEN_LENGTH) {
    throw validationError('nextToken is not a token this API issued', { field: 'nextToken' });
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw validationError('nextToken is not a token this API issued', { field: 'nextToken' });
  }
  const valid =
    typeof decoded === 'object' &&
    decoded !== null &&
    !Array.isArray(decoded) &&
    Object.keys(decoded).length === expected.attributes.length &&
    expected.attributes.every(
      (name) => Object.hasOwn(decoded as object, name) && isKeyString((decoded as Record<string, unknown>)[name]),
    ) &&
    (decoded as Record<string, unknown>)[expected.partition.name] === expected.partition.value;
  if (!valid) throw validationError('nextToken is not a token this API issued for this query', { field: 'nextToken' });
  return decoded as Key;
}

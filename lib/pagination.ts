import { validationError } from './errors.js';

type Key = Record<string, string | number>;

/**
 * Opaque `nextToken`s: DynamoDB's LastEvaluatedKey, base64url-encoded. A token
 * is only accepted for the partition it was issued for, so a client cannot
 * edit one to page through another customer's orders.
 */
export function encodeNextToken(lastEvaluatedKey: Record<string, unknown> | undefined): string | null {
  if (!lastEvaluatedKey) return null;
  return Buffer.from(JSON.stringify(lastEvaluatedKey), 'utf8').toString('base64url');
}

export function decodeNextToken(
  token: string | null | undefined,
  expected: { attributes: readonly string[]; partition: { name: string; value: string } },
): Key | undefined {
  if (token === null || token === undefined) return undefined;
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
    expected.attributes.every((name) => {
      const value = (decoded as Record<string, unknown>)[name];
      return typeof value === 'string' || typeof value === 'number';
    }) &&
    (decoded as Record<string, unknown>)[expected.partition.name] === expected.partition.value;
  if (!valid) throw validationError('nextToken is not a token this API issued for this query', { field: 'nextToken' });
  return decoded as Key;
}

/**
 * AWS AppSync's built-in scalars and directives for graphql-js.
 *
 * AppSync validates its AWS* scalars itself; graphql-js, given only
 * `scalar AWSDate`, would accept any value. The local runtime uses these
 * implementations so a value AppSync would reject also fails locally, as a
 * variable or literal coercion error that names the scalar.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { GraphQLError, GraphQLScalarType, Kind, isScalarType, print, type GraphQLSchema, type ValueNode } from 'graphql';

export type AwsScalarName =
  | 'AWSDate'
  | 'AWSTime'
  | 'AWSDateTime'
  | 'AWSTimestamp'
  | 'AWSEmail'
  | 'AWSJSON'
  | 'AWSPhone'
  | 'AWSURL'
  | 'AWSIPAddress';

/**
 * SDL that AppSync defines implicitly: the AWS* scalars and the auth and
 * subscription directives. User schemas must not declare these (AppSync
 * rejects the redefinition), so append this when building a schema locally.
 * Read from the .graphql file so that code generation and the runtime share one copy.
 */
export const appSyncBuiltinsSDL: string = readFileSync(new URL('./appsync-builtins.graphql', import.meta.url), 'utf8');

// Errors must be GraphQLErrors: graphql-js then reports them verbatim (with the
// literal's location) instead of prefixing a generic "Expected type" message.
function invalid(name: AwsScalarName, shown: string, hint?: string, node?: ValueNode): GraphQLError {
  const message = `Invalid ${name} value: ${shown}${hint === undefined ? '' : `; ${hint}`}`;
  return new GraphQLError(message, node === undefined ? {} : { nodes: node });
}

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function' || typeof value === 'symbol' || value === undefined) return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 200 ? `${json.slice(0, 200)}…` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function stringScalar(name: AwsScalarName, description: string, isValid: (value: string) => boolean) {
  const coerce = (value: unknown): string => {
    if (typeof value !== 'string') throw invalid(name, show(value), 'expected a string');
    if (!isValid(value)) throw invalid(name, show(value));
    return value;
  };
  return new GraphQLScalarType<string, string>({
    name,
    description,
    serialize: coerce,
    parseValue: coerce,
    parseLiteral(node) {
      if (node.kind !== Kind.STRING) throw invalid(name, print(node), 'expected a string', node);
      if (!isValid(node.value)) throw invalid(name, print(node), undefined, node);
      return node.value;
    },
  });
}

// ---------------------------------------------------------------------------
// Dates and times. Regexes check the shape; the numeric ranges are checked
// separately because a regex cannot know that 2024-02-30 does not exist.

const DATE = String.raw`(\d{4})-(\d{2})-(\d{2})`;
// AppSync calls the fraction a nanoseconds field: 1 to 9 digits, only after seconds.
const TIME = String.raw`(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?`;
// Seconds in the offset are not ISO 8601 but AppSync documents them as valid.
const OFFSET = String.raw`(?:Z|[+-](\d{2}):(\d{2})(?::(\d{2}))?)`;

const DATE_RE = new RegExp(`^${DATE}${OFFSET}?$`);
const TIME_RE = new RegExp(`^${TIME}${OFFSET}?$`);
const DATE_TIME_RE = new RegExp(`^${DATE}T${TIME}${OFFSET}$`);

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function isCalendarDate(year: string, month: string, day: string): boolean {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (m < 1 || m > 12 || d < 1) return false;
  const daysInMonth = [31, isLeapYear(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;
  return d <= daysInMonth;
}

/** Every argument is a two-digit string or undefined (an omitted optional part). */
function isClock(hours: string | undefined, minutes: string | undefined, seconds: string | undefined): boolean {
  return Number(hours ?? 0) <= 23 && Number(minutes ?? 0) <= 59 && Number(seconds ?? 0) <= 59;
}

function isAwsDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  return m !== null && isCalendarDate(m[1]!, m[2]!, m[3]!) && isClock(m[4], m[5], m[6]);
}

function isAwsTime(value: string): boolean {
  const m = TIME_RE.exec(value);
  return m !== null && isClock(m[1], m[2], m[3]) && isClock(m[4], m[5], m[6]);
}

function isAwsDateTime(value: string): boolean {
  const m = DATE_TIME_RE.exec(value);
  return m !== null && isCalendarDate(m[1]!, m[2]!, m[3]!) && isClock(m[4], m[5], m[6]) && isClock(m[7], m[8], m[9]);
}

// ---------------------------------------------------------------------------
// Email: RFC 822 addr-spec restricted to its common dot-atom form (no quoted
// local parts, comments or domain literals), which is what clients send.

const EMAIL_LOCAL_RE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
// A single label (user@localhost) is a valid RFC 822 domain.
const EMAIL_DOMAIN_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function isAwsEmail(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return false;
  return EMAIL_LOCAL_RE.test(value.slice(0, at)) && EMAIL_DOMAIN_RE.test(value.slice(at + 1));
}

// ---------------------------------------------------------------------------
// Phone: AppSync documents only "segments may be whitespace delimited or
// hyphenated, optional country code", so this is deliberately permissive.
// Each alternative starts with a different character, which keeps the regex
// linear; a separator must be followed by another segment.
const PHONE_RE = /^\+?(?:\d|\(\d+\))(?:\d|\(\d+\)|[ -](?=[\d(]))*$/;
// E.164 caps a full international number at 15 digits.
const PHONE_MIN_DIGITS = 3;
const PHONE_MAX_DIGITS = 15;

function isAwsPhone(value: string): boolean {
  if (!PHONE_RE.test(value)) return false;
  const digits = value.replace(/\D/g, '').length;
  return digits >= PHONE_MIN_DIGITS && digits <= PHONE_MAX_DIGITS;
}

// ---------------------------------------------------------------------------
// URL: `new URL` with no base already rejects scheme-less input such as
// "example.com/x". AppSync additionally rejects double slashes in the path.

function isAwsUrl(value: string): boolean {
  // `new URL` silently strips surrounding whitespace and tabs/newlines inside.
  if (/\s/.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.host === '' && url.pathname === '') return false;
  return !url.pathname.includes('//');
}

// ---------------------------------------------------------------------------

function isAwsIpAddress(value: string): boolean {
  const slash = value.indexOf('/');
  const version = isIP(slash === -1 ? value : value.slice(0, slash));
  if (version === 0) return false;
  if (slash === -1) return true;
  const prefix = value.slice(slash + 1);
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

// ---------------------------------------------------------------------------

function coerceTimestamp(value: unknown): number {
  if (typeof value !== 'number') throw invalid('AWSTimestamp', show(value), 'expected an integer number of seconds');
  if (!Number.isSafeInteger(value)) throw invalid('AWSTimestamp', show(value), 'expected an integer number of seconds');
  return value;
}

const AWSTimestamp = new GraphQLScalarType<number, number>({
  name: 'AWSTimestamp',
  description: 'An integer number of seconds before or after 1970-01-01T00:00Z.',
  serialize: coerceTimestamp,
  parseValue: coerceTimestamp,
  parseLiteral(node) {
    // GraphQL Int literals are unbounded in the AST; AWSTimestamp is not limited
    // to 32 bits (it passes 2038), but must stay exactly representable.
    if (node.kind !== Kind.INT || !Number.isSafeInteger(Number(node.value))) {
      throw invalid('AWSTimestamp', print(node), 'expected an integer number of seconds', node);
    }
    return Number(node.value);
  },
});

// ---------------------------------------------------------------------------
// AWSJSON stays a string on the way in: it is parsed only to prove it is JSON,
// and resolvers receive the original text.

function isJsonText(value: string): boolean {
  try {
    JSON.parse(value);
    return true;
  } catch {
    return false;
  }
}

function parseJsonInput(value: unknown): string {
  if (typeof value !== 'string') throw invalid('AWSJSON', show(value), 'expected a string containing JSON');
  if (!isJsonText(value)) throw invalid('AWSJSON', show(value), 'not valid JSON');
  return value;
}

const AWSJSON = new GraphQLScalarType<string, string>({
  name: 'AWSJSON',
  description: 'A string containing a JSON value (RFC 8259).',
  serialize(value) {
    // A resolver may return either JSON text or a value to encode. A string is
    // taken as JSON text, so an invalid one is an error rather than being
    // silently quoted into a JSON string.
    if (typeof value === 'string') return parseJsonInput(value);
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw invalid('AWSJSON', show(value), `cannot be encoded as JSON (${(error as Error).message})`);
    }
    // JSON.stringify returns undefined for functions, symbols and undefined.
    if (json === undefined) throw invalid('AWSJSON', show(value), 'cannot be encoded as JSON');
    return json;
  },
  parseValue: parseJsonInput,
  parseLiteral(node) {
    if (node.kind !== Kind.STRING) throw invalid('AWSJSON', print(node), 'expected a string containing JSON', node);
    if (!isJsonText(node.value)) throw invalid('AWSJSON', print(node), 'not valid JSON', node);
    return node.value;
  },
});

/** Standalone implementations; use {@link attachAwsScalars} to put them into an SDL-built schema. */
export const awsScalars: Record<AwsScalarName, GraphQLScalarType> = {
  AWSDate: stringScalar(
    'AWSDate',
    'An extended ISO 8601 date: YYYY-MM-DD, optionally followed by a time zone offset (Z or ±hh:mm[:ss]).',
    isAwsDate,
  ),
  AWSTime: stringScalar(
    'AWSTime',
    'An extended ISO 8601 time: hh:mm[:ss[.fraction]], optionally followed by a time zone offset (Z or ±hh:mm[:ss]).',
    isAwsTime,
  ),
  AWSDateTime: stringScalar(
    'AWSDateTime',
    'An extended ISO 8601 date and time: YYYY-MM-DDThh:mm[:ss[.fraction]] followed by a required time zone offset.',
    isAwsDateTime,
  ),
  AWSTimestamp,
  AWSEmail: stringScalar('AWSEmail', 'An email address of the form local-part@domain (RFC 822).', isAwsEmail),
  AWSJSON,
  AWSPhone: stringScalar(
    'AWSPhone',
    'A phone number; segments may be separated by spaces or hyphens, and may start with a +country code.',
    isAwsPhone,
  ),
  AWSURL: stringScalar('AWSURL', 'An absolute URL; any scheme is allowed but the scheme is required.', isAwsUrl),
  AWSIPAddress: stringScalar('AWSIPAddress', 'An IPv4 or IPv6 address, optionally with a /prefix-length (CIDR) suffix.', isAwsIpAddress),
};

/**
 * Gives the AWS* scalars of a schema built from SDL (user SDL plus
 * {@link appSyncBuiltinsSDL}) their real validation, and returns the same schema.
 *
 * The scalar objects are modified in place because every field and argument
 * holds a direct reference to them; replacing type-map entries would leave
 * those references on the permissive default implementation. Idempotent.
 */
export function attachAwsScalars(schema: GraphQLSchema): GraphQLSchema {
  for (const [name, implementation] of Object.entries(awsScalars)) {
    const type = schema.getType(name);
    if (type === undefined) continue;
    if (!isScalarType(type)) {
      throw new Error(`${name} is defined as a non-scalar type, but AppSync reserves the name for its built-in scalar`);
    }
    type.serialize = implementation.serialize;
    type.parseValue = implementation.parseValue;
    type.parseLiteral = implementation.parseLiteral;
  }
  return schema;
}

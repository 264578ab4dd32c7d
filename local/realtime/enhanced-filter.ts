/**
 * AppSync enhanced subscription filters ("Defining enhanced subscriptions
 * filters in AWS AppSync"; filterJsonObject of
 * `extensions.setSubscriptionFilter`). In AppSync a subscription *resolver*
 * sets them, not the client; locally the `subscriptionFilter` option of
 * attachRealtime plays that resolver's part.
 *
 * Semantics: the event passes when ANY entry of `filterGroup` passes, and an
 * entry passes when ALL its `filters` hold. `fieldName` may be a dotted path
 * into the published result.
 */
import { FILTER_OPERATORS, type FieldFilter, type SubscriptionFilter } from '../../lib/appsync/subscription-filter.js';

/** AppSync's documented bounds, enforced so a filter that AppSync would reject fails locally too. */
const LIMITS = { groups: 10, filtersPerGroup: 5, inValues: 5, containsAnyValues: 20, pathDepth: 5 } as const;

/** Validates untrusted filter JSON; returns an error message or null. */
export function filterProblem(filter: unknown): string | null {
  if (!isRecord(filter) || !Array.isArray(filter['filterGroup'])) return 'A subscription filter needs a filterGroup array';
  const groups = filter['filterGroup'] as unknown[];
  if (groups.length === 0 || groups.length > LIMITS.groups) return `filterGroup must hold 1 to ${LIMITS.groups} entries`;
  for (const group of groups) {
    if (!isRecord(group) || !Array.isArray(group['filters'])) return 'Each filterGroup entry needs a filters array';
    const filters = group['filters'] as unknown[];
    if (filters.length === 0 || filters.length > LIMITS.filtersPerGroup) return `filters must hold 1 to ${LIMITS.filtersPerGroup} entries`;
    for (const f of filters) {
      if (!isRecord(f) || typeof f['fieldName'] !== 'string' || f['fieldName'] === '') return 'Each filter needs a fieldName';
      if (f['fieldName'].split('.').length > LIMITS.pathDepth)
        return `fieldName ${f['fieldName']} is nested deeper than ${LIMITS.pathDepth} levels`;
      const operator = f['operator'];
      if (typeof operator !== 'string' || !FILTER_OPERATORS.has(operator)) return `Unknown filter operator ${String(operator)}`;
      const value = f['value'];
      if ((operator === 'in' || operator === 'notIn') && (!Array.isArray(value) || value.length === 0 || value.length > LIMITS.inValues)) {
        return `${operator} needs an array of 1 to ${LIMITS.inValues} values`;
      }
      if (operator === 'containsAny' && (!Array.isArray(value) || value.length === 0 || value.length > LIMITS.containsAnyValues)) {
        return `containsAny needs an array of 1 to ${LIMITS.containsAnyValues} values`;
      }
      if (operator === 'between' && (!Array.isArray(value) || value.length !== 2)) return 'between needs an array of two values';
    }
  }
  return null;
}

export function matchesFilter(filter: SubscriptionFilter, result: Readonly<Record<string, unknown>>): boolean {
  return filter.filterGroup.some((group) => group.filters.every((f) => holds(f, valueAt(result, f.fieldName))));
}

function holds(filter: FieldFilter, actual: unknown): boolean {
  const { operator, value } = filter;
  // An absent field satisfies only the negative operators.
  if (actual === undefined || actual === null) {
    if (operator === 'eq') return value === null;
    return operator === 'ne' ? value !== null : operator === 'notIn' || operator === 'notContains';
  }
  switch (operator) {
    case 'eq':
      return equal(actual, value);
    case 'ne':
      return !equal(actual, value);
    case 'lt':
      return compare(actual, value) < 0;
    case 'le':
      return compare(actual, value) <= 0;
    case 'gt':
      return compare(actual, value) > 0;
    case 'ge':
      return compare(actual, value) >= 0;
    case 'between': {
      const [low, high] = value as [unknown, unknown];
      return compare(actual, low) >= 0 && compare(actual, high) <= 0;
    }
    case 'contains':
      return contains(actual, value);
    case 'notContains':
      return !contains(actual, value);
    case 'beginsWith':
      return typeof actual === 'string' && typeof value === 'string' && actual.startsWith(value);
    case 'in':
      return (value as unknown[]).some((candidate) => equal(actual, candidate));
    case 'notIn':
      return !(value as unknown[]).some((candidate) => equal(actual, candidate));
    case 'containsAny':
      return Array.isArray(actual) && (value as unknown[]).some((candidate) => actual.some((item) => equal(item, candidate)));
  }
}

function contains(actual: unknown, value: unknown): boolean {
  if (typeof actual === 'string') return typeof value === 'string' && actual.includes(value);
  return Array.isArray(actual) && actual.some((item) => equal(item, value));
}

/** NaN (never true) unless both sides are numbers or both strings. */
function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return Number.NaN;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function valueAt(result: Readonly<Record<string, unknown>>, path: string): unknown {
  let current: unknown = result;
  for (const segment of path.split('.')) {
    if (!isRecord(current)) return undefined;
    current = current[segment];
  }
  return current;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

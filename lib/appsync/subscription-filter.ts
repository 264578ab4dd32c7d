/**
 * What a subscription field's function answers at subscribe time, and how it
 * becomes an AppSync enhanced filter. The function states conditions in the
 * input form of `util.transform.toSubscriptionFilter` ("Transformation helpers
 * in util.transform"); the deployed resolver code passes them through that
 * helper to `extensions.setSubscriptionFilter` and
 * `extensions.setSubscriptionInvalidationFilter`
 * (stacks/appsync/lambda-resolver.js). `toSubscriptionFilter` below is the same
 * transformation, for the local runtime and for tests that evaluate the
 * resolver code outside AppSync.
 */

export type FilterOperator =
  | 'eq'
  | 'ne'
  | 'le'
  | 'lt'
  | 'ge'
  | 'gt'
  | 'contains'
  | 'notContains'
  | 'beginsWith'
  | 'in'
  | 'notIn'
  | 'between'
  | 'containsAny';

/** Field (a dotted path into the published result) → operator → operand; all must hold. */
export type FilterConditions = Readonly<Record<string, Partial<Record<FilterOperator, unknown>>>>;

/** Either all conditions of one object, or (`or`) any one of several such objects. */
export type FilterSpec = FilterConditions | { readonly or: readonly FilterConditions[] };

export interface SubscriptionFilters {
  /** Events the subscriber receives (beyond AppSync's argument rule); null for all. */
  readonly filter: FilterSpec | null;
  /** Matched against a mutation's invalidation payload: a match ends the subscription. */
  readonly invalidationFilter: FilterSpec | null;
}

/** An entry of a FieldResult's `invalidations`: passed to `extensions.invalidateSubscriptions`. */
export interface SubscriptionInvalidation {
  readonly subscriptionField: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface FieldFilter {
  readonly fieldName: string;
  readonly operator: FilterOperator;
  readonly value: unknown;
}

/** The filterJsonObject AppSync's extensions take (and local/realtime/enhanced-filter.ts validates and evaluates). */
export interface SubscriptionFilter {
  readonly filterGroup: ReadonlyArray<{ readonly filters: readonly FieldFilter[] }>;
}

export const FILTER_OPERATORS: ReadonlySet<string> = new Set<FilterOperator>([
  'eq',
  'ne',
  'le',
  'lt',
  'ge',
  'gt',
  'contains',
  'notContains',
  'beginsWith',
  'in',
  'notIn',
  'between',
  'containsAny',
]);

/** `util.transform.toSubscriptionFilter(spec)`: one filter group per alternative, one filter per (field, operator). */
export function toSubscriptionFilter(spec: FilterSpec): SubscriptionFilter {
  const alternatives = isAlternatives(spec) ? spec.or : [spec];
  if (alternatives.length === 0) throw new Error('A subscription filter needs at least one alternative under `or`');
  return { filterGroup: alternatives.map((conditions) => ({ filters: filtersOf(conditions) })) };
}

function isAlternatives(spec: FilterSpec): spec is { readonly or: readonly FilterConditions[] } {
  return Array.isArray((spec as { or?: unknown }).or);
}

function filtersOf(conditions: FilterConditions): FieldFilter[] {
  const filters = Object.entries(conditions).flatMap(([fieldName, operators]) =>
    Object.entries(operators).map(([operator, value]) => {
      if (!FILTER_OPERATORS.has(operator)) throw new Error(`Unknown subscription filter operator ${operator} on ${fieldName}`);
      return { fieldName, operator: operator as FilterOperator, value };
    }),
  );
  if (filters.length === 0) throw new Error('A subscription filter alternative needs at least one condition');
  return filters;
}

/** Subscription registry, @aws_subscribe map, mutation publications and enhanced filters: pure logic, no sockets. */
import { getOperationAST, parse, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import type { SubscriptionFilter } from '../../lib/appsync/subscription-filter.js';
import { filterProblem, matchesFilter } from '../../local/realtime/enhanced-filter.js';
import { mutationPublications, subscriptionsByMutation } from '../../local/realtime/publisher.js';
import { SubscriptionHub, type HubEntry } from '../../local/realtime/subscription-hub.js';

const ids = (entries: readonly HubEntry[]): string[] => entries.map((e) => e.id).sort();

describe('SubscriptionHub', () => {
  it('delivers only to subscribers whose every given argument equals the result field', () => {
    const hub = new SubscriptionHub();
    hub.add({ id: 'alice', field: 'onOrderStatusChanged', args: { customerId: 'alice' } });
    hub.add({ id: 'bob', field: 'onOrderStatusChanged', args: { customerId: 'bob' } });
    hub.add({ id: 'alice-o1', field: 'onOrderStatusChanged', args: { customerId: 'alice', id: 'o1' } });
    hub.add({ id: 'everyone', field: 'onOrderStatusChanged', args: {} });
    hub.add({ id: 'other-field', field: 'onProductUpdated', args: {} });

    expect(ids(hub.publish('onOrderStatusChanged', { id: 'o1', customerId: 'alice', status: 'PAID' }))).toEqual([
      'alice',
      'alice-o1',
      'everyone',
    ]);
    expect(ids(hub.publish('onOrderStatusChanged', { id: 'o2', customerId: 'alice' }))).toEqual(['alice', 'everyone']);
    expect(ids(hub.publish('onOrderStatusChanged', { id: 'o3', customerId: 'bob' }))).toEqual(['bob', 'everyone']);
    // A null result field never equals a given argument.
    expect(ids(hub.publish('onOrderStatusChanged', { id: 'o4', customerId: null }))).toEqual(['everyone']);
    expect(ids(hub.publish('onProductUpdated', { id: 'p1' }))).toEqual(['other-field']);
    expect(hub.publish('onReviewAdded', { id: 'r1' })).toEqual([]);
  });

  it('treats null arguments as not given and compares IDs given as numbers or strings alike', () => {
    const hub = new SubscriptionHub();
    hub.add({ id: 'null-arg', field: 'onProductUpdated', args: { id: null } });
    hub.add({ id: 'five', field: 'onProductUpdated', args: { id: '5' } });
    hub.add({ id: 'flag', field: 'onProductUpdated', args: { active: true } });
    expect(ids(hub.publish('onProductUpdated', { id: 5 }))).toEqual(['five', 'null-arg']);
    expect(ids(hub.publish('onProductUpdated', { id: 'x', active: 'true' }))).toEqual(['null-arg']);
    expect(ids(hub.publish('onProductUpdated', { id: 'x', active: true }))).toEqual(['flag', 'null-arg']);
  });

  it('looks up one bucket per argument-name combination, not per subscriber', () => {
    const hub = new SubscriptionHub();
    for (let i = 0; i < 10_000; i += 1) hub.add({ id: `s${i}`, field: 'onOrderStatusChanged', args: { customerId: `c${i}` } });
    hub.add({ id: 'all', field: 'onOrderStatusChanged', args: {} });
    expect(hub.stats()).toEqual({ subscriptions: 10_001, buckets: 10_001, combinations: 2, probes: 0 });
    for (let i = 0; i < 10_000; i += 1) expect(hub.publish('onOrderStatusChanged', { customerId: `c${i}` })).toHaveLength(2);
    // Two bucket probes per publish (the customerId bucket and the no-argument one), whatever the subscriber count.
    expect(hub.stats().probes).toBe(20_000);
  });

  it('removes subscriptions and forgets combinations nobody uses any more', () => {
    const hub = new SubscriptionHub();
    hub.add({ id: 'a', field: 'onReviewAdded', args: { productId: 'p1' } });
    hub.add({ id: 'b', field: 'onReviewAdded', args: { productId: 'p1' } });
    expect(() => hub.add({ id: 'a', field: 'onReviewAdded', args: {} })).toThrow(/already registered/);
    expect(hub.remove('a')?.id).toBe('a');
    expect(hub.remove('a')).toBeUndefined();
    expect(ids(hub.publish('onReviewAdded', { productId: 'p1' }))).toEqual(['b']);
    hub.remove('b');
    expect(hub.stats()).toMatchObject({ subscriptions: 0, buckets: 0, combinations: 0 });
    expect(hub.publish('onReviewAdded', { productId: 'p1' })).toEqual([]);
  });

  it('keeps argument values containing separators apart', () => {
    const hub = new SubscriptionHub();
    hub.add({ id: 'tricky', field: 'f', args: { a: 'x&b=y' } });
    hub.add({ id: 'pair', field: 'f', args: { a: 'x', b: 'y' } });
    expect(ids(hub.publish('f', { a: 'x', b: 'y' }))).toEqual(['pair']);
    expect(ids(hub.publish('f', { a: 'x&b=y', b: 'z' }))).toEqual(['tricky']);
  });
});

describe('subscriptionsByMutation', () => {
  it('reads the storefront schema @aws_subscribe directives', () => {
    const map = subscriptionsByMutation(buildAppSyncSchema());
    expect(Object.fromEntries(map)).toEqual({
      updateProduct: ['onProductUpdated'],
      adjustStock: ['onProductUpdated'],
      updateOrderStatus: ['onOrderStatusChanged'],
      cancelOrder: ['onOrderStatusChanged'],
      addReview: ['onReviewAdded'],
    });
  });

  it('fails fast on a directive naming an unknown mutation or another return type', () => {
    const base = 'type T { id: ID! } type U { id: ID! } type Query { t: T } type Mutation { makeT: T makeU: U }';
    expect(() =>
      subscriptionsByMutation(buildAppSyncSchema(`${base} type Subscription { onT: T @aws_subscribe(mutations: ["nope"]) }`)),
    ).toThrow(/not a Mutation field/);
    expect(() =>
      subscriptionsByMutation(buildAppSyncSchema(`${base} type Subscription { onT: T @aws_subscribe(mutations: ["makeU"]) }`)),
    ).toThrow(/returns T but makeU returns U/);
  });
});

/** The executor's MutationExecuted event for a document's one operation. */
function executed(document: DocumentNode, data: Record<string, unknown>, variables: Record<string, unknown> = {}) {
  const operation = getOperationAST(document);
  if (!operation) throw new Error('no operation');
  return { document, operation, variables, data };
}

describe('mutationPublications', () => {
  it('undoes aliases and fragments so results are keyed by field names', () => {
    const document = parse(`
      mutation M($withItems: Boolean!) {
        changed: updateOrderStatus(id: "o1", status: PAID) { orderId: id status ...Who items @include(if: $withItems) { productId } }
        cancelOrder(id: "o2") { id }
        failed: addReview(input: { productId: "p", rating: 5 }) { id }
      }
      fragment Who on Order { customer: customerId }`);
    const data = {
      changed: { orderId: 'o1', status: 'PAID', customer: 'alice', items: [{ productId: 'p1' }] },
      cancelOrder: { id: 'o2' },
      failed: null,
    };
    expect(mutationPublications(executed(document, data, { withItems: true }))).toEqual([
      { mutationField: 'updateOrderStatus', result: { id: 'o1', status: 'PAID', customerId: 'alice', items: [{ productId: 'p1' }] } },
      { mutationField: 'cancelOrder', result: { id: 'o2' } },
    ]);
    expect(mutationPublications(executed(parse('query { product(id: "1") { id } }'), { product: { id: '1' } }))).toEqual([]);
  });
});

describe('enhanced subscription filters', () => {
  const order = { id: 'o1', status: 'PAID', totalCents: 2500, tags: ['gift', 'rush'], contact: { email: 'a@example.com' }, note: null };
  const one = (fieldName: string, operator: string, value: unknown): SubscriptionFilter =>
    ({ filterGroup: [{ filters: [{ fieldName, operator, value }] }] }) as SubscriptionFilter;

  it.each([
    ['status', 'eq', 'PAID', true],
    ['status', 'ne', 'PAID', false],
    ['totalCents', 'gt', 2000, true],
    ['totalCents', 'ge', 2500, true],
    ['totalCents', 'lt', 2500, false],
    ['totalCents', 'le', 2500, true],
    ['totalCents', 'between', [1000, 2000], false],
    ['totalCents', 'between', [2500, 3000], true],
    ['status', 'in', ['PAID', 'SHIPPED'], true],
    ['status', 'notIn', ['PAID', 'SHIPPED'], false],
    ['status', 'beginsWith', 'PA', true],
    ['status', 'contains', 'AI', true],
    ['tags', 'contains', 'gift', true],
    ['tags', 'notContains', 'gift', false],
    ['tags', 'containsAny', ['rush', 'x'], true],
    ['contact.email', 'eq', 'a@example.com', true],
    ['note', 'eq', null, true],
    ['missing', 'ne', 'x', true],
    ['missing', 'eq', 'x', false],
    ['totalCents', 'gt', '1', false],
  ])('%s %s %j → %s', (fieldName, operator, value, expected) => {
    const filter = one(fieldName, operator, value);
    expect(filterProblem(filter)).toBeNull();
    expect(matchesFilter(filter, order)).toBe(expected);
  });

  it('ANDs filters within a group and ORs the groups', () => {
    const filter: SubscriptionFilter = {
      filterGroup: [
        { filters: [{ fieldName: 'status', operator: 'eq', value: 'SHIPPED' }] },
        {
          filters: [
            { fieldName: 'status', operator: 'eq', value: 'PAID' },
            { fieldName: 'totalCents', operator: 'gt', value: 3000 },
          ],
        },
      ],
    };
    expect(matchesFilter(filter, order)).toBe(false);
    expect(matchesFilter(filter, { ...order, totalCents: 5000 })).toBe(true);
    expect(matchesFilter(filter, { ...order, status: 'SHIPPED' })).toBe(true);
  });

  it('rejects filters AppSync would reject', () => {
    expect(filterProblem({})).toMatch(/filterGroup/);
    expect(filterProblem(one('a', 'like', 1))).toMatch(/Unknown filter operator/);
    expect(filterProblem(one('a', 'in', [1, 2, 3, 4, 5, 6]))).toMatch(/1 to 5/);
    expect(filterProblem(one('a', 'between', [1]))).toMatch(/two values/);
    expect(filterProblem(one('a.b.c.d.e.f', 'eq', 1))).toMatch(/deeper/);
    expect(
      filterProblem({ filterGroup: [{ filters: Array.from({ length: 6 }, () => ({ fieldName: 'a', operator: 'eq', value: 1 })) }] }),
    ).toMatch(/1 to 5/);
  });
});

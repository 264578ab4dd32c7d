import { getOperationAST, Kind, parse, type DocumentNode, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { api } from '../../declarations/api.js';
import { fieldRoutes } from '../../declarations/check.js';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import { operationShapes } from '../../cost/operations.js';
import { FieldAuthorization, type Caller } from '../../local/appsync/field-authorization.js';
import { resolverBound } from '../../local/appsync/query-limits.js';
import { selectionSetList } from '../../local/appsync/selection-set.js';
import { collectFields, fragmentsOf, shouldInclude } from '../../local/graphql/collect-fields.js';
import { SubscriptionDocuments } from '../../local/realtime/projection.js';
import { mutationPublications } from '../../local/realtime/publisher.js';

const schema = buildAppSyncSchema();

function operationOf(document: DocumentNode): OperationDefinitionNode {
  const operation = getOperationAST(document);
  if (!operation) throw new Error('no operation');
  return operation;
}

/** `response key (field name) <type condition>` of what collectFields returns for the document's operation. */
function collected(query: string, variables: Record<string, unknown> = {}): string[] {
  const document = parse(query);
  return collectFields({ fragments: fragmentsOf(document), variables }, operationOf(document).selectionSet).map(
    ({ node, typeCondition }) =>
      `${node.alias?.value ?? node.name.value}${node.alias ? ` (${node.name.value})` : ''}${typeCondition ? ` <${typeCondition}>` : ''}`,
  );
}

describe('collectFields', () => {
  it('expands inline fragments and spreads in place, in document order, keeping aliases and repeats', () => {
    expect(collected('{ a ... on Query { b: c ...F } d a } fragment F on Query { e ... { f } }')).toEqual([
      'a',
      'b (c) <Query>',
      'e <Query>',
      'f <Query>',
      'd',
      'a',
    ]);
  });

  it('reports the innermost type condition, and a nested selection set starts without one', () => {
    const document = parse('{ product(id: "1") { ... on Product { id ...P } } } fragment P on Product { name }');
    const context = { fragments: fragmentsOf(document), variables: {} };
    const [product] = collectFields(context, operationOf(document).selectionSet);
    expect(product?.typeCondition).toBeUndefined();
    expect(collectFields(context, product!.node.selectionSet!).map((f) => [f.node.name.value, f.typeCondition])).toEqual([
      ['id', 'Product'],
      ['name', 'Product'],
    ]);
  });

  it('collects a named fragment once per collection (graphql-js), so a fragment bomb stays linear', () => {
    expect(collected('{ ...F ...F ... { ...F } } fragment F on Query { a }')).toEqual(['a <Query>']);
    let fragments = '';
    for (let i = 0; i < 40; i++) fragments += `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }\n`;
    expect(collected(`{ ...F0 }\n${fragments}fragment F40 on Query { leaf }`)).toEqual(['leaf <Query>']);
  });

  it('leaves out an unknown fragment (validation reports it)', () => {
    expect(collected('{ a ...Nowhere }')).toEqual(['a']);
  });

  it('accepts graphql-js’s info.fragments record as well as a Map', () => {
    const document = parse('{ ...F } fragment F on Query { a }');
    const record = Object.fromEntries(fragmentsOf(document));
    expect(collectFields({ fragments: record, variables: {} }, operationOf(document).selectionSet).map((f) => f.node.name.value)).toEqual([
      'a',
    ]);
    // Names are looked up as own properties only.
    expect(
      collectFields(
        { fragments: {}, variables: {} },
        parse('{ ...toString }').definitions.map((d) => (d as OperationDefinitionNode).selectionSet)[0]!,
      ),
    ).toEqual([]);
  });

  it('honours @skip and @include on fields, inline fragments and spreads, with literals and variables', () => {
    const query = `query Q($yes: Boolean!, $no: Boolean!) {
      a @skip(if: true) b @skip(if: false) c @include(if: false) d @include(if: true)
      e @skip(if: $yes) f @skip(if: $no) g @include(if: $yes) h @include(if: $no)
      ... @skip(if: $yes) { i } ...F @include(if: $no) ...G @include(if: $yes)
      j @skip(if: false) @include(if: false) k @skip(if: true) @include(if: true)
    }
    fragment F on Query { l }
    fragment G on Query { m }`;
    expect(collected(query, { yes: true, no: false })).toEqual(['b', 'd', 'f', 'g', 'm <Query>']);
    expect(collected(query, { yes: false, no: true })).toEqual(['b', 'd', 'e', 'h', 'i', 'l <Query>']);
  });

  it('includes a selection whose condition variable has no value (the upper bound of a static walk)', () => {
    expect(collected('query Q($v: Boolean) { a @skip(if: $v) b @include(if: $v) }')).toEqual(['a', 'b']);
    expect(collected('query Q($v: Boolean) { a @skip(if: $v) b @include(if: $v) }', { v: 'yes' })).toEqual(['a', 'b']);
  });

  it('shouldInclude is the one rule: skip wins over include', () => {
    const [field] = (parse('{ a @include(if: true) @skip(if: true) }').definitions[0] as OperationDefinitionNode).selectionSet
      .selections as FieldNode[];
    expect(field?.kind).toBe(Kind.FIELD);
    expect(shouldInclude(field!, {})).toBe(false);
  });
});

/** Every walk of local/ follows collectFields' rules: each one leaves out what @skip/@include leave out. */
describe('@skip/@include, honoured by every walker', () => {
  it('the resolver event’s selectionSetList (AppSync leaves skipped fields out of it)', () => {
    const document = parse(`query Q($withRating: Boolean!) {
      product(id: "1") { id name @skip(if: true) rating @include(if: $withRating) { count } ...R @include(if: $withRating) }
    } fragment R on Product { reviews { items { id } } }`);
    const product = operationOf(document).selectionSet.selections[0] as FieldNode;
    const fragments = Object.fromEntries(fragmentsOf(document));
    expect(selectionSetList([product], fragments, { withRating: false })).toEqual(['id']);
    expect(selectionSetList([product], fragments, { withRating: true })).toEqual([
      'id',
      'rating',
      'rating/count',
      'reviews',
      'reviews/items',
      'reviews/items/id',
    ]);
  });

  it('the publisher’s undoing of aliases', () => {
    const document = parse(`mutation M($full: Boolean!) {
      changed: updateOrderStatus(id: "o1", status: PAID) { orderId: id status @include(if: $full) ...Who @skip(if: $full) }
      gone: cancelOrder(id: "o2") @skip(if: true) { id }
    } fragment Who on Order { customer: customerId }`);
    const operation = operationOf(document);
    // The response a mutation with these variables gets: what was skipped is absent.
    expect(
      mutationPublications({ document, operation, variables: { full: true }, data: { changed: { orderId: 'o1', status: 'PAID' } } }),
    ).toEqual([{ mutationField: 'updateOrderStatus', result: { id: 'o1', status: 'PAID' } }]);
    expect(
      mutationPublications({ document, operation, variables: { full: false }, data: { changed: { orderId: 'o1', customer: 'alice' } } }),
    ).toEqual([{ mutationField: 'updateOrderStatus', result: { id: 'o1', customerId: 'alice' } }]);
  });

  it('the projection onto a subscriber’s selection, and its root field', () => {
    const documents = new SubscriptionDocuments(schema, new FieldAuthorization(schema, 'API_KEY'));
    const caller: Caller = { mode: 'API_KEY', groups: [] };
    const query = 'subscription S($withStock: Boolean!) { onProductUpdated { id name @skip(if: true) stock @include(if: $withStock) } }';
    const result = { id: 'p1', name: 'Book', stock: 3 };
    for (const [withStock, expected] of [
      [true, { id: 'p1', stock: 3 }],
      [false, { id: 'p1' }],
    ] as const) {
      const request = documents.request(query, null, { withStock });
      if (Array.isArray(request)) throw new Error(JSON.stringify(request));
      expect(JSON.parse(documents.project(request, caller, result))).toEqual({ data: { onProductUpdated: expected } });
    }
    // A root field left out is no subscription at all; one conditioned on a variable is refused, not a crash.
    expect(documents.request('subscription { onProductUpdated @skip(if: true) { id } }', null, {})).toEqual([
      expect.objectContaining({ errorType: 'ValidationError', message: 'A subscription must select exactly one top level field' }),
    ]);
    expect(documents.request('subscription S($on: Boolean = true) { onProductUpdated @include(if: $on) { id } }', null, {})).toEqual([
      expect.objectContaining({ errorType: 'ValidationError', message: expect.stringMatching(/Argument "if"/) }),
    ]);
    const kept = documents.request('subscription { ... @include(if: true) { onProductUpdated @skip(if: false) { id } } }', null, {});
    expect(Array.isArray(kept) ? kept : kept.prepared.fieldName).toBe('onProductUpdated');
  });

  it('the cost model’s operation walk (literals decide; variables count as selected)', () => {
    const routes = fieldRoutes();
    const shapes = operationShapes(
      schema,
      [
        parse(`query Skipped { product(id: "1") { id reviews @skip(if: true) { items { id } } } }
              query Conditional($r: Boolean!) { product(id: "1") { id reviews @include(if: $r) { items { id } } } }`),
      ],
      // Only the walk that enters reviews needs their length (the skipped one would throw without it).
      { 'ReviewConnection.items': 5 },
      (coordinate) => routes.has(coordinate),
    );
    expect([...shapes.get('Skipped')!.resolutions.keys()]).toEqual(['Query.product']);
    expect(() =>
      operationShapes(schema, [parse('query Skipped { product(id: "1") { reviews @skip(if: true) { items { id } } } }')], {}, () => false),
    ).not.toThrow();
    expect([...shapes.get('Conditional')!.resolutions.keys()]).toEqual(['Query.product', 'Product.reviews']);
  });

  it('the resolver-count bound (query-limits.ts applies shouldInclude in its memoized walk)', () => {
    const routes = fieldRoutes();
    const document = parse(`query Q($r: Boolean!, $n: Int = 100) {
      products(category: "c", limit: $n) { items { id reviews @include(if: $r) { items { id } } } }
    }`);
    const bound = (variables: Record<string, unknown>): number =>
      resolverBound(document, operationOf(document), variables, { schema, routes, depthLimit: api.limits.queryDepthLimit });
    // products once, plus Product.reviews once per item when included (its default page, 20, bounds each item's reviews).
    expect(bound({ r: false })).toBe(1);
    expect(bound({ r: true })).toBeGreaterThan(100);
  });
});

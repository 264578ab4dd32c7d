/**
 * local/graphql/variable-dependence.ts: whether what the executor derives from
 * a document alone (admission, selectionSetList) can change with variables.
 */
import { Kind, parse, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { fragmentsOf } from '../../local/graphql/collect-fields.js';
import { dependsOnVariables } from '../../local/graphql/variable-dependence.js';

function operationOf(text: string) {
  const document = parse(text);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const field = operation.selectionSet.selections[0] as FieldNode;
  return { operation, field, fragments: fragmentsOf(document) };
}

const pageSize = (name: string) => name === 'limit';

describe('dependsOnVariables', () => {
  it('is false for a document whose only variables are arguments nobody reads', () => {
    const { operation, field, fragments } = operationOf(
      'query Q($id: ID!) { product(id: $id) { id name ...F } } fragment F on Product { rating { count } }',
    );
    expect(dependsOnVariables(operation, fragments, pageSize)).toBe(false);
    expect(dependsOnVariables(field, fragments)).toBe(false);
  });

  it('is true for a @skip/@include anywhere below, fragments and inline fragments followed', () => {
    for (const text of [
      'query Q($f: Boolean!) { product(id: "p") { id name @include(if: $f) } }',
      'query Q($f: Boolean!) { product(id: "p") { ...F } } fragment F on Product { rating @skip(if: $f) { count } }',
      'query Q($f: Boolean!) { product(id: "p") { ... on Product { ...F } } } fragment F on Product { id @include(if: $f) }',
      'query Q($f: Boolean!) { product(id: "p") { ... @include(if: $f) { id } } }',
    ]) {
      const { operation, field, fragments } = operationOf(text);
      expect(dependsOnVariables(operation, fragments), text).toBe(true);
      expect(dependsOnVariables(field, fragments), text).toBe(true);
    }
  });

  it('is true when an argument it reads (a page size) is a variable, and only then', () => {
    const { operation, fragments } = operationOf('query Q($n: Int) { products(category: "c", limit: $n) { items { id } } }');
    expect(dependsOnVariables(operation, fragments, pageSize)).toBe(true);
    expect(dependsOnVariables(operation, fragments)).toBe(false);
  });

  it('stops at a fragment cycle instead of looping (validation refuses it before execution)', () => {
    const { operation, fragments } = operationOf(
      '{ product(id: "p") { ...A } } fragment A on Product { ...B } fragment B on Product { ...A }',
    );
    expect(dependsOnVariables(operation, fragments)).toBe(false);
  });
});

import { print, type FieldNode } from 'graphql';
import { collectFields, type Fragments } from '../graphql/collect-fields.js';

/**
 * AppSync's `info.selectionSetList`: every field below the resolved one as a
 * slash-separated path ("items", "items/product", "items/product/name"),
 * fragments expanded, selections `@skip`/`@include` leave out left out,
 * introspection fields left out. Walked with local/graphql's collectFields.
 */
export function selectionSetList(
  fieldNodes: readonly FieldNode[],
  fragments: Fragments,
  variables: Readonly<Record<string, unknown>> = {},
): string[] {
  const context = { fragments, variables };
  const paths: string[] = [];
  const seen = new Set<string>();
  const walk = (fields: readonly FieldNode[], prefix: string): void => {
    const selectionSets = fields.flatMap((field) => (field.selectionSet ? [field.selectionSet] : []));
    for (const { node } of collectFields(context, selectionSets)) {
      if (node.name.value.startsWith('__')) continue;
      const path = prefix ? `${prefix}/${node.name.value}` : node.name.value;
      if (!seen.has(path)) {
        seen.add(path);
        paths.push(path);
      }
      walk([node], path);
    }
  };
  walk(fieldNodes, '');
  return paths;
}

/** AppSync's `info.selectionSetGraphQL`: the field's selection set as GraphQL text. */
export function selectionSetGraphQL(fieldNodes: readonly FieldNode[]): string {
  const selectionSet = fieldNodes[0]?.selectionSet;
  return selectionSet ? print(selectionSet) : '';
}

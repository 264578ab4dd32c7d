import { Kind, print, type FieldNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/**
 * AppSync's `info.selectionSetList`: every field below the resolved one as a
 * slash-separated path ("items", "items/product", "items/product/name"),
 * fragments expanded, introspection fields left out.
 */
export function selectionSetList(
  fieldNodes: readonly FieldNode[],
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
): string[] {
  const paths: string[] = [];
  const seen = new Set<string>();
  const walk = (selectionSet: SelectionSetNode | undefined, prefix: string): void => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        const path = prefix ? `${prefix}/${selection.name.value}` : selection.name.value;
        if (!seen.has(path)) {
          seen.add(path);
          paths.push(path);
        }
        walk(selection.selectionSet, path);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet, prefix);
      } else {
        walk(fragments[selection.name.value]?.selectionSet, prefix);
      }
    }
  };
  for (const node of fieldNodes) walk(node.selectionSet, '');
  return paths;
}

/** AppSync's `info.selectionSetGraphQL`: the field's selection set as GraphQL text. */
export function selectionSetGraphQL(fieldNodes: readonly FieldNode[]): string {
  const selectionSet = fieldNodes[0]?.selectionSet;
  return selectionSet ? print(selectionSet) : '';
}

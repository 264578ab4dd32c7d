import { Kind, type FieldNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { Fragments } from './collect-fields.js';

/**
 * Whether something the executor derives from a prepared document alone (the
 * resolver-count admission, a field's selectionSetList) can change with the
 * request's variables. When it cannot, it is the same for every request of
 * that document and is worked out once. Variables reach it only through
 * `@skip`/`@include` and through argument values the derivation reads, so a
 * directive anywhere below, or a variable as the value of an argument it reads
 * (`readsArgument`), makes it variable-dependent. Conservative: any directive
 * counts, since being wrong this way costs a recomputation, never an answer.
 */
export function dependsOnVariables(
  node: FieldNode | OperationDefinitionNode,
  fragments: Fragments,
  readsArgument: (name: string) => boolean = () => false,
): boolean {
  if (node.directives && node.directives.length > 0) return true;
  return selectionSetDepends(node.selectionSet, fragments, readsArgument, new Set());
}

function selectionSetDepends(
  selectionSet: SelectionSetNode | undefined,
  fragments: Fragments,
  readsArgument: (name: string) => boolean,
  visiting: Set<string>,
): boolean {
  for (const selection of selectionSet?.selections ?? []) {
    if (selection.directives && selection.directives.length > 0) return true;
    if (selection.kind === Kind.FIELD) {
      if (selection.arguments?.some((argument) => argument.value.kind === Kind.VARIABLE && readsArgument(argument.name.value))) return true;
      if (selectionSetDepends(selection.selectionSet, fragments, readsArgument, visiting)) return true;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selectionSetDepends(selection.selectionSet, fragments, readsArgument, visiting)) return true;
    } else {
      const name = selection.name.value;
      // A fragment cycle is refused by validation before execution; do not follow one here.
      if (visiting.has(name)) continue;
      const fragment = fragments instanceof Map ? fragments.get(name) : (fragments as Record<string, FragmentLike>)[name];
      visiting.add(name);
      const depends = selectionSetDepends(fragment?.selectionSet, fragments, readsArgument, visiting);
      visiting.delete(name);
      if (depends) return true;
    }
  }
  return false;
}

type FragmentLike = { readonly selectionSet: SelectionSetNode };

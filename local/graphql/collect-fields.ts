import {
  Kind,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * The one rule set for walking selections in local/ (graphql-js's
 * `collectFields`, without its runtime-type filter): fragment spreads and
 * inline fragments are expanded in place, each named fragment once per
 * collection (as graphql-js does), and a selection is left out when
 * `@skip(if: true)` or `@include(if: false)` says so, with variables.
 *
 * Used by every hand-written walk: the resolver event's selectionSetList
 * (local/appsync/selection-set.ts), the subscription root field and the
 * undoing of a mutation's aliases (local/realtime/), and the cost model's
 * operation walk (cost/operations.ts). The resolver-count bound
 * (local/appsync/query-limits.ts) applies `shouldInclude` in its own memoized
 * walk; the pre-validation checks (local/graphql/document-limits.ts) count
 * everything, as they run once per document text, before variables exist.
 */

/** A document's fragments by name: a Map (ours) or graphql-js's `info.fragments` record. */
export type Fragments = ReadonlyMap<string, FragmentDefinitionNode> | Readonly<Record<string, FragmentDefinitionNode>>;

export interface CollectContext {
  readonly fragments: Fragments;
  /**
   * Variable values for `@skip`/`@include(if: $v)`, coerced (defaults
   * applied). A condition whose variable has no boolean value here includes
   * the selection: the upper bound, for static walks without variables.
   */
  readonly variables: Readonly<Record<string, unknown>>;
}

export interface CollectedField {
  readonly node: FieldNode;
  /** The innermost fragment type condition the field sits under; undefined when none (the selection set's own type). */
  readonly typeCondition: string | undefined;
}

/** The fields a selection set (or several, merged) selects, in document order; the same field selected twice appears twice. */
export function collectFields(context: CollectContext, selectionSets: SelectionSetNode | readonly SelectionSetNode[]): CollectedField[] {
  const fields: CollectedField[] = [];
  const visited = new Set<string>();
  const collect = (selectionSet: SelectionSetNode, typeCondition: string | undefined): void => {
    for (const selection of selectionSet.selections) {
      if (!shouldInclude(selection, context.variables)) continue;
      switch (selection.kind) {
        case Kind.FIELD:
          fields.push({ node: selection, typeCondition });
          break;
        case Kind.INLINE_FRAGMENT:
          collect(selection.selectionSet, selection.typeCondition?.name.value ?? typeCondition);
          break;
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          if (visited.has(name)) break;
          visited.add(name);
          const fragment = fragmentNamed(context.fragments, name);
          // An unknown fragment is validation's to report; here it selects nothing.
          if (fragment) collect(fragment.selectionSet, fragment.typeCondition.name.value);
          break;
        }
      }
    }
  };
  for (const selectionSet of 'selections' in selectionSets ? [selectionSets] : selectionSets) collect(selectionSet, undefined);
  return fields;
}

/** GraphQL's `@skip`/`@include` rule for one selection (skip wins): false when the selection is left out. */
export function shouldInclude(node: SelectionNode, variables: Readonly<Record<string, unknown>>): boolean {
  if (!node.directives?.length) return true;
  let include = true;
  for (const directive of node.directives) {
    const name = directive.name.value;
    if (name === 'skip' && condition(directive, variables) === true) return false;
    if (name === 'include' && condition(directive, variables) === false) include = false;
  }
  return include;
}

/** The `if` argument's value; undefined when it has none the walk can know (a variable without a boolean value). */
function condition(directive: DirectiveNode, variables: Readonly<Record<string, unknown>>): boolean | undefined {
  const value = directive.arguments?.find((argument) => argument.name.value === 'if')?.value;
  if (value?.kind === Kind.BOOLEAN) return value.value;
  if (value?.kind === Kind.VARIABLE) {
    const given = Object.hasOwn(variables, value.name.value) ? variables[value.name.value] : undefined;
    return typeof given === 'boolean' ? given : undefined;
  }
  return undefined;
}

/** The fragments of documents by name; with duplicate names (a validation error) the first counts. */
export function fragmentsOf(documents: DocumentNode | readonly DocumentNode[]): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const document of 'definitions' in documents ? [documents] : documents) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION && !fragments.has(definition.name.value))
        fragments.set(definition.name.value, definition);
    }
  }
  return fragments;
}

function fragmentNamed(fragments: Fragments, name: string): FragmentDefinitionNode | undefined {
  if (fragments instanceof Map) return fragments.get(name);
  const record = fragments as Readonly<Record<string, FragmentDefinitionNode>>;
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

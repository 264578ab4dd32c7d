import type { AppSyncIdentity } from 'aws-lambda';
import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import type { ResolverEvent } from '../../lib/appsync/resolver-event.js';
import { selectionSetGraphQL, selectionSetList } from '../../local/appsync/selection-set.js';

/**
 * AppSync's direct Lambda resolver event for one field, built for the yoga
 * peer exactly as the local executor builds it (local/appsync/execute.ts
 * `resolverEvent`): same fields, same selection-set helpers, the selection set
 * derived once per field node list (graphql-js hands every item of a list the
 * same array), so the handlers do the same work behind either server.
 */

interface Selection {
  readonly list: string[];
  readonly graphql: string;
}

const selections = new WeakMap<readonly FieldNode[], Selection>();

export interface EventContext {
  readonly identity: AppSyncIdentity;
  readonly headers: Readonly<Record<string, string>>;
}

export function resolverEventOf(
  source: unknown,
  args: Record<string, unknown>,
  context: EventContext,
  info: GraphQLResolveInfo,
): ResolverEvent {
  let selection = selections.get(info.fieldNodes);
  if (!selection) {
    selection = {
      list: selectionSetList(info.fieldNodes, info.fragments, info.variableValues),
      graphql: selectionSetGraphQL(info.fieldNodes),
    };
    selections.set(info.fieldNodes, selection);
  }
  return {
    arguments: args,
    identity: context.identity,
    source: (source ?? null) as ResolverEvent['source'],
    request: { headers: { ...context.headers }, domainName: null },
    info: {
      fieldName: info.fieldName,
      parentTypeName: info.parentType.name,
      variables: info.variableValues,
      selectionSetList: selection.list,
      selectionSetGraphQL: selection.graphql,
    },
    prev: null,
    stash: {},
  };
}

import { Kind, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { AppSyncIdentityCognito } from 'aws-lambda';
import type { ResolverEvent } from '../lib/appsync/resolver-event.js';
import { selectionSetGraphQL, selectionSetList } from '../local/appsync/selection-set.js';
import type { DevUserPool } from '../local/identity/dev-user-pool.js';

/**
 * Builds the AppSync direct-Lambda event for one field of one of the typed
 * operations in `operations/*.graphql`, the way the local executor does
 * (`local/appsync/execute.ts#event`). The selection set comes from the real
 * document through the executor's own helpers, so the handler sees the same
 * `selectionSetList` it would get from the API, not a made-up one.
 */

function fieldAt(document: DocumentNode, path: readonly string[]): FieldNode {
  const operation = document.definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) throw new Error('Document has no operation');
  let selectionSet: SelectionSetNode | undefined = operation.selectionSet;
  let found: FieldNode | undefined;
  for (const name of path) {
    found = selectionSet?.selections.find(
      (selection): selection is FieldNode => selection.kind === Kind.FIELD && (selection.alias ?? selection.name).value === name,
    );
    if (!found) throw new Error(`Operation has no field ${path.join('.')}`);
    selectionSet = found.selectionSet;
  }
  if (!found) throw new Error('Empty field path');
  return found;
}

function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return fragments;
}

export interface FieldEventOptions {
  /** A typed document from generated/client (a plain DocumentNode at runtime). */
  readonly document: DocumentNode;
  /** Response path of the field inside the operation, e.g. ['product', 'reviews']. */
  readonly path: readonly string[];
  readonly parentTypeName: string;
  readonly arguments: Record<string, unknown>;
  readonly variables?: Record<string, unknown>;
  readonly identity?: AppSyncIdentityCognito | null;
  readonly source?: unknown;
}

export function fieldEvent(options: FieldEventOptions): ResolverEvent {
  const node = fieldAt(options.document, options.path);
  return {
    arguments: options.arguments,
    identity: options.identity ?? null,
    source: (options.source ?? null) as ResolverEvent['source'],
    request: { headers: {}, domainName: null },
    info: {
      fieldName: node.name.value,
      parentTypeName: options.parentTypeName,
      variables: options.variables ?? {},
      selectionSetList: selectionSetList([node], fragmentsOf(options.document)),
      selectionSetGraphQL: selectionSetGraphQL([node]),
    },
    prev: null,
    stash: {},
  };
}

/**
 * The identity AppSync sends for a user-pool caller (as `authentication.ts`
 * builds it), with the claims of a token minted by the dev pool so that a
 * handler reading claims sees realistic ones.
 */
export function cognitoIdentity(userPool: DevUserPool, username: string, groups: readonly string[] = []): AppSyncIdentityCognito {
  const token = userPool.mint({ username, sub: username, groups });
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return {
    sub: username,
    issuer: userPool.issuer,
    username,
    claims,
    sourceIp: ['127.0.0.1'],
    defaultAuthStrategy: 'ALLOW',
    groups: groups.length > 0 ? [...groups] : null,
  };
}

/**
 * The GraphQL operations the app sends, as typed documents generated from the
 * repository's operations/ (npm run codegen at the root writes
 * generated/client/), printed to the strings aws-amplify's `client.graphql`
 * takes and branded so that it infers variables and result types from them,
 * as Amplify's own codegen does.
 */
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { OnOrderStatusChangedDocument, OnProductUpdatedDocument } from '../../../generated/client/graphql.js';

export {
  GetProductDocument,
  ListProductsDocument,
  PlaceOrderDocument,
  type OrderFieldsFragment,
  type OrderStatus,
  type ProductFieldsFragment,
} from '../../../generated/client/graphql.js';

type GeneratedQuery<Input, Output> = string & { __generatedQueryInput: Input; __generatedQueryOutput: Output };
type GeneratedMutation<Input, Output> = string & { __generatedMutationInput: Input; __generatedMutationOutput: Output };
type GeneratedSubscription<Input, Output> = string & { __generatedSubscriptionInput: Input; __generatedSubscriptionOutput: Output };

export const query = <TData, TVariables>(document: TypedDocumentNode<TData, TVariables>) =>
  print(document) as GeneratedQuery<TVariables, TData>;
export const mutation = <TData, TVariables>(document: TypedDocumentNode<TData, TVariables>) =>
  print(document) as GeneratedMutation<TVariables, TData>;

export const subscription = <TData, TVariables>(document: TypedDocumentNode<TData, TVariables>) =>
  print(document) as GeneratedSubscription<TVariables, TData>;

/** The live updates the pages follow, from operations/ like every other document. */
export const onProductUpdated = subscription(OnProductUpdatedDocument);
export const onOrderStatusChanged = subscription(OnOrderStatusChangedDocument);

/** What a GraphQL error from Amplify carries: `{ errors: [{ errorType, message }] }`, or an Error. */
export function errorText(error: unknown): string {
  if (error && typeof error === 'object' && 'errors' in error && Array.isArray((error as { errors: unknown[] }).errors)) {
    return (error as { errors: Array<{ errorType?: string; message?: string }> }).errors
      .map((e) => (e.errorType ? `${e.errorType}: ${e.message ?? ''}` : (e.message ?? 'error')))
      .join('; ');
  }
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

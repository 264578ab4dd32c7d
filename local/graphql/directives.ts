import { getNamedType, Kind, type ConstDirectiveNode, type GraphQLSchema } from 'graphql';
import type { AuthMode } from '../../declarations/api.js';

/**
 * The one reader of the schema's AppSync directives: `@aws_subscribe`
 * (which mutations publish to which subscription field; the real-time
 * publisher and the cost model both read it here, so they cannot disagree)
 * and the `@aws_*` auth directives (local/appsync/field-authorization.ts).
 */

/** Something of the schema built from SDL: a type or a field, with the directives written on it. */
export interface WithDirectives {
  readonly astNode?: { readonly directives?: readonly ConstDirectiveNode[] } | null;
}

/**
 * Subscription field name → the mutation field names its
 * `@aws_subscribe(mutations: [...])` lists (each once, in order; empty
 * without the directive), for every field of the subscription type.
 * Fails, like AppSync's schema validation, when a directive names something
 * other than a string, an unknown mutation, or one whose return type differs
 * from the subscription's. (`mutations: "m"` is the one-item list, as GraphQL
 * coerces a single value to a list.)
 */
export function subscribeMutations(schema: GraphQLSchema): ReadonlyMap<string, readonly string[]> {
  const triggers = new Map<string, readonly string[]>();
  const subscriptionType = schema.getSubscriptionType();
  if (!subscriptionType) return triggers;
  const mutationFields = schema.getMutationType()?.getFields() ?? {};
  for (const field of Object.values(subscriptionType.getFields())) {
    const mutations: string[] = [];
    const value = directive(field, 'aws_subscribe')?.arguments?.find((a) => a.name.value === 'mutations')?.value;
    for (const node of value === undefined ? [] : value.kind === Kind.LIST ? value.values : [value]) {
      if (node.kind !== Kind.STRING)
        throw new Error(`@aws_subscribe on ${subscriptionType.name}.${field.name} must list mutation names as strings`);
      const mutation = mutationFields[node.value];
      if (!mutation)
        throw new Error(`@aws_subscribe on ${subscriptionType.name}.${field.name} names ${node.value}, which is not a Mutation field`);
      if (getNamedType(mutation.type).name !== getNamedType(field.type).name) {
        throw new Error(
          `${subscriptionType.name}.${field.name} returns ${getNamedType(field.type).name} but ${node.value} returns ${getNamedType(mutation.type).name}`,
        );
      }
      if (!mutations.includes(node.value)) mutations.push(node.value);
    }
    triggers.set(field.name, mutations);
  }
  return triggers;
}

/** One allowed way in: a mode, optionally narrowed to user-pool groups. */
export interface AuthRule {
  readonly mode: AuthMode;
  readonly groups: readonly string[] | null;
}

/** AppSync's auth directives and the mode each admits (`@aws_auth` is the older name for user pools). */
export const AUTH_DIRECTIVE_MODES: Readonly<Record<string, AuthMode>> = {
  aws_api_key: 'API_KEY',
  aws_cognito_user_pools: 'AMAZON_COGNITO_USER_POOLS',
  aws_auth: 'AMAZON_COGNITO_USER_POOLS',
  aws_iam: 'AWS_IAM',
  aws_oidc: 'OPENID_CONNECT',
  aws_lambda: 'AWS_LAMBDA',
};

/** The `@aws_*` auth directives written on a type or field, in order (`cognito_groups` read when given as a list). */
export function authRules(element: WithDirectives): AuthRule[] {
  const rules: AuthRule[] = [];
  for (const node of element.astNode?.directives ?? []) {
    const mode = AUTH_DIRECTIVE_MODES[node.name.value];
    if (!mode) continue;
    const groupsArg = node.arguments?.find((arg) => arg.name.value === 'cognito_groups');
    const groups =
      groupsArg && groupsArg.value.kind === Kind.LIST
        ? groupsArg.value.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : []))
        : null;
    rules.push({ mode, groups });
  }
  return rules;
}

function directive(element: WithDirectives, name: string): ConstDirectiveNode | undefined {
  return element.astNode?.directives?.find((d) => d.name.value === name);
}

import { isObjectType, type GraphQLSchema, type ConstDirectiveNode } from 'graphql';
import type { AuthMode } from '../../declarations/api.js';

/** One allowed way in: a mode, optionally narrowed to user-pool groups. */
export interface AuthRule {
  readonly mode: AuthMode;
  readonly groups: readonly string[] | null;
}

export interface Caller {
  readonly mode: AuthMode;
  readonly groups: readonly string[];
  /**
   * `Type.field` coordinates a Lambda authorizer denied this caller
   * (`deniedFields`): refused like a field the caller's mode cannot see.
   */
  readonly deniedFields?: ReadonlySet<string>;
}

const DIRECTIVE_MODES: Record<string, AuthMode> = {
  aws_api_key: 'API_KEY',
  aws_cognito_user_pools: 'AMAZON_COGNITO_USER_POOLS',
  aws_auth: 'AMAZON_COGNITO_USER_POOLS',
  aws_iam: 'AWS_IAM',
  aws_oidc: 'OPENID_CONNECT',
  aws_lambda: 'AWS_LAMBDA',
};

function rulesOf(directives: readonly ConstDirectiveNode[] | undefined): AuthRule[] {
  const rules: AuthRule[] = [];
  for (const directive of directives ?? []) {
    const mode = DIRECTIVE_MODES[directive.name.value];
    if (!mode) continue;
    const groupsArg = directive.arguments?.find((arg) => arg.name.value === 'cognito_groups');
    const groups =
      groupsArg && groupsArg.value.kind === 'ListValue'
        ? groupsArg.value.values.flatMap((v) => (v.kind === 'StringValue' ? [v.value] : []))
        : null;
    rules.push({ mode, groups });
  }
  return rules;
}

/**
 * AppSync's rules, computed once per schema: a field's own @aws_* directives
 * win; without them the enclosing type's apply; without either, only the
 * API's default mode may read it.
 */
export class FieldAuthorization {
  readonly #rules = new Map<string, readonly AuthRule[]>();

  constructor(schema: GraphQLSchema, defaultMode: AuthMode) {
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      const typeRules = rulesOf(type.astNode?.directives);
      for (const field of Object.values(type.getFields())) {
        const fieldRules = rulesOf(field.astNode?.directives);
        const rules = fieldRules.length > 0 ? fieldRules : typeRules.length > 0 ? typeRules : [{ mode: defaultMode, groups: null }];
        this.#rules.set(`${type.name}.${field.name}`, rules);
      }
    }
  }

  rules(typeName: string, fieldName: string): readonly AuthRule[] {
    return this.#rules.get(`${typeName}.${fieldName}`) ?? [];
  }

  allows(caller: Caller, typeName: string, fieldName: string): boolean {
    if (fieldName.startsWith('__')) return true;
    if (caller.deniedFields?.has(`${typeName}.${fieldName}`)) return false;
    return this.rules(typeName, fieldName).some(
      (rule) => rule.mode === caller.mode && (rule.groups === null || rule.groups.some((g) => caller.groups.includes(g))),
    );
  }
}

import { isObjectType, type GraphQLSchema } from 'graphql';
import type { AuthMode } from '../../declarations/api.js';
import type { Caller, FieldAuthorizer } from '../graphql/authorization.js';
import { authRules, type AuthRule } from '../graphql/directives.js';

export type { Caller } from '../graphql/authorization.js';
export type { AuthRule } from '../graphql/directives.js';

/**
 * AppSync's rules, computed once per schema from its `@aws_*` directives
 * (read by local/graphql/directives.ts): a field's own directives win;
 * without them the enclosing type's apply; without either, only the API's
 * default mode may read it.
 */
export class FieldAuthorization implements FieldAuthorizer {
  /** By type name, then field name: looked up on every field resolution, so without building a `Type.field` key. */
  readonly #rules = new Map<string, Map<string, readonly AuthRule[]>>();

  constructor(schema: GraphQLSchema, defaultMode: AuthMode) {
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      const typeRules = authRules(type);
      const fields = new Map<string, readonly AuthRule[]>();
      for (const field of Object.values(type.getFields())) {
        const fieldRules = authRules(field);
        fields.set(
          field.name,
          fieldRules.length > 0 ? fieldRules : typeRules.length > 0 ? typeRules : [{ mode: defaultMode, groups: null }],
        );
      }
      this.#rules.set(type.name, fields);
    }
  }

  rules(typeName: string, fieldName: string): readonly AuthRule[] {
    return this.#rules.get(typeName)?.get(fieldName) ?? [];
  }

  allows(caller: Caller, typeName: string, fieldName: string): boolean {
    if (fieldName.startsWith('__')) return true;
    if (caller.deniedFields?.has(`${typeName}.${fieldName}`)) return false;
    for (const rule of this.rules(typeName, fieldName)) {
      if (rule.mode === caller.mode && (rule.groups === null || rule.groups.some((g) => caller.groups.includes(g)))) return true;
    }
    return false;
  }
}

import type { AuthMode } from '../../declarations/api.js';

/**
 * Who is asking, as field authorization sees it: what the executor and the
 * real-time endpoint both check fields against. local/appsync/authentication.ts
 * produces it; local/appsync/field-authorization.ts decides with it.
 */
export interface Caller {
  readonly mode: AuthMode;
  readonly groups: readonly string[];
  /**
   * `Type.field` coordinates a Lambda authorizer denied this caller
   * (`deniedFields`): refused like a field the caller's mode cannot see.
   */
  readonly deniedFields?: ReadonlySet<string>;
}

/** Per-field authorization by the schema's `@aws_*` directives; `FieldAuthorization` (local/appsync/field-authorization.ts) is the one implementation. */
export interface FieldAuthorizer {
  allows(caller: Caller, typeName: string, fieldName: string): boolean;
}

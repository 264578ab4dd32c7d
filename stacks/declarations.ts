import { api as apiDeclaration, type ApiDeclaration } from '../declarations/api.js';
import { checkDeclarations, type Route } from '../declarations/check.js';
import { loadSchemaSDL } from '../declarations/schema.js';
import { tables as tableDeclarations, type TableDeclaration, type TableName } from '../declarations/tables.js';
import {
  functions as functionDeclarations,
  type AuthorizerFunctionDeclaration,
  type FieldRoute,
  type ResolverFunctionDeclaration,
  type StreamFunctionDeclaration,
} from '../declarations/functions.js';

/**
 * What the stacks are built from. Defaults come from the project's one set of
 * declarations; the stack takes them as an input so a test can hand it an
 * extended copy (a new field, a new route) and see the effect without any
 * stack code changing.
 */

/** A resolver declaration whose fields are any `Type.field` string, so a copy may route fields the generated types don't know yet. */
export type StackResolverFunctionDeclaration = Omit<ResolverFunctionDeclaration, 'fields'> & {
  readonly fields: Readonly<Partial<Record<string, FieldRoute>>>;
};

/**
 * A stream function is provisioned like any function plus, per entry of its `eventSources`,
 * an event source mapping on that table's stream (with an SQS on-failure queue when
 * `deadLetter`); its role may read those streams (`streamReadStatements`).
 */
export type StackFunctionDeclaration = StackResolverFunctionDeclaration | AuthorizerFunctionDeclaration | StreamFunctionDeclaration;

export interface StackDeclarations {
  readonly functions: Readonly<Record<string, StackFunctionDeclaration>>;
  readonly tables: Readonly<Record<TableName, TableDeclaration>>;
  readonly api: ApiDeclaration;
  /** Exactly the text AppSync receives. */
  readonly schemaSDL: string;
}

export function defaultDeclarations(): StackDeclarations {
  return { functions: functionDeclarations, tables: tableDeclarations, api: apiDeclaration, schemaSDL: loadSchemaSDL() };
}

/** A routed field, as the checker returns it. */
export type StackRoute = Route;

/**
 * Every routed field of a function map, in declaration order, from the one
 * checker (declarations/check.ts): one function per field, every field in the
 * schema, batch sizes within AppSync's bounds, cognito groups declared. AppSync
 * would otherwise accept a resolver's creation only to fail at apply time.
 */
export function stackRoutes(declarations: StackDeclarations): StackRoute[] {
  return checkDeclarations(declarations);
}

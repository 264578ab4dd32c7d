import { isObjectType } from 'graphql';
import { api as apiDeclaration, type ApiDeclaration } from '../declarations/api.js';
import { buildAppSyncSchema, loadSchemaSDL } from '../declarations/schema.js';
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

export interface StackRoute {
  readonly coordinate: string;
  readonly functionName: string;
  readonly typeName: string;
  readonly fieldName: string;
  readonly maxBatchSize: number | undefined;
}

/** AppSync's bounds for a resolver's `maxBatchSize`. */
const MAX_BATCH_SIZE = 2000;

/**
 * Every routed field of a function map, in declaration order. Same rules as
 * `fieldRoutes()` (which reads the project's map only): one function per
 * field. Also checks each field against the schema, since AppSync would
 * otherwise accept the resolver's creation only to fail at apply time.
 */
export function stackRoutes(declarations: Pick<StackDeclarations, 'functions' | 'schemaSDL'>): StackRoute[] {
  const schema = buildAppSyncSchema(declarations.schemaSDL);
  const seen = new Map<string, string>();
  const routes: StackRoute[] = [];
  for (const [functionName, declaration] of Object.entries(declarations.functions)) {
    // An authorizer serves requests, not fields: AppSync calls it through the API's auth config.
    if (declaration.kind !== 'resolver') continue;
    for (const [coordinate, route] of Object.entries(declaration.fields)) {
      const previous = seen.get(coordinate);
      if (previous) throw new Error(`${coordinate} is served by both ${previous} and ${functionName}`);
      seen.set(coordinate, functionName);
      const [typeName, fieldName, ...rest] = coordinate.split('.');
      if (!typeName || !fieldName || rest.length > 0) throw new Error(`${coordinate} is not a Type.field coordinate`);
      const type = schema.getType(typeName);
      if (!isObjectType(type) || !type.getFields()[fieldName]) {
        throw new Error(`Function ${functionName} routes ${coordinate}, which the schema lacks`);
      }
      const maxBatchSize = route?.maxBatchSize;
      if (maxBatchSize !== undefined && (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > MAX_BATCH_SIZE)) {
        throw new Error(`${coordinate}: maxBatchSize must be 1 to ${MAX_BATCH_SIZE}`);
      }
      routes.push({ coordinate, functionName, typeName, fieldName, maxBatchSize });
    }
  }
  return routes;
}

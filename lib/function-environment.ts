import type { FunctionDeclaration } from '../resolvers/functions.js';
import { tableEnvVar, type TableName } from './tables.js';

/**
 * Environment variables a function gets wherever it runs, derived from its
 * declaration: one per table it uses, plus Powertools' service name. The
 * stacks and the local runtime both call this; neither lists variables.
 */
export function functionEnvironment(
  functionName: string,
  declaration: FunctionDeclaration,
  physicalTableNames: Readonly<Record<TableName, string>>,
): Record<string, string> {
  const environment: Record<string, string> = { POWERTOOLS_SERVICE_NAME: functionName };
  for (const table of Object.keys(declaration.tables) as TableName[]) {
    environment[tableEnvVar(table)] = physicalTableNames[table];
  }
  return environment;
}

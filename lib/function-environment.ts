import type { FunctionDeclaration } from '../resolvers/functions.js';
import { tableEnvVar, type TableName } from './tables.js';

/**
 * Environment variables a function gets wherever it runs, derived from its
 * declaration: one per table it uses, Powertools' service name, and its
 * declared parameters. The stacks and the local runtime both call this;
 * neither lists variables.
 *
 * `parameterValues` holds the deployment's values by variable name (Terraform
 * variable references in the stacks, local values in the runtime). Only the
 * variables the function declares are taken, and a declared one without a
 * value is an error: a function must not start with its configuration missing.
 */
export function functionEnvironment(
  functionName: string,
  declaration: Pick<FunctionDeclaration, 'tables' | 'parameters'>,
  physicalTableNames: Readonly<Record<TableName, string>>,
  parameterValues: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const environment: Record<string, string> = { POWERTOOLS_SERVICE_NAME: functionName };
  for (const table of Object.keys(declaration.tables) as TableName[]) {
    environment[tableEnvVar(table)] = physicalTableNames[table];
  }
  for (const name of Object.keys(declaration.parameters ?? {})) {
    const value = parameterValues[name];
    if (value === undefined) throw new Error(`Function ${functionName} declares parameter ${name}, but no value was supplied`);
    environment[name] = value;
  }
  return environment;
}

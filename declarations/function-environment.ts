import type { FunctionDeclaration } from './functions.js';
import { cacheEnvironmentVariables, type CacheEnvironmentVariable } from './cache-environment.js';
import { tableEnvVar, tables, type TableName } from './tables.js';

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
 *
 * A function that touches a table with a cache policy also gets the cache
 * variables (`lib/cache/config.ts`) present in `parameterValues`, and always
 * `CACHE_BACKEND` (`none` unless a value says otherwise): the deployment
 * decides the backend, the declarations decide who uses it.
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
  if (usesCache(declaration)) {
    environment.CACHE_BACKEND = 'none';
    for (const name of Object.keys(cacheEnvironmentVariables) as CacheEnvironmentVariable[]) {
      const value = parameterValues[name];
      if (value) environment[name] = value;
    }
  }
  for (const name of Object.keys(declaration.parameters ?? {})) {
    const value = parameterValues[name];
    if (value === undefined) throw new Error(`Function ${functionName} declares parameter ${name}, but no value was supplied`);
    environment[name] = value;
  }
  return environment;
}

/** Whether a function touches a table whose items are cached (declarations/tables.ts `cache`). */
export function usesCache(declaration: Pick<FunctionDeclaration, 'tables'>): boolean {
  return (Object.keys(declaration.tables) as TableName[]).some((table) => 'cache' in tables[table]);
}

import type { FunctionDeclaration, StreamEventSource, StreamFunctionDeclaration } from './functions.js';
import { tables as tableDeclarations, type TableDeclaration, type TableName } from './tables.js';

/**
 * The event source mappings a function map declares, flattened and checked
 * against Lambda's limits and the tables' stream declarations. The local
 * runtime starts its mappings from this and the stacks can provision from it,
 * so an invalid declaration fails before either does anything.
 */

export interface DeclaredEventSource {
  readonly functionName: string;
  readonly source: StreamEventSource;
}

/** CreateEventSourceMapping's bounds for DynamoDB streams. */
const LIMITS = {
  batchSize: [1, 10_000],
  maximumBatchingWindowInSeconds: [0, 300],
  maximumRetryAttempts: [-1, 10_000],
} as const satisfies Partial<Record<keyof StreamEventSource, readonly [number, number]>>;

export function isStreamDeclaration(declaration: Pick<FunctionDeclaration, 'kind'>): declaration is StreamFunctionDeclaration {
  return declaration.kind === 'stream';
}

export function declaredEventSources(
  functions: Readonly<Record<string, Pick<FunctionDeclaration, 'kind'>>>,
  tables: Readonly<Record<TableName, TableDeclaration>> = tableDeclarations,
): DeclaredEventSource[] {
  const sources: DeclaredEventSource[] = [];
  for (const [functionName, declaration] of Object.entries(functions)) {
    if (!isStreamDeclaration(declaration)) continue;
    const seen = new Set<TableName>();
    for (const source of declaration.eventSources) {
      checkEventSource(functionName, source, tables);
      // Stream records are encrypted with the table's key, which the function's table access grants.
      if (declaration.tables[source.table] === undefined) {
        throw new Error(`${functionName} reads the ${source.table} stream, so it must declare the ${source.table} table`);
      }
      // Two mappings of one function on one stream would deliver every record twice.
      if (seen.has(source.table)) throw new Error(`${functionName}: the ${source.table} stream is declared twice`);
      seen.add(source.table);
      sources.push({ functionName, source });
    }
    if (
      !(declaration.freshnessBoundSeconds > declaration.eventSources.reduce((max, s) => Math.max(max, s.maximumBatchingWindowInSeconds), 0))
    ) {
      throw new Error(`${functionName}: freshnessBoundSeconds must exceed every batching window`);
    }
    // A cached table promises a staleness bound; the function refreshing its cache must keep it.
    for (const { table } of declaration.eventSources) {
      const maxStalenessMs = tables[table].cache?.maxStalenessMs;
      if (maxStalenessMs !== undefined && declaration.freshnessBoundSeconds * 1000 > maxStalenessMs) {
        throw new Error(`${functionName}: freshnessBoundSeconds exceeds the ${table} cache's maxStalenessMs (${maxStalenessMs})`);
      }
    }
  }
  return sources;
}

function checkEventSource(functionName: string, source: StreamEventSource, tables: Readonly<Record<TableName, TableDeclaration>>): void {
  const where = `${functionName} (${source.table} stream)`;
  const table = tables[source.table];
  // The handler reads both images: a KEYS_ONLY or NEW_IMAGE stream would starve it silently.
  if (table.stream !== 'NEW_AND_OLD_IMAGES') {
    throw new Error(`${where}: table ${source.table} must declare stream NEW_AND_OLD_IMAGES, not ${table.stream ?? 'none'}`);
  }
  for (const [key, [min, max]] of Object.entries(LIMITS) as Array<[keyof typeof LIMITS, readonly [number, number]]>) {
    // All three are integers in Lambda's API (the window is whole seconds).
    const value = source[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${where}: ${key} must be an integer from ${min} to ${max}, got ${value}`);
    }
  }
}

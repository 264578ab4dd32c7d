import type { FunctionName } from '../declarations/functions.js';
import type { HealthReport } from './dev-routes.js';
import type { LocalFunction } from './lambda/function-runtime.js';
import type { DependencyStatus, StackRecovery } from './process/recovery.js';
import type { EventSourceMappingStats } from './streams/event-source-mapping.js';

/** The dependencies /health reports; the stack answers 503 while one of them is not up. */
export function healthReport(input: {
  recovery: StackRecovery;
  functions: ReadonlyMap<FunctionName, LocalFunction>;
  mappings: readonly EventSourceMappingStats[];
  stopping: boolean;
}): HealthReport {
  const { recovery, functions: localFunctions, mappings, stopping } = input;
  const failing = mappings.filter((mapping) => mapping.failing.length > 0 || mapping.state !== 'running');
  const streams: DependencyStatus = recovery.recovering() ? 'recovering' : failing.length > 0 ? 'down' : 'up';
  const dependencies = {
    dynamodb: recovery.dynamodbStatus(),
    redis: recovery.redisStatus(),
    functions: { status: (stopping ? 'down' : 'up') as DependencyStatus, count: localFunctions.size },
    streams: {
      status: streams,
      mappings: mappings.length,
      failing: failing.map(({ functionName, table, failing: calls }) => ({ functionName, table, failing: calls })),
    },
  };
  const down = Object.entries(dependencies)
    .filter(([, dependency]) => dependency.status !== 'up' && dependency.status !== 'disabled')
    .map(([name]) => name);
  return {
    httpStatus: down.length === 0 ? 200 : 503,
    body: {
      status: down.length === 0 ? 'ok' : 'unavailable',
      ...(down.length > 0 ? { down } : {}),
      dependencies,
      notices: recovery.notices(),
      functions: Object.fromEntries([...localFunctions].map(([name, fn]) => [name, fn.stats()])),
      eventSourceMappings: mappings,
    },
  };
}

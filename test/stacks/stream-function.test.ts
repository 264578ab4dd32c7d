import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredEventSources } from '../../declarations/event-sources.js';
import { physicalTableName, tables } from '../../declarations/tables.js';
import { functionNames, functions } from '../../declarations/functions.js';
import { environments } from '../../stacks/config.js';
import { streamReadActions } from '../../stacks/constructs/iam.js';
import type { PolicyDocument, PolicyStatement } from '../../stacks/lib/policy-document.js';
import {
  fakeArtifacts,
  ref,
  removeTempDirs,
  requireStack,
  resources,
  resourceWhere,
  synthStacks,
  type TerraformJson,
} from './support/synth.js';

/** The stream function as the stacks see it: a Lambda whose role may read exactly its event sources' streams. */

let dev: TerraformJson;
beforeAll(() => {
  dev = requireStack(synthStacks({ environments: [environments.dev], artifacts: fakeArtifacts(functionNames) }), 'dev').parsed;
});
afterAll(removeTempDirs);

function roleStatements(stack: TerraformJson, functionName: string): PolicyStatement[] {
  const [, fn] = resourceWhere(stack, 'aws_lambda_function', 'function_name', `storefront-dev-${functionName}`);
  const roleId = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(String(fn.role))?.[1] ?? '';
  const [policy] = resources(stack, 'aws_iam_role_policy').filter(([, body]) => body.role === ref('aws_iam_role', roleId, 'id'));
  return (JSON.parse(String(policy?.[1].policy)) as PolicyDocument).Statement.slice();
}

describe('stream function in the stacks', () => {
  it('gets a Lambda function and no AppSync data source', () => {
    expect(resourceWhere(dev, 'aws_lambda_function', 'function_name', 'storefront-dev-stream')[1]).toMatchObject({
      memory_size: functions.stream.memoryMb,
      timeout: functions.stream.timeoutSeconds,
    });
    expect(resources(dev, 'aws_appsync_datasource').filter(([, body]) => String(body.name).startsWith('stream'))).toEqual([]);
  });

  it('may read the streams of its declared event sources, by their exact ARNs, and no other', () => {
    const statements = roleStatements(dev, 'stream');
    const streamStatements = statements.filter((s) => s.Sid?.endsWith('Stream'));
    expect(streamStatements).toEqual(
      functions.stream.eventSources.map(({ table }) => {
        const [tableId] = resourceWhere(dev, 'aws_dynamodb_table', 'name', physicalTableName('storefront-dev', table));
        return {
          Sid: expect.stringMatching(/Stream$/),
          Effect: 'Allow',
          Action: [...streamReadActions],
          Resource: [ref('aws_dynamodb_table', tableId, 'stream_arn')],
        };
      }),
    );
    // Resolvers read no stream.
    expect(roleStatements(dev, 'catalog').filter((s) => JSON.stringify(s.Action).includes('GetRecords'))).toEqual([]);
  });

  it("leaves addReview with read access to products: the counters are the stream function's", () => {
    expect(functions.reviews.tables).toEqual({ reviews: 'readwrite', products: 'read' });
    expect(functions.stream.tables).toMatchObject({ products: 'readwrite', reviews: 'readwrite' });
  });
});

describe('declared event sources', () => {
  const stream = functions.stream;
  const withSource = (change: Record<string, unknown>, declaration: Record<string, unknown> = {}) => ({
    stream: { ...stream, ...declaration, eventSources: [{ ...stream.eventSources[0], ...change }] },
  });

  it('lists each stream of the function map once, with its settings', () => {
    expect(declaredEventSources(functions).map(({ functionName, source }) => `${functionName}:${source.table}`)).toEqual([
      'stream:products',
      'stream:reviews',
    ]);
  });

  it.each([
    [{ batchSize: 0 }, /batchSize must be an integer from 1 to 10000/],
    [{ maximumBatchingWindowInSeconds: 301 }, /maximumBatchingWindowInSeconds/],
    [{ maximumRetryAttempts: -2 }, /maximumRetryAttempts/],
    [{ table: 'orders' }, /must declare the orders table/],
  ])('refuses %j', (change, message) => {
    expect(() => declaredEventSources(withSource(change))).toThrow(message);
  });

  it('refuses a table without both stream images, a doubled stream and a bound the cache cannot keep', () => {
    expect(() => declaredEventSources(withSource({}), { ...tables, products: { ...tables.products, stream: 'KEYS_ONLY' } })).toThrow(
      /NEW_AND_OLD_IMAGES/,
    );
    const doubled = { stream: { ...stream, eventSources: [stream.eventSources[0], stream.eventSources[0]] } };
    expect(() => declaredEventSources(doubled)).toThrow(/declared twice/);
    expect(() => declaredEventSources(withSource({}, { freshnessBoundSeconds: 60 }))).toThrow(/maxStalenessMs/);
  });
});

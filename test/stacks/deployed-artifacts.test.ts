import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AppSyncIdentity } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionEnvironment } from '../../declarations/function-environment.js';
import { functionNames, functions, type FunctionName } from '../../declarations/functions.js';
import { ADMIN_GROUP } from '../../lib/identity.js';
import { createTables } from '../../local/dynamodb/create-tables.js';
import { dynamoDbClientConfig, dynamoDbClientEnvironment, type DynamoDBLocalHandle } from '../../local/dynamodb/dynamodb-local.js';
import { evaluateResolverCode, type EvaluatedResolver } from '../../stacks/appsync/evaluate.js';
import { lambdaResolverCode } from '../../stacks/appsync/resolver-code.js';
import { buildFunctionArtifacts, type FunctionArtifact } from '../../stacks/lib/artifacts.js';
import { cognitoIdentity } from '../support/fixtures.js';
import { leaseBundleDir } from '../support/bundle-dirs.js';
import { workerOrOwnDynamoDB } from '../support/worker-dynamodb.js';

/**
 * The function packages as `npm run synth` builds them (dev's: no cache
 * client), tested as deployed: each zip is unpacked with node's zlib, its
 * `index.handler` imported in a fresh Node process with only the environment
 * the stack gives the function (plus DynamoDB Local's endpoint), and invoked
 * with the event the deployed resolver code's `request` builds for an AppSync
 * context. The resolver code's `response` then turns the answer into the
 * field's value, as AppSync would.
 */

const STORED = 0;
const DEFLATED = 8;

/** Unpacks a zip through its central directory (as Lambda does) into `dir`. */
async function unzip(zip: Buffer, dir: string): Promise<string[]> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('No end of central directory record');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`No central directory header at ${offset}`);
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const local = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    if (method !== STORED && method !== DEFLATED) throw new Error(`${name}: unsupported compression method ${method}`);
    const target = join(dir, name);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, method === DEFLATED ? inflateRawSync(data) : data);
    names.push(name);
    offset += 46 + nameLength + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return names;
}

/**
 * Imports `index.mjs` of an unpacked function and invokes its handler with
 * each event in turn (one warm execution environment), in a fresh Node
 * process: what Lambda's Node.js runtime does, minus the runtime API.
 */
const RUNNER = `
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [taskDir, eventsFile, resultsFile] = process.argv.slice(2);
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
const { handler } = await import(pathToFileURL(taskDir + '/index.mjs').href);
if (typeof handler !== 'function') throw new Error('index.mjs exports no handler function');
const results = [];
for (const [index, event] of events.entries()) {
  const context = {
    awsRequestId: 'artifact-test-' + index,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '1',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME + ':live',
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: '/aws/lambda/' + process.env.AWS_LAMBDA_FUNCTION_NAME,
    logStreamName: 'artifact-test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 10000,
  };
  try {
    // Lambda answers the JSON of the value: undefined becomes null.
    results.push({ ok: true, payload: JSON.parse(JSON.stringify(await handler(event, context)) ?? 'null') });
  } catch (error) {
    results.push({ ok: false, errorMessage: String(error && error.message) });
  }
}
writeFileSync(resultsFile, JSON.stringify(results));
`;

type Invocation = { readonly ok: true; readonly payload: unknown } | { readonly ok: false; readonly errorMessage: string };

interface Deployed {
  readonly artifact: FunctionArtifact;
  readonly taskDir: string;
  readonly files: string[];
}

let workDir: string;
// Where the artifacts are built: kept between runs like the stacks' bundles, so an unchanged function is not
// bundled again (the bundle stamp decides; the zips are always made afresh from the bundles).
const buildLease = leaseBundleDir('artifacts-none');
let ddb: DynamoDBLocalHandle;
let tableNamesByLogical: Awaited<ReturnType<typeof createTables>>;
const deployed = new Map<FunctionName, Deployed>();

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'storefront-deployed-'));
  const [artifacts, started] = await Promise.all([
    buildFunctionArtifacts({ cacheBackend: 'none', buildDir: buildLease.dir ?? join(workDir, 'functions') }),
    workerOrOwnDynamoDB('artifacts', { quickStart: true }),
  ]);
  ddb = started.handle;
  const client = new DynamoDBClient(dynamoDbClientConfig(ddb.endpoint));
  tableNamesByLogical = await createTables(client, started.tablePrefix);
  client.destroy();
  for (const artifact of artifacts) {
    const taskDir = join(workDir, 'task', artifact.name);
    const files = await unzip(await readFile(artifact.zipFile), taskDir);
    deployed.set(artifact.name as FunctionName, { artifact, taskDir, files });
  }
  await writeFile(join(workDir, 'runner.mjs'), RUNNER);
}, 240_000);

afterAll(async () => {
  buildLease.release();
  await ddb?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Runs `events` through a function's unpacked package, in a fresh Node process; `log` is what the function wrote. */
async function invoke(name: FunctionName, events: readonly unknown[]): Promise<{ results: Invocation[]; log: string }> {
  const fn = deployed.get(name);
  if (!fn) throw new Error(`No package for ${name}`);
  const declaration = functions[name];
  // The authorizer's one parameter: an empty list admits no partner.
  const parameterValues: Record<string, string> = 'parameters' in declaration ? { PARTNER_TOKENS_SHA256: '' } : {};
  const eventsFile = join(workDir, `${name}-events.json`);
  const resultsFile = join(workDir, `${name}-results.json`);
  await writeFile(eventsFile, JSON.stringify(events));
  await rm(resultsFile, { force: true });
  // Only what the stack sets on the function, what Lambda's runtime sets, and the way to DynamoDB Local.
  const env = {
    ...functionEnvironment(name, declaration, tableNamesByLogical, parameterValues),
    ...dynamoDbClientEnvironment(ddb.endpoint),
    AWS_LAMBDA_FUNCTION_NAME: `storefront-artifacts-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(declaration.memoryMb),
    POWERTOOLS_LOG_LEVEL: 'WARN',
    TZ: 'UTC',
  };
  const child = spawn(process.execPath, [join(workDir, 'runner.mjs'), fn.taskDir, eventsFile, resultsFile], {
    cwd: fn.taskDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The function's log: Powertools writes warnings and errors to stderr, the rest (and EMF lines) to stdout.
  let log = '';
  const append = (chunk: Buffer) => {
    log += chunk.toString('utf8');
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${name} exited with ${code}: ${log}`);
  return { results: JSON.parse(await readFile(resultsFile, 'utf8')) as Invocation[], log };
}

interface FieldCall {
  readonly parentTypeName: string;
  readonly fieldName: string;
  readonly arguments?: Record<string, unknown>;
  readonly source?: Record<string, unknown>;
  readonly identity?: AppSyncIdentity;
  readonly selectionSetList?: readonly string[];
}

/**
 * The context AppSync hands the resolver code: `identity` and `source` absent
 * when there are none (API key, root field), no custom domain, a unit
 * resolver's `prev`, the `args` alias and `info` as AppSync fills them.
 */
function appSyncContext(call: FieldCall): Record<string, unknown> {
  const selectionSetList = [...(call.selectionSetList ?? ['id'])];
  return {
    arguments: call.arguments ?? {},
    args: call.arguments ?? {},
    ...(call.identity ? { identity: call.identity } : {}),
    ...(call.source ? { source: call.source } : {}),
    request: { headers: { 'content-type': 'application/json', host: 'example.appsync-api.us-east-1.amazonaws.com' } },
    info: {
      fieldName: call.fieldName,
      parentTypeName: call.parentTypeName,
      variables: {},
      selectionSetList,
      selectionSetGraphQL: `{ ${selectionSetList.join(' ')} }`,
    },
    stash: {},
    prev: { result: {} },
  };
}

const invokeCode = (): EvaluatedResolver => evaluateResolverCode(lambdaResolverCode('Invoke'));

/** One field through the deployed code: `request` → the function's package → `response`. */
async function resolveField(name: FunctionName, call: FieldCall): Promise<{ value: unknown; envelope: unknown; code: EvaluatedResolver }> {
  const code = invokeCode();
  const context = appSyncContext(call);
  const { operation, payload } = code.request(context);
  expect(operation).toBe('Invoke');
  const { results } = await invoke(name, [payload]);
  const [result] = results;
  if (!result?.ok) throw new Error(`${name} failed: ${result ? result.errorMessage : 'no result'}`);
  return { value: code.response({ ...context, result: result.payload }), envelope: result.payload, code };
}

const admin = cognitoIdentity({ username: 'artifact-admin', groups: [ADMIN_GROUP] });
const alice = cognitoIdentity({ username: 'alice' });

describe('the deployed function packages', () => {
  it('hold an index.mjs that a fresh Node process imports, for every function', async () => {
    expect([...deployed.keys()].sort()).toEqual([...functionNames].sort());
    for (const [name, fn] of deployed) {
      expect(fn.files, name).toContain('index.mjs');
      expect(
        fn.files.filter((file) => file.endsWith('.map')),
        name,
      ).toEqual([]);
      // No event: only the import and the handler's presence (checked by the runner).
      const { results } = await invoke(name, []);
      expect(results, name).toEqual([]);
    }
  });

  it('answer a mutation, Query.product and the BatchInvoke OrderItem.product as the resolver code expects', async () => {
    const input = { sku: 'ART-1', name: 'Deployed kettle', priceCents: 2500, currency: 'USD', category: 'artifacts', stock: 5 };
    const created = await resolveField('catalog', {
      parentTypeName: 'Mutation',
      fieldName: 'createProduct',
      arguments: { input },
      identity: admin,
      selectionSetList: ['id', 'name', 'priceCents', 'stock'],
    });
    expect(created.envelope).toEqual({ data: expect.objectContaining({ ...input, id: expect.any(String) }) });
    const product = created.value as { id: string };
    expect(product).toMatchObject(input);

    const read = await resolveField('catalog', { parentTypeName: 'Query', fieldName: 'product', arguments: { id: product.id } });
    expect(read.envelope).toEqual({ data: expect.objectContaining({ id: product.id, name: input.name }) });
    expect(read.value).toEqual((read.envelope as { data: unknown }).data);

    // BatchInvoke: AppSync runs `request` per list item and sends the function the array of payloads.
    const batchCode = evaluateResolverCode(lambdaResolverCode('BatchInvoke'));
    const lines = [{ productId: product.id }, { productId: 'no-such-product' }, { productId: product.id }];
    const contexts = lines.map((source) =>
      appSyncContext({ parentTypeName: 'OrderItem', fieldName: 'product', source, identity: alice, selectionSetList: ['id', 'name'] }),
    );
    const requests = contexts.map((context) => batchCode.request(context));
    expect(new Set(requests.map((request) => request.operation))).toEqual(new Set(['BatchInvoke']));
    const { results } = await invoke('catalog', [requests.map((request) => request.payload)]);
    const [batch] = results;
    if (!batch?.ok) throw new Error(`BatchInvoke failed: ${batch ? batch.errorMessage : 'no result'}`);
    const envelopes = batch.payload as unknown[];
    expect(envelopes).toHaveLength(lines.length);
    // AppSync hands each item's resolver its own element; a missing product is a null field.
    expect(envelopes[1]).toEqual({ data: null });
    const values = contexts.map((context, index) => batchCode.response({ ...context, result: envelopes[index] }));
    expect(values[0]).toMatchObject({ id: product.id, name: input.name });
    expect(values).toEqual([values[0], null, values[0]]);
  });

  it('refuses another customer at subscribe time and hands the resolver code the subscription filters', async () => {
    const own = await resolveField('orders', {
      parentTypeName: 'Subscription',
      fieldName: 'onOrderStatusChanged',
      arguments: { customerId: alice.sub },
      identity: alice,
      selectionSetList: [],
    });
    expect(own.value).toBeNull();
    const ownOrders = { filterGroup: [{ filters: [{ fieldName: 'customerId', operator: 'eq', value: alice.sub }] }] };
    expect(own.code.calls).toEqual([
      ['setSubscriptionFilter', ownOrders],
      ['setSubscriptionInvalidationFilter', ownOrders],
    ]);

    await expect(
      resolveField('orders', {
        parentTypeName: 'Subscription',
        fieldName: 'onOrderStatusChanged',
        arguments: { customerId: 'someone-else' },
        identity: alice,
        selectionSetList: [],
      }),
    ).rejects.toMatchObject({ type: 'Unauthorized' });
  });

  it('is refused by the router when request.domainName is missing: why the resolver code builds every key', async () => {
    const { payload } = invokeCode().request(appSyncContext({ parentTypeName: 'Query', fieldName: 'product', arguments: { id: 'x' } }));
    const forwarded = { ...payload, request: { headers: (payload.request as { headers: unknown }).headers } };
    const { results, log } = await invoke('catalog', [forwarded]);
    expect(results).toEqual([{ ok: true, payload: null }]);
    expect(log).toContain('Received an event that is not compatible with this resolver');
  });
});

/**
 * Creates the tables declared in declarations/tables.ts in DynamoDB Local, the same
 * shape the CDKTF stacks provision in AWS, so local and deployed code see the
 * same keys, indexes and streams.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import {
  physicalTableName,
  tableEnvVar,
  tableNames,
  tables,
  type KeyAttribute,
  type TableDeclaration,
  type TableName,
} from '../../declarations/tables.js';

const ACTIVE_TIMEOUT_MS = 30_000;
const ACTIVE_POLL_MS = 100;

/**
 * Creates every declared table under `prefix` (skipping ones that already
 * exist, so persisted databases survive restarts) and returns logical → physical names.
 */
export async function createTables(client: DynamoDBClient, prefix: string): Promise<Record<TableName, string>> {
  const names = {} as Record<TableName, string>;
  // Sequential on purpose: DynamoDB Local serialises table creation anyway,
  // and errors then name the table that failed.
  for (const table of tableNames) {
    const physical = physicalTableName(prefix, table);
    await ensureTable(client, physical, tables[table]);
    names[table] = physical;
  }
  return names;
}

/** Environment variables through which functions learn the physical table names. */
export function tableEnvironment(names: Record<TableName, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const table of tableNames) env[tableEnvVar(table)] = names[table];
  return env;
}

/**
 * Creates one table from a declaration if missing, waits for ACTIVE and
 * enables TTL. Exported so the TTL path can be exercised even while no
 * declared table uses it.
 *
 * CreateTable goes first: on a fresh DynamoDB Local (every in-memory start) it
 * succeeds and its answer already says whether the table is ACTIVE, so a table
 * costs one request rather than three (a DescribeTable before and after). A
 * table that exists (a persisted database, or another process sharing the
 * instance created it first) answers ResourceInUseException and is described
 * and checked against its declaration as before.
 */
export async function ensureTable(client: DynamoDBClient, physicalName: string, declaration: TableDeclaration): Promise<void> {
  // The table as its CreateTable answer or DescribeTable showed it.
  let table: TableDescription | undefined;
  try {
    table = (await client.send(new CreateTableCommand(createTableInput(physicalName, declaration)))).TableDescription;
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    table = await describeTable(client, physicalName);
    // Skipping a table whose shape drifted from the declaration (e.g. a
    // persisted DB from before a GSI was added) would surface later as
    // confusing ValidationExceptions; fail here with the reason instead.
    const drift = table ? describeDrift(table, declaration) : [];
    if (drift.length > 0) {
      throw new Error(
        `Table ${physicalName} exists but differs from declarations/tables.ts: ${drift.join('; ')}. ` +
          'Delete the table (or the persisted DynamoDB Local directory) and restart.',
      );
    }
  }
  if (!(table && isActive(table))) await waitUntilActive(client, physicalName);
  if (declaration.ttlAttribute !== undefined) await ensureTimeToLive(client, physicalName, declaration.ttlAttribute);
}

function createTableInput(physicalName: string, declaration: TableDeclaration): CreateTableCommandInput {
  const attributes = new Map<string, AttributeDefinition>();
  const define = (key: KeyAttribute): void => {
    const known = attributes.get(key.name);
    if (known && known.AttributeType !== key.type) {
      throw new Error(`Table ${declaration.name}: attribute ${key.name} is declared both as ${known.AttributeType} and ${key.type}`);
    }
    attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
  };

  define(declaration.partitionKey);
  if (declaration.sortKey) define(declaration.sortKey);
  for (const index of declaration.globalSecondaryIndexes) {
    define(index.partitionKey);
    if (index.sortKey) define(index.sortKey);
  }

  return {
    TableName: physicalName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes.values()],
    KeySchema: keySchema(declaration.partitionKey, declaration.sortKey),
    // DynamoDB rejects an empty GlobalSecondaryIndexes list; omit it instead.
    ...(declaration.globalSecondaryIndexes.length > 0 && {
      GlobalSecondaryIndexes: declaration.globalSecondaryIndexes.map((index) => ({
        IndexName: index.name,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        Projection: { ProjectionType: index.projection },
      })),
    }),
    ...(declaration.stream !== undefined && {
      StreamSpecification: { StreamEnabled: true, StreamViewType: declaration.stream },
    }),
  };
}

function keySchema(partitionKey: KeyAttribute, sortKey: KeyAttribute | undefined): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}

async function describeTable(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    return Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** ACTIVE, and so is every GSI: they have their own status, and queries against a CREATING index fail. */
function isActive(table: TableDescription): boolean {
  return table.TableStatus === 'ACTIVE' && (table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
}

async function waitUntilActive(client: DynamoDBClient, name: string): Promise<void> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    const table = await describeTable(client, name);
    if (table && isActive(table)) return;
    if (Date.now() > deadline) {
      throw new Error(`Table ${name} not ACTIVE after ${ACTIVE_TIMEOUT_MS} ms (status ${table?.TableStatus ?? 'missing'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, ACTIVE_POLL_MS));
  }
}

async function ensureTimeToLive(client: DynamoDBClient, name: string, attribute: string): Promise<void> {
  const { TimeToLiveDescription: ttl } = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
  if (ttl?.AttributeName === attribute && (ttl.TimeToLiveStatus === 'ENABLED' || ttl.TimeToLiveStatus === 'ENABLING')) {
    return;
  }
  // UpdateTimeToLive fails with ValidationException when TTL is already enabled, hence the check above.
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { Enabled: true, AttributeName: attribute },
    }),
  );
}

function describeDrift(table: TableDescription, declaration: TableDeclaration): string[] {
  const drift: string[] = [];
  const format = (schema: KeySchemaElement[] | undefined): string =>
    (schema ?? []).map((key) => `${key.AttributeName}:${key.KeyType}`).join(',');

  const wantKeys = format(keySchema(declaration.partitionKey, declaration.sortKey));
  const haveKeys = format(table.KeySchema);
  if (wantKeys !== haveKeys) drift.push(`key schema is ${haveKeys}, declared ${wantKeys}`);

  const haveIndexes = new Map((table.GlobalSecondaryIndexes ?? []).map((index) => [index.IndexName, index]));
  for (const index of declaration.globalSecondaryIndexes) {
    const have = haveIndexes.get(index.name);
    const wantIndexKeys = format(keySchema(index.partitionKey, index.sortKey));
    if (!have) drift.push(`GSI ${index.name} missing`);
    else if (format(have.KeySchema) !== wantIndexKeys) {
      drift.push(`GSI ${index.name} keys are ${format(have.KeySchema)}, declared ${wantIndexKeys}`);
    }
    haveIndexes.delete(index.name);
  }
  for (const name of haveIndexes.keys()) drift.push(`undeclared GSI ${name ?? '?'}`);

  const stream = table.StreamSpecification?.StreamEnabled ? table.StreamSpecification.StreamViewType : undefined;
  if (stream !== declaration.stream) drift.push(`stream is ${stream ?? 'disabled'}, declared ${declaration.stream ?? 'disabled'}`);
  return drift;
}

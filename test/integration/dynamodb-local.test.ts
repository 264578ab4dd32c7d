/**
 * Runs the real DynamoDB Local JVM (no mocks): table creation from
 * declarations/tables.ts, idempotency, transactions, persistence, loopback-only
 * binding and clean shutdown.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { physicalTableName, tableEnvVar, tableNames, tables, type TableDeclaration } from '../../declarations/tables.js';
import { createTables, ensureTable, tableEnvironment } from '../../local/dynamodb/create-tables.js';
import { dynamoDbClientConfig, startDynamoDBLocal, type DynamoDBLocalHandle } from '../../local/dynamodb/dynamodb-local.js';
import { LOGGING_JVM_FLAGS } from '../../local/dynamodb/jvm-flags.js';
import { findFreePort } from '../../local/process/ports.js';

const PREFIX = 'itest';

/** First non-loopback IPv4 address of this machine, if it has one. */
function externalIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return undefined;
}

/** Resolves with the connect error code, or 'connected'. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Local addresses of LISTEN sockets on `port`, from the kernel's own tables (Linux only). */
function listeningAddresses(port: number): string[] | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const state = fields[3];
      if (state === '0A' && local?.endsWith(`:${hexPort}`)) found.push(local.slice(0, -5));
    }
  }
  return found;
}

const LOOPBACK_HEX = new Set([
  '0100007F', // 127.0.0.1 in /proc/net/tcp (little-endian)
  '0000000000000000FFFF00000100007F', // ::ffff:127.0.0.1
  '00000000000000000000000001000000', // ::1
]);

describe('DynamoDB Local', () => {
  let ddb: DynamoDBLocalHandle;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  const log: string[] = [];

  beforeAll(async () => {
    const startedAt = performance.now();
    ddb = await startDynamoDBLocal({ log: (line) => log.push(line) });
    console.info(`DynamoDB Local started in ${Math.round(performance.now() - startedAt)} ms at ${ddb.endpoint}`);
    client = new DynamoDBClient(dynamoDbClientConfig(ddb.endpoint));
    doc = DynamoDBDocumentClient.from(client);
  }, 120_000);

  afterAll(async () => {
    client?.destroy();
    await ddb?.stop();
  });

  it('serves on a 127.0.0.1 endpoint and logs its start-up', () => {
    expect(ddb.endpoint).toBe(`http://127.0.0.1:${ddb.port}`);
    expect(log.some((line) => line.includes('LoopbackDynamoDBLocal: listening'))).toBe(true);
  });

  it('creates every declared table with its keys, GSIs and stream', async () => {
    const names = await createTables(client, PREFIX);
    expect(Object.keys(names).sort()).toEqual([...tableNames].sort());

    for (const table of tableNames) {
      const declaration: TableDeclaration = tables[table];
      expect(names[table]).toBe(physicalTableName(PREFIX, table));
      const { Table } = await client.send(new DescribeTableCommand({ TableName: names[table] }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(Table?.KeySchema).toEqual([
        { AttributeName: declaration.partitionKey.name, KeyType: 'HASH' },
        ...(declaration.sortKey ? [{ AttributeName: declaration.sortKey.name, KeyType: 'RANGE' }] : []),
      ]);

      const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
        name: index.IndexName,
        keys: index.KeySchema,
        projection: index.Projection?.ProjectionType,
      }));
      expect(indexes.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(
        declaration.globalSecondaryIndexes
          .map((index) => ({
            name: index.name,
            keys: [
              { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
              ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
            ],
            projection: index.projection,
          }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      );

      // Attribute definitions: exactly the key attributes, each once.
      const keyAttributes = new Set(
        [declaration.partitionKey, declaration.sortKey, ...declaration.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey])]
          .filter((key) => key !== undefined)
          .map((key) => `${key.name}:${key.type}`),
      );
      expect(new Set(Table?.AttributeDefinitions?.map((a) => `${a.AttributeName}:${a.AttributeType}`))).toEqual(keyAttributes);
      expect(Table?.AttributeDefinitions).toHaveLength(keyAttributes.size);

      if (declaration.stream) {
        expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: declaration.stream });
        expect(Table?.LatestStreamArn).toMatch(/^arn:aws:dynamodb:/);
      } else {
        expect(Table?.StreamSpecification?.StreamEnabled ?? false).toBe(false);
      }
    }
  });

  it('is idempotent: a second createTables skips existing tables', async () => {
    const before = await client.send(new ListTablesCommand({}));
    const names = await createTables(client, PREFIX);
    const after = await client.send(new ListTablesCommand({}));
    expect(after.TableNames).toEqual(before.TableNames);
    expect(names).toEqual(Object.fromEntries(tableNames.map((t) => [t, physicalTableName(PREFIX, t)])));
  });

  it('creates a missing table with one request, and describes only a table that exists', async () => {
    const sent: string[] = [];
    const counting = new DynamoDBClient(dynamoDbClientConfig(ddb.endpoint));
    counting.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      // products has a GSI: its answer must say the index is ACTIVE too, or ensureTable waits for it.
      await ensureTable(counting, `${PREFIX}-fresh-products`, tables.products);
      expect(sent).toEqual(['CreateTableCommand']);
      sent.length = 0;
      await ensureTable(counting, `${PREFIX}-fresh-products`, tables.products);
      expect(sent).toEqual(['CreateTableCommand', 'DescribeTableCommand']);
    } finally {
      counting.destroy();
    }
  });

  it('maps table env vars to physical names', async () => {
    const names = await createTables(client, PREFIX);
    const env = tableEnvironment(names);
    expect(Object.keys(env).sort()).toEqual(tableNames.map(tableEnvVar).sort());
    for (const table of tableNames) expect(env[tableEnvVar(table)]).toBe(physicalTableName(PREFIX, table));
  });

  it('enables TTL where a declaration sets ttlAttribute, idempotently', async () => {
    // No declared table uses TTL yet, so exercise the path with a synthetic declaration.
    const declaration: TableDeclaration = {
      name: 'sessions',
      partitionKey: { name: 'id', type: 'S' },
      globalSecondaryIndexes: [],
      ttlAttribute: 'expiresAt',
    };
    await ensureTable(client, `${PREFIX}-sessions`, declaration);
    await ensureTable(client, `${PREFIX}-sessions`, declaration);
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: `${PREFIX}-sessions` }));
    expect(TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
  });

  it('rejects an existing table whose shape drifted from its declaration', async () => {
    const drifted: TableDeclaration = { ...tables.reviews, sortKey: { name: 'createdAt', type: 'S' } };
    await expect(ensureTable(client, physicalTableName(PREFIX, 'reviews'), drifted)).rejects.toThrow(/key schema/);
  });

  it('runs transactions: a failed ConditionExpression cancels the whole write', async () => {
    const orders = physicalTableName(PREFIX, 'orders');
    const products = physicalTableName(PREFIX, 'products');
    const createdAt = new Date().toISOString();
    await doc.send(new PutCommand({ TableName: products, Item: { id: 'p1', category: 'books', createdAt, stock: 1 } }));

    const order = (id: string) => ({
      TransactItems: [
        {
          Update: {
            TableName: products,
            Key: { id: 'p1' },
            UpdateExpression: 'SET stock = stock - :one',
            ConditionExpression: 'stock >= :one',
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
        {
          Put: {
            TableName: orders,
            Item: { id, customerId: 'c1', createdAt, productId: 'p1' },
            ConditionExpression: 'attribute_not_exists(id)',
          },
        },
      ],
    });

    await doc.send(new TransactWriteCommand(order('o1')));

    const failure = await doc.send(new TransactWriteCommand(order('o2'))).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransactionCanceledException);
    expect((failure as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual(['ConditionalCheckFailed', 'None']);

    expect((await doc.send(new GetCommand({ TableName: products, Key: { id: 'p1' } }))).Item?.stock).toBe(0);
    expect((await doc.send(new GetCommand({ TableName: orders, Key: { id: 'o1' } }))).Item).toBeDefined();
    expect((await doc.send(new GetCommand({ TableName: orders, Key: { id: 'o2' } }))).Item).toBeUndefined();
  });

  it('delivers stream records with new and old images', async () => {
    const reviews = physicalTableName(PREFIX, 'reviews');
    await doc.send(new PutCommand({ TableName: reviews, Item: { productId: 'p1', id: 'r1', rating: 5 } }));
    await doc.send(new PutCommand({ TableName: reviews, Item: { productId: 'p1', id: 'r1', rating: 4 } }));

    const { Table } = await client.send(new DescribeTableCommand({ TableName: reviews }));
    const streamsClient = new DynamoDBStreamsClient(dynamoDbClientConfig(ddb.endpoint));
    try {
      const { StreamDescription } = await streamsClient.send(new DescribeStreamCommand({ StreamArn: Table?.LatestStreamArn }));
      const { ShardIterator } = await streamsClient.send(
        new GetShardIteratorCommand({
          StreamArn: Table?.LatestStreamArn,
          ShardId: StreamDescription?.Shards?.[0]?.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const { Records } = await streamsClient.send(new GetRecordsCommand({ ShardIterator }));
      const modify = Records?.find((r) => r.eventName === 'MODIFY');
      expect(modify?.dynamodb?.OldImage?.rating).toEqual({ N: '5' });
      expect(modify?.dynamodb?.NewImage?.rating).toEqual({ N: '4' });
    } finally {
      streamsClient.destroy();
    }
  });

  it.runIf(process.platform === 'linux')('loads SQLite from the package, writing no copy of it into the temp directory', async () => {
    await client.send(new ListTablesCommand({}));
    // Every mapping of a file named like sqlite4java's library, whatever directory it came from.
    const mapped = new Set(
      readFileSync(`/proc/${ddb.health().pid}/maps`, 'utf8')
        .split('\n')
        .map((line) => line.slice(line.indexOf('/')))
        .filter((path) => path.includes('libsqlite4java')),
    );
    // One file, DynamoDBLocal_lib's; DynamoDB Local's own loader would map a tmp copy (sqlite-392-<uuid>-libsqlite4java.so).
    expect([...mapped]).toEqual([expect.stringMatching(/\/DynamoDBLocal_lib\/libsqlite4java-linux-[\w]+\.so$/)]);
  });

  it("logs through log4j-api's SimpleLogger at ERROR, so log4j-core never has to start", () => {
    const commandLine = readFileSync(`/proc/${ddb.health().pid}/cmdline`, 'utf8').split('\0');
    expect(commandLine).toEqual(expect.arrayContaining([...LOGGING_JVM_FLAGS]));
    expect(LOGGING_JVM_FLAGS).toContain('-Dorg.apache.logging.log4j.simplelog.level=ERROR');
  });

  it('listens on loopback only', async () => {
    expect(await tryConnect('127.0.0.1', ddb.port)).toBe('connected');

    const kernelView = listeningAddresses(ddb.port);
    if (kernelView) {
      expect(kernelView.length).toBeGreaterThan(0);
      for (const address of kernelView) expect(LOOPBACK_HEX.has(address)).toBe(true);
    }

    const external = externalIPv4();
    if (external) expect(await tryConnect(external, ddb.port)).toBe('ECONNREFUSED');
    expect(kernelView !== undefined || external !== undefined).toBe(true);
  });

  it('stop() terminates the JVM and frees the port', async () => {
    await ddb.stop();
    expect(await canBind(ddb.port)).toBe(true);
    expect(await tryConnect('127.0.0.1', ddb.port)).toBe('ECONNREFUSED');
    await ddb.stop(); // second call is a no-op
  });
});

describe('DynamoDB Local with quickStart', () => {
  it('runs its JVM with the C1 compiler only, the serial GC and no hsperfdata, and serves tables as usual', async () => {
    const ddb = await startDynamoDBLocal({ quickStart: true });
    const client = new DynamoDBClient(dynamoDbClientConfig(ddb.endpoint));
    try {
      const commandLine = readFileSync(`/proc/${ddb.health().pid}/cmdline`, 'utf8').split('\0');
      expect(commandLine).toEqual(expect.arrayContaining(['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-XX:-UsePerfData']));
      const created = await createTables(client, 'quick');
      expect(Object.keys(created).sort()).toEqual([...tableNames].sort());
    } finally {
      client.destroy();
      await ddb.stop();
    }
  }, 120_000);
});

describe('DynamoDB Local with persistDir', () => {
  it('keeps tables and items across restarts', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ddb-local-')), 'nested', 'data');
    try {
      const first = await startDynamoDBLocal({ persistDir: dir });
      let client = new DynamoDBClient(dynamoDbClientConfig(first.endpoint));
      try {
        const names = await createTables(client, PREFIX);
        await DynamoDBDocumentClient.from(client).send(
          new PutCommand({ TableName: names.products, Item: { id: 'kept', category: 'c', createdAt: 'now' } }),
        );
      } finally {
        client.destroy();
        await first.stop();
      }

      const second = await startDynamoDBLocal({ persistDir: dir });
      client = new DynamoDBClient(dynamoDbClientConfig(second.endpoint));
      try {
        const names = await createTables(client, PREFIX);
        const { Item } = await DynamoDBDocumentClient.from(client).send(new GetCommand({ TableName: names.products, Key: { id: 'kept' } }));
        expect(Item?.category).toBe('c');
      } finally {
        client.destroy();
        await second.stop();
      }
    } finally {
      rmSync(join(dir, '..', '..'), { recursive: true, force: true });
    }
  }, 60_000);
});

describe('DynamoDB Local supervision', () => {
  it('restarts a SIGKILLed JVM on the same port; in memory, it comes back empty', async () => {
    const ddb = await startDynamoDBLocal({ restart: true });
    const client = new DynamoDBClient({ ...dynamoDbClientConfig(ddb.endpoint), maxAttempts: 1 });
    try {
      await createTables(client, PREFIX);
      const crashes: string[] = [];
      let downMs: number | undefined;
      ddb.on('crash', ({ exit }) => crashes.push(exit.kind === 'exit' ? String(exit.signal) : 'spawn'));
      ddb.on('restarted', (event) => (downMs = event.downMs));
      const killedAt = Date.now();
      expect(ddb.kill('SIGKILL')).toBe(true);
      await vi.waitFor(() => expect(crashes).toEqual(['SIGKILL']), { timeout: 2_000, interval: 5 });
      const detectedMs = Date.now() - killedAt;
      expect(ddb.health().state).toBe('restarting');
      await vi.waitFor(() => expect(downMs).toBeDefined(), { timeout: 90_000, interval: 50 });
      console.info(`DynamoDB Local: SIGKILL noticed after ${detectedMs} ms, answering again after ${downMs} ms`);
      expect(ddb.health()).toMatchObject({ state: 'running', port: ddb.port, restarts: 1, lastExit: { how: 'signal SIGKILL' } });
      const { TableNames } = await client.send(new ListTablesCommand({}));
      expect(TableNames).toEqual([]); // in memory: the tables died with the JVM (the local stack recreates them)
    } finally {
      client.destroy();
      await ddb.stop();
    }
  }, 120_000);

  it('a JVM that is not ready by the deadline is killed, and the error names it', async () => {
    const error = await startDynamoDBLocal({ readyTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/DynamoDB Local did not become ready within \d+ s on 127\.0\.0\.1:\d+/);
    const port = /127\.0\.0\.1:(\d+)/.exec(String(error))![1]!;
    // Its JVM (the only one started with this port) is gone by the time start() rejects.
    let jvms = '';
    try {
      jvms = execFileSync('pgrep', ['-f', `LoopbackDynamoDBLocal.* -port ${port} `], { encoding: 'utf8' });
    } catch {
      // pgrep exits 1 when nothing matches
    }
    expect(jvms).toBe('');
  }, 60_000);

  it('an aborted start stops the JVM it spawned and rejects with the reason', async () => {
    const controller = new AbortController();
    const reason = new Error('no longer needed');
    const port = await findFreePort();
    // Aborted once the JVM has said something: it is running, and not yet ready.
    const error = await startDynamoDBLocal({ port, log: () => controller.abort(reason), signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect(error).toBe(reason);
    let jvms = '';
    try {
      jvms = execFileSync('pgrep', ['-f', `LoopbackDynamoDBLocal.* -port ${port} `], { encoding: 'utf8' });
    } catch {
      // pgrep exits 1 when nothing matches
    }
    expect(jvms).toBe('');
    expect(await canBind(port)).toBe(true);
    // Already aborted: nothing is spawned.
    await expect(startDynamoDBLocal({ port, signal: controller.signal })).rejects.toBe(reason);
  }, 60_000);
});

describe('DynamoDB Local lifetime', () => {
  const moduleUrl = new URL('../../local/dynamodb/dynamodb-local.ts', import.meta.url).href;

  /** Starts DynamoDB Local in a separate Node process, ends that process the given way, returns the JVM's port. */
  async function orphanCheck(end: 'process.exit' | 'SIGKILL'): Promise<number> {
    const script = [
      `import { startDynamoDBLocal } from ${JSON.stringify(moduleUrl)};`,
      'const handle = await startDynamoDBLocal();',
      'console.log(`PORT ${handle.port}`);',
      end === 'process.exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);',
    ].join('\n');
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    parent.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      parent.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /PORT (\d+)/.exec(output);
        if (match?.[1]) resolve(Number(match[1]));
      });
      parent.once('exit', () => setTimeout(() => reject(new Error(`parent exited without a port:\n${output}`)), 100));
    });
    if (end === 'SIGKILL') parent.kill('SIGKILL');
    return port;
  }

  /** Whether the port is refused and bindable again within `timeoutMs` (polled with vi.waitFor). */
  async function waitForPortFree(port: number, timeoutMs: number): Promise<boolean> {
    return vi
      .waitFor(
        async () => {
          expect(await tryConnect('127.0.0.1', port)).toBe('ECONNREFUSED');
          expect(await canBind(port)).toBe(true);
        },
        { timeout: timeoutMs, interval: 100 },
      )
      .then(
        () => true,
        () => false,
      );
  }

  it('the JVM does not outlive a parent that exits or is SIGKILLed', async () => {
    const [exitedPort, killedPort] = await Promise.all([orphanCheck('process.exit'), orphanCheck('SIGKILL')]);
    // SIGKILL skips 'exit' handlers; the launcher notices its stdin pipe closing instead.
    expect(await waitForPortFree(exitedPort, 10_000)).toBe(true);
    expect(await waitForPortFree(killedPort, 10_000)).toBe(true);
  }, 60_000);
});

describe('DynamoDB Local start-up failures', () => {
  it('explains how to install Java when it is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(tmpdir(), 'no-java-here');
    try {
      await expect(startDynamoDBLocal()).rejects.toThrow(/Java 17\+ runtime.*apt-get install -y default-jre-headless/s);
    } finally {
      process.env.PATH = path;
    }
  });

  it('reports an early exit with the JVM stderr tail when the port is taken', async () => {
    // Drop connections at once: the readiness probe reaches this server, and
    // close() would otherwise wait for those sockets.
    const blocker: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const address = blocker.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    try {
      await expect(startDynamoDBLocal({ port: address.port })).rejects.toThrow(
        /exited before it was ready \(exit code 3\)[\s\S]*java output[\s\S]*could not listen on 127\.0\.0\.1/,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 60_000);
});

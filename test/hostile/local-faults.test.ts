/**
 * Faults in the local stack's own processes (README "Local faults"): a killed
 * redis-server or DynamoDB Local is noticed at once, reported by /health (503,
 * naming it), restarted on its port, and the API answers again; an in-memory
 * DynamoDB Local's lost data is said loudly and its tables recreated. While the
 * cache is unreachable, product stream records wait for it rather than fill
 * the dead letters, and they correct what the cache kept through the outage.
 *
 * Order matters: the DynamoDB case comes last, because it loses the data.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AdjustStockDocument, GetProductDocument } from '../../generated/client/graphql.js';
import { cachePolicy } from '../../lib/cache/index.js';
import { dynamoDbClientConfig } from '../../local/dynamodb/dynamodb-local.js';
import { sampleProducts, seedCatalog } from '../../local/seed.js';
import { cacheAccess, metricDelta, settledMetrics, type CacheAccess } from '../support/cache.js';
import { alongsideOrdinaryRequest, createProduct } from '../support/hostile.js';
import { fetchHealth, useLocalStack, type ApiClient } from '../support/local-stack.js';

const platform: string[] = [];
const SEEDED = sampleProducts(3).map((product) => product.id);
// Kills and restarts DynamoDB Local: a JVM of its own, not the worker's (support/worker-dynamodb.ts).
// Its initial data, as `npm run dev --seed` has the sample catalog: in before the API listens, back after a loss.
const local = useLocalStack({
  ownDynamoDB: true,
  log: (line) => platform.push(line),
  initialData: (database) => seedCatalog(database, SEEDED.length),
});
let cache: CacheAccess;
beforeAll(async () => {
  cache = await cacheAccess(local.stack);
});
afterAll(() => cache?.close());

/** Lines the process writes (the functions' log lines arrive on our stdout/stderr), from now until restore(). */
function captureOutput(): { lines(): string[]; restore(): void } {
  const lines: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write.bind(stream);
    return vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return write(chunk, ...rest);
    }) as typeof stream.write);
  });
  return { lines: () => [...lines], restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

/** Mixed traffic from three clients (reads of `probe`, every 5th a stock change) until stopped; every failed request is kept. */
function traffic(api: ApiClient, probe: string, others: readonly string[]): { stop(): Promise<{ requests: number; failures: string[] }> } {
  let running = true;
  let requests = 0;
  const failures: string[] = [];
  const client = async (): Promise<void> => {
    while (running) {
      const index = requests++;
      try {
        const res =
          index % 5 === 4
            ? await api.request(AdjustStockDocument, { id: others[index % others.length]!, delta: 1 }, api.admin())
            : await api.request(GetProductDocument, { id: probe }, api.asApiKey);
        if (res.status !== 200 || res.errors) failures.push(JSON.stringify(res));
      } catch (error) {
        failures.push(String(error));
      }
    }
  };
  const clients = Promise.all([client(), client(), client()]);
  return {
    async stop() {
      running = false;
      await clients;
      return { requests, failures };
    },
  };
}

async function readVersion(api: ApiClient, id: string): Promise<number | undefined> {
  const res = await api.request(GetProductDocument, { id }, api.asApiKey);
  expect(res.errors).toBeUndefined();
  return res.data?.product?.version;
}

describe('local faults', () => {
  it('redis-server killed with SIGKILL: reads keep answering, it is restarted on its port, /health says so, no dead letters', async () => {
    const { stack, api } = local;
    const redis = stack.redis!;
    const probe = (await createProduct(api)).id;
    const others = await Promise.all([1, 2, 3].map(async () => (await createProduct(api)).id));
    expect((await fetchHealth(stack)).status).toBe(200);
    const deadLetters = stack.deadLetters().length;
    const { port, url } = redis;

    let healthAtCrash: ReturnType<typeof stack.health> | undefined;
    const crashed = new Promise<number>((resolve) =>
      redis.on('crash', () => ((healthAtCrash = stack.health()), resolve(performance.now()))),
    );
    const load = traffic(api, probe, others);
    const killedAt = performance.now();
    expect(redis.kill('SIGKILL')).toBe(true);
    const detectedMs = (await crashed) - killedAt;
    expect(healthAtCrash?.httpStatus).toBe(503);
    expect(healthAtCrash?.body).toMatchObject({
      status: 'unavailable',
      down: ['redis'],
      dependencies: { redis: { status: 'restarting' } },
    });
    // An ordinary read during the outage still answers (from DynamoDB), in time.
    await alongsideOrdinaryRequest(api, probe, () => fetchHealth(stack));

    await vi.waitFor(async () => expect((await fetchHealth(stack)).status).toBe(200), { timeout: 30_000, interval: 25 });
    const backMs = performance.now() - killedAt;
    const { body } = await fetchHealth(stack);
    expect(body.dependencies.redis).toMatchObject({
      status: 'up',
      process: { state: 'running', port, restarts: 1, lastExit: { how: 'signal SIGKILL' } },
    });
    expect(
      body.notices.some((notice) => notice.dependency === 'redis' && /redis-server died \(signal SIGKILL\)/.test(notice.message)),
    ).toBe(true);
    expect(redis.url).toBe(url);

    // The functions reconnect by themselves: reads are cache hits again, without errors.
    await vi.waitFor(
      async () => {
        const before = await settledMetrics(stack, 'catalog');
        for (let i = 0; i < 3; i++) await readVersion(api, probe);
        const after = await settledMetrics(stack, 'catalog');
        expect(metricDelta(after, before, 'CacheErrors')).toBe(0);
        expect(metricDelta(after, before, 'CacheHits')).toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 100 },
    );
    const { requests, failures } = await load.stop();
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThanOrEqual(3);
    expect(stack.deadLetters()).toHaveLength(deadLetters);
    console.info(
      `redis-server: SIGKILL noticed after ${detectedMs.toFixed(0)} ms, /health 200 again after ${backMs.toFixed(0)} ms; ${requests} requests, none failed`,
    );
  }, 120_000);

  it('while the cache is unreachable with its data kept, product stream records wait and then correct it: no dead letters, a few log lines', async () => {
    const { stack, api } = local;
    const redis = stack.redis!;
    const id = (await createProduct(api)).id; // written through: version 1 is cached
    expect(await cache.redis.get(cache.productKey(id))).toMatch(/^1\|/);
    const db = DynamoDBDocumentClient.from(new DynamoDBClient(dynamoDbClientConfig(stack.dynamoDbEndpoint)));
    const deadLetters = stack.deadLetters().length;
    const platformFrom = platform.length;
    const output = captureOutput();
    // Frozen, not killed: it keeps its data, like an ElastiCache replica promoted after a failover.
    redis.kill('SIGSTOP');
    const frozenAt = performance.now();
    try {
      // Writes around the API (no write-through): only the stream function can correct the cached version 1.
      for (let change = 1; change <= 3; change++) {
        await db.send(
          new UpdateCommand({
            TableName: stack.tables.products,
            Key: { id },
            UpdateExpression: 'SET #name = :name, version = version + :one',
            ExpressionAttributeNames: { '#name': 'name' },
            ExpressionAttributeValues: { ':name': `changed while frozen ${change}`, ':one': 1 },
          }),
        );
      }
      await vi.waitFor(() => expect(output.lines().some((line) => line.includes('holding the products stream'))).toBe(true), {
        timeout: 20_000,
        interval: 50,
      });
      // The outage lasts well past the mapping's whole retry budget (0.2 + 0.4 + 0.8 s), which used to
      // dead-letter every record; reads answer throughout, from DynamoDB, with the newest version.
      while (performance.now() - frozenAt < 4_000) expect(await readVersion(api, id)).toBe(4);
    } finally {
      redis.kill('SIGCONT');
      output.restore();
    }

    // Held records apply as soon as it answers: the entry kept at version 1 is corrected (or fenced) within the bound.
    await vi.waitFor(
      async () => {
        expect(await readVersion(api, id)).toBe(4);
        const raw = await cache.redis.get(cache.productKey(id));
        expect(raw === null || raw === '~' || raw.startsWith('4|'), `cached entry ${raw}`).toBe(true);
      },
      { timeout: cachePolicy('product').maxStalenessMs, interval: 50 },
    );
    expect(stack.deadLetters()).toHaveLength(deadLetters);
    const lines = output.lines();
    const stream = lines.filter((line) => line.includes('"service":"stream"'));
    expect(stream.filter((line) => line.includes('Stream record failed'))).toEqual([]);
    expect(stream.length, stream.join('\n')).toBeLessThanOrEqual(4);
    // One "unreachable" line per execution environment that noticed, not one per record or retry.
    const warnings = lines.filter((line) => /"level":"(WARN|ERROR)"/.test(line));
    expect(warnings.length, warnings.join('\n')).toBeLessThanOrEqual(15);
    const retries = platform.slice(platformFrom).filter((line) => line.includes('← products') && /retry|dead letters/.test(line));
    expect(retries).toEqual([]);
    db.destroy();
  }, 120_000);

  it('DynamoDB Local killed with SIGKILL: /health 503 naming it, restarted, tables recreated, the loss said loudly, the API answers again', async () => {
    const { stack, api } = local;
    const lost = (await createProduct(api)).id;
    for (const id of SEEDED) expect(await readVersion(api, id)).toBe(1);
    const alerts = vi.spyOn(console, 'error');
    try {
      const killedAt = performance.now();
      expect(stack.dynamodb.kill('SIGKILL')).toBe(true);
      await vi.waitFor(
        async () => {
          const { status, body } = await fetchHealth(stack);
          expect(status).toBe(503);
          expect(body.down).toContain('dynamodb');
          expect(['restarting', 'recovering']).toContain(body.dependencies.dynamodb.status);
        },
        { timeout: 10_000, interval: 20 },
      );
      const detectedMs = performance.now() - killedAt;

      await vi.waitFor(async () => expect((await fetchHealth(stack)).status).toBe(200), { timeout: 150_000, interval: 100 });
      const backMs = performance.now() - killedAt;
      const { body } = await fetchHealth(stack);
      expect(body.dependencies.dynamodb).toMatchObject({
        status: 'up',
        persisted: false,
        process: { state: 'running', restarts: 1, lastExit: { how: 'signal SIGKILL' } },
        dataLoss: [{ dependency: 'dynamodb', message: expect.stringMatching(/every table and item it held is LOST/) }],
      });
      expect(body.notices.map((notice) => notice.message)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^DynamoDB Local died \(signal SIGKILL\)/), expect.stringMatching(/LOST/)]),
      );
      expect(alerts.mock.calls.some(([line]) => /LOST/.test(String(line)))).toBe(true);

      // The API works on the recreated tables, with the initial data loaded again. What was lost is gone, and not
      // served from the cache either.
      expect(await readVersion(api, lost)).toBeUndefined();
      for (const id of SEEDED) expect(await readVersion(api, id)).toBe(1);
      const fresh = (await createProduct(api)).id;
      await alongsideOrdinaryRequest(api, fresh, () => readVersion(api, fresh));
      // The stream mappings follow the new tables' streams.
      await vi.waitFor(
        () => {
          const products = stack.eventSourceMappings().find((mapping) => mapping.table === 'products')!;
          expect(products).toMatchObject({ state: 'running', failing: [] });
          expect(products.recordsRead).toBeGreaterThan(0);
        },
        { timeout: 20_000, interval: 50 },
      );
      console.info(
        `DynamoDB Local: SIGKILL noticed by /health after ${detectedMs.toFixed(0)} ms, /health 200 again after ${backMs.toFixed(0)} ms`,
      );
    } finally {
      alerts.mockRestore();
    }
  }, 200_000);
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  LocalFunction,
  LocalFunctionClosedError,
  formatReportLine,
  type InvokeResult,
  type LocalFunctionOptions,
} from '../../local/lambda/function-runtime.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/lambda/${name}.mjs`, import.meta.url));

const open: LocalFunction[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((fn) => fn.close()));
});

function makeFunction(bundle: string, overrides: Partial<LocalFunctionOptions> = {}) {
  const lines: string[] = [];
  const fn = new LocalFunction({
    name: `test-${bundle}`,
    bundlePath: fixture(bundle),
    environment: {},
    memoryMb: 256,
    timeoutSeconds: 10,
    maxConcurrency: 1,
    log: (line) => lines.push(line),
    ...overrides,
  });
  open.push(fn);
  return { fn, lines };
}

function payloadOf(result: InvokeResult): Record<string, unknown> {
  if (!result.ok) throw new Error(`expected success, got ${result.error.errorType}: ${result.error.errorMessage}`);
  return result.payload as Record<string, unknown>;
}

function errorOf(result: InvokeResult) {
  if (result.ok) throw new Error(`expected a function error, got ${JSON.stringify(result.payload)}`);
  return result.error;
}

/** Counts messages on a BroadcastChannel, which the `heartbeat` fixture mode posts to from its thread. */
function listen(channelName: string) {
  const channel = new BroadcastChannel(channelName);
  const state = { beats: 0, close: () => channel.close() };
  channel.onmessage = () => {
    state.beats += 1;
  };
  return state;
}

/**
 * Proves a stopped heartbeat stays stopped with a later marker rather than a
 * quiet period: a fresh environment's heartbeat, on a channel of its own and
 * at the same 10 ms pace, beats `markerBeats` times meanwhile. At most one
 * beat of the stopped one may still have been in flight.
 */
async function expectNoMoreBeats(stopped: ReturnType<typeof listen>, beatsAtStop: number, markerBeats = 15) {
  const { fn: markerFunction } = makeFunction('errors', { timeoutSeconds: 30 });
  const channelName = `marker-${Math.random()}`;
  const marker = listen(channelName);
  try {
    const running = markerFunction.invoke({ mode: 'heartbeat', channel: channelName }).catch(() => undefined);
    await vi.waitFor(() => expect(marker.beats).toBeGreaterThanOrEqual(markerBeats), { timeout: 15_000, interval: 5 });
    expect(stopped.beats - beatsAtStop).toBeLessThanOrEqual(1);
    await markerFunction.close();
    await running;
  } finally {
    marker.close();
  }
}

describe('LocalFunction: environment lifecycle', () => {
  it('serves the first invocation cold (with init duration) and reuses the warm module afterwards', async () => {
    const { fn } = makeFunction('stateful', { environment: { INIT_DELAY_MS: '120', SOME_VAR: 'configured' } });

    const first = await fn.invoke({});
    const second = await fn.invoke({});

    expect(first.report.coldStart).toBe(true);
    expect(first.report.initDurationMs).toBeGreaterThanOrEqual(120);
    expect(second.report.coldStart).toBe(false);
    expect(second.report).not.toHaveProperty('initDurationMs');

    const a = payloadOf(first);
    const b = payloadOf(second);
    expect(a.count).toBe(1);
    expect(b.count).toBe(2);
    expect(b.instanceId).toBe(a.instanceId);
    expect(a.someVar).toBe('configured');
    expect(fn.stats()).toMatchObject({ invocations: 2, coldStarts: 1, environments: 1, busy: 0, queued: 0 });
  });

  it('gives each environment its own module state and process.env, leaving the server env alone', async () => {
    process.env.LAMBDA_TEST_SERVER_ONLY = 'server';
    try {
      const { fn } = makeFunction('stateful', { maxConcurrency: 2 });

      // Two overlapping invocations force two environments; the first writes its process.env.
      const [writer, reader] = await Promise.all([
        fn.invoke({ setEnv: { name: 'LEAKY', value: 'from-writer' }, sleepMs: 200, probe: 'LEAKY' }),
        fn.invoke({ sleepMs: 200, probe: 'LEAKY' }),
      ]);
      const w = payloadOf(writer);
      const r = payloadOf(reader);
      expect(w.instanceId).not.toBe(r.instanceId);
      expect(w.count).toBe(1);
      expect(r.count).toBe(1);
      expect(w.probe).toBe('from-writer');
      expect(r.probe).toBeNull();
      expect(process.env.LEAKY).toBeUndefined();

      // Warm again, each environment still sees only its own variables.
      const again = (await Promise.all([fn.invoke({ sleepMs: 100, probe: 'LEAKY' }), fn.invoke({ sleepMs: 100, probe: 'LEAKY' })])).map(
        payloadOf,
      );
      expect(again.every((p) => p.count === 2)).toBe(true);
      for (const p of again) expect(p.probe).toBe(p.instanceId === w.instanceId ? 'from-writer' : null);
      expect(new Set(again.map((p) => p.instanceId))).toEqual(new Set([w.instanceId, r.instanceId]));

      // The server's own variables are not inherited either.
      const probe = payloadOf(await fn.invoke({ probe: 'LAMBDA_TEST_SERVER_ONLY' }));
      expect(probe.probe).toBeNull();
    } finally {
      delete process.env.LAMBDA_TEST_SERVER_ONLY;
    }
  });

  it('provides the Lambda environment variables and context object', async () => {
    const { fn } = makeFunction('stateful', {
      name: 'catalog',
      memoryMb: 512,
      timeoutSeconds: 7,
      environment: { AWS_REGION: 'eu-west-1' },
    });
    const result = await fn.invoke({});
    const payload = payloadOf(result);

    expect(payload.lambdaEnv).toEqual({
      functionName: 'catalog',
      memorySize: '512',
      version: '$LATEST',
      region: 'eu-west-1',
      executionEnv: 'AWS_Lambda_nodejs22.x',
      home: null,
    });
    const context = payload.context as Record<string, unknown>;
    expect(context).toMatchObject({
      functionName: 'catalog',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:catalog',
      memoryLimitInMB: '512',
      awsRequestId: result.report.requestId,
      logGroupName: '/aws/lambda/catalog',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(context.remainingMs).toBeGreaterThan(6_000);
    expect(context.remainingMs).toBeLessThanOrEqual(7_000);
    expect(result.report.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('moves the payload across as JSON, like Lambda', async () => {
    const { fn } = makeFunction('stateful');
    const payload = payloadOf(await fn.invoke({}));
    expect(payload.at).toBe('1970-01-01T00:00:00.000Z');
    expect(payload).not.toHaveProperty('dropped');
    expect(payload.someVar).toBeUndefined();

    expect(await fn.invoke({ returnUndefined: true })).toMatchObject({ ok: true, payload: null });

    const { fn: echo } = makeFunction('errors', { handlerExport: 'callbackHandler' });
    const echoed = payloadOf(await echo.invoke({ when: new Date(0), skip: undefined }));
    expect(echoed).toEqual({ via: 'callback', echo: { when: '1970-01-01T00:00:00.000Z' } });

    await expect(fn.invoke({ big: 1n })).rejects.toThrow(TypeError);
  });

  it('resolves dotted handler exports', async () => {
    const { fn } = makeFunction('errors', { handlerExport: 'nested.deeper' });
    expect(await fn.invoke({})).toMatchObject({ ok: true, payload: 'nested handler' });
  });
});

describe('LocalFunction: concurrency', () => {
  it('never runs more than maxConcurrency environments and queues the rest in order', async () => {
    const { fn, lines } = makeFunction('stateful', { maxConcurrency: 2 });
    let maxEnvironments = 0;
    let maxBusy = 0;
    const sample = () => {
      const s = fn.stats();
      maxEnvironments = Math.max(maxEnvironments, s.environments);
      maxBusy = Math.max(maxBusy, s.busy);
    };
    const sampler = setInterval(sample, 2);
    try {
      const pending = Array.from({ length: 5 }, () => fn.invoke({ sleepMs: 150 }));
      sample();
      expect(fn.stats()).toMatchObject({ environments: 2, busy: 2, queued: 3 });
      const results = await Promise.all(pending);

      expect(results.every((r) => r.ok)).toBe(true);
      expect(maxEnvironments).toBe(2);
      expect(maxBusy).toBe(2);
      expect(new Set(results.map((r) => payloadOf(r).instanceId)).size).toBe(2);
      expect(results.filter((r) => r.report.coldStart)).toHaveLength(2);
      expect(fn.stats()).toMatchObject({ invocations: 5, coldStarts: 2, environments: 2, busy: 0, queued: 0 });

      // Queued invocations start in arrival order (the first two wait on
      // their own cold starts, which may finish in either order).
      const startOrder = lines
        .filter((line) => line.startsWith('START '))
        .map((line) => results.findIndex((r) => line.includes(r.report.requestId)));
      expect(startOrder.filter((index) => index >= 2)).toEqual([2, 3, 4]);
    } finally {
      clearInterval(sampler);
    }
  });
});

describe('LocalFunction: failures', () => {
  it('times out a hung handler, terminates its environment, and starts cold next time', async () => {
    const { fn, lines } = makeFunction('errors', { timeoutSeconds: 0.3 });
    const channelName = `timeout-${Math.random()}`;
    const heartbeat = listen(channelName);
    try {
      const started = Date.now();
      const timedOut = await fn.invoke({ mode: 'heartbeat', channel: channelName });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(errorOf(timedOut)).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 0.30 seconds' });
      expect(timedOut.report.durationMs).toBeGreaterThanOrEqual(290);
      expect(lines.some((l) => /Z \S+ Task timed out after 0\.30 seconds$/.test(l))).toBe(true);
      expect(heartbeat.beats).toBeGreaterThan(0);

      await expectNoMoreBeats(heartbeat, heartbeat.beats);
    } finally {
      heartbeat.close();
    }

    const next = await fn.invoke({ mode: 'ok' });
    expect(next).toMatchObject({ ok: true, payload: 'fine', report: { coldStart: true } });
    expect(next.report.initDurationMs).toBeGreaterThan(0);
    expect(fn.stats()).toMatchObject({ environments: 1, coldStarts: 2 });
  });

  it('times out CPU-bound handlers too', async () => {
    const { fn } = makeFunction('errors', { timeoutSeconds: 0.2 });
    expect(errorOf(await fn.invoke({ mode: 'spin' })).errorType).toBe('Sandbox.Timedout');
    expect(await fn.invoke({ mode: 'ok' })).toMatchObject({ ok: true, report: { coldStart: true } });
  });

  it('maps thrown errors to errorType/errorMessage and keeps the environment warm', async () => {
    const { fn, lines } = makeFunction('errors');
    const notFound = errorOf(await fn.invoke({ mode: 'notFound', id: 'p-1' }));
    expect(notFound.errorType).toBe('NotFound');
    expect(notFound.errorMessage).toBe('Product p-1 not found');
    expect(notFound.stack?.[0]).toBe('NotFound: Product p-1 not found');
    expect(lines.some((l) => l.includes('\tERROR\tInvoke Error \t{"errorType":"NotFound"'))).toBe(true);

    // The Node.js runtime reports non-Error throws by their typeof.
    expect(errorOf(await fn.invoke({ mode: 'string' }))).toMatchObject({ errorType: 'string', errorMessage: 'plain string' });

    expect(errorOf(await fn.invoke({ mode: 'circular' }))).toMatchObject({
      errorType: 'Error',
      errorMessage: 'Unable to stringify response body',
    });

    const after = await fn.invoke({ mode: 'ok' });
    expect(after.report.coldStart).toBe(false);
    expect(fn.stats()).toMatchObject({ coldStarts: 1, environments: 1 });
  });

  it('fails the invocation with the init error and discards the environment', async () => {
    const { fn } = makeFunction('init-error');
    const first = await fn.invoke({});
    expect(errorOf(first)).toMatchObject({ errorType: 'ConfigError', errorMessage: 'REQUIRED_TABLE is not set' });
    expect(first.report.coldStart).toBe(true);
    expect(first.report.initDurationMs).toBeGreaterThan(0);
    expect(fn.stats().environments).toBe(0);

    // Init is retried in a fresh environment on the next invocation.
    expect(errorOf(await fn.invoke({})).errorType).toBe('ConfigError');
    expect(fn.stats()).toMatchObject({ coldStarts: 2, environments: 0 });

    const { fn: configured } = makeFunction('init-error', { environment: { REQUIRED_TABLE: 'products' } });
    expect(await configured.invoke({})).toMatchObject({ ok: true, payload: { table: 'products' } });
  });

  it.each([
    ['missing-import', 'Runtime.ImportModuleError', /Cannot find package 'this-package-does-not-exist-anywhere'/],
    ['syntax-error', 'Runtime.UserCodeSyntaxError', /^SyntaxError: /],
    ['no-handler', 'Runtime.HandlerNotFound', /^no-handler\.handler is undefined or not exported$/],
    ['exit-at-init', 'Runtime.ExitError', /Runtime exited with error: exit status 3$/],
  ])('reports %s as %s', async (bundle, errorType, message) => {
    const { fn } = makeFunction(bundle);
    const error = errorOf(await fn.invoke({}));
    expect(error.errorType).toBe(errorType);
    expect(error.errorMessage).toMatch(message);
    expect(fn.stats().environments).toBe(0);
  });

  it.each([
    ['exit', 'Runtime.ExitError', /^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 1$/],
    ['uncaught', 'TypeError', /^thrown from a timer$/],
    ['rejection', 'Runtime.UnhandledPromiseRejection', /^Error: nobody awaits me$/],
  ])('survives a crashing handler (%s) and replaces the environment', async (mode, errorType, message) => {
    const { fn } = makeFunction('errors');
    await fn.invoke({ mode: 'ok' });

    const crashed = await fn.invoke({ mode });
    const error = errorOf(crashed);
    expect(error.errorType).toBe(errorType);
    expect(error.errorMessage).toMatch(message);
    expect(crashed.report.coldStart).toBe(false);
    expect(fn.stats().environments).toBe(0);

    expect(await fn.invoke({ mode: 'ok' })).toMatchObject({ ok: true, report: { coldStart: true } });
  });

  it('reports running out of the memory limit as Runtime.OutOfMemory', async () => {
    const { fn } = makeFunction('errors', { memoryMb: 128, timeoutSeconds: 20 });
    const error = errorOf(await fn.invoke({ mode: 'oom' }));
    expect(error.errorType).toBe('Runtime.OutOfMemory');
    expect(await fn.invoke({ mode: 'ok' })).toMatchObject({ ok: true, report: { coldStart: true } });
  });
});

describe('LocalFunction: logs and reports', () => {
  it('logs START, END and a Lambda-format REPORT line per invocation', async () => {
    const { fn, lines } = makeFunction('stateful');
    const cold = await fn.invoke({});
    const warm = await fn.invoke({});

    const id = cold.report.requestId;
    expect(lines.slice(0, 3)).toEqual([
      `START RequestId: ${id} Version: $LATEST`,
      `END RequestId: ${id}`,
      expect.stringMatching(
        new RegExp(
          `^REPORT RequestId: ${id}\\tDuration: \\d+\\.\\d{2} ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: \\d+\\.\\d{2} ms$`,
        ),
      ),
    ]);
    expect(lines[5]).toMatch(
      new RegExp(
        `^REPORT RequestId: ${warm.report.requestId}\\tDuration: \\d+\\.\\d{2} ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB\\tMax Memory Used: \\d+ MB$`,
      ),
    );
    for (const { report } of [cold, warm]) {
      expect(report.billedDurationMs).toBe(Math.ceil(report.durationMs));
      expect(report.memorySizeMb).toBe(256);
      expect(report.maxMemoryUsedMb).toBeGreaterThan(0);
      expect(report.maxMemoryUsedMb).toBeLessThan(256);
    }
  });

  it('counts the hand-off to the environment and back, but neither the init nor the Duration', async () => {
    const { fn } = makeFunction('stateful', { environment: { INIT_DELAY_MS: '300' } });
    expect(fn.stats().handOffMs).toBe(0);

    let waited = 0;
    let durations = 0;
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const { report } = await fn.invoke({ sleepMs: 250 });
      waited += performance.now() - started;
      durations += report.durationMs;
    }

    const { handOffMs } = fn.stats();
    expect(handOffMs).toBeGreaterThan(0);
    // What the caller waited, less what the environment measured: the init (300 ms) and hand-off are left.
    expect(handOffMs).toBeLessThanOrEqual(waited - durations);
    // Neither the 300 ms init nor either 250 ms Duration is in it.
    expect(handOffMs).toBeLessThan(200);
  });

  it('formats REPORT fields exactly', () => {
    const report = {
      requestId: 'r-1',
      durationMs: 12.3,
      billedDurationMs: 13,
      memorySizeMb: 512,
      maxMemoryUsedMb: 80,
      coldStart: false,
    };
    expect(formatReportLine(report)).toBe(
      'REPORT RequestId: r-1\tDuration: 12.30 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 80 MB',
    );
    expect(formatReportLine({ ...report, coldStart: true, initDurationMs: 123.456 })).toBe(
      'REPORT RequestId: r-1\tDuration: 12.30 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 80 MB\tInit Duration: 123.46 ms',
    );
  });
});

describe('LocalFunction: close', () => {
  it('terminates running workers and rejects in-flight and queued invocations', async () => {
    const { fn } = makeFunction('errors', { maxConcurrency: 1, timeoutSeconds: 30 });
    const channelName = `close-${Math.random()}`;
    const heartbeat = listen(channelName);
    try {
      const running = fn.invoke({ mode: 'heartbeat', channel: channelName });
      const queued = fn.invoke({ mode: 'ok' });
      await vi.waitFor(() => expect(heartbeat.beats).toBeGreaterThan(0), { timeout: 5_000, interval: 5 });
      expect(fn.stats()).toMatchObject({ environments: 1, busy: 1, queued: 1 });

      const outcomes = Promise.allSettled([running, queued]);
      await fn.close();
      for (const outcome of await outcomes) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(LocalFunctionClosedError);
      }
      expect(fn.stats()).toMatchObject({ environments: 0, busy: 0, queued: 0 });

      await expectNoMoreBeats(heartbeat, heartbeat.beats);
    } finally {
      heartbeat.close();
    }
    await expect(fn.invoke({ mode: 'ok' })).rejects.toBeInstanceOf(LocalFunctionClosedError);
  });
});

describe('LocalFunction: EMF metrics on stdout', () => {
  it('sums the metric lines an environment prints, as CloudWatch would extract them, and counts the reports', async () => {
    const written = vi.spyOn(process.stdout, 'write');
    try {
      const { fn } = makeFunction('emf', { maxConcurrency: 2 });
      await Promise.all([fn.invoke({ hits: 2 }), fn.invoke({ hits: 3 }), fn.invoke({ hits: 0 })]);
      // They travel with each result, so they are counted by the time invoke() resolves.
      expect(fn.stats()).toMatchObject({ invocations: 3, metricReports: 3, metrics: { CacheHits: 5, DynamoDBReadCalls: 3 } });

      // The other lines still reach the server's stdout; the metric lines do not.
      const lines = () => written.mock.calls.map(([chunk]) => String(chunk));
      await vi.waitFor(() => expect(lines().filter((line) => line === 'an ordinary log line\n')).toHaveLength(3), {
        timeout: 5_000,
        interval: 5,
      });
      expect(lines().some((line) => line.includes('"_aws"'))).toBe(false);
    } finally {
      written.mockRestore();
    }
  });
});

describe('LocalFunction: events', () => {
  /** The errors fixture's callback handler answers with the event it received. */
  function echo() {
    const { fn } = makeFunction('errors', { handlerExport: 'callbackHandler' });
    return async (event: unknown): Promise<unknown> => (payloadOf(await fn.invoke(event)) as { echo: unknown }).echo;
  }

  it('delivers a batch whose events share members exactly as JSON would, member order included', async () => {
    const identity = { sub: 'u1', claims: { 'cognito:groups': ['admin'], exp: 1 }, sourceIp: ['127.0.0.1'] };
    const request = { headers: { authorization: 't', 'x-forwarded-for': '127.0.0.1' }, domainName: null };
    // JSON keeps "__proto__" as an ordinary member, and so must the copies each event gets.
    const variables = { id: 'o', at: new Date(0), input: JSON.parse('{"__proto__":{"polluted":true},"n":[1,{"m":null}]}') };
    const info = { fieldName: 'product', parentTypeName: 'OrderItem', variables, selectionSetList: ['id'] };
    const stash = {};
    const events = Array.from({ length: 20 }, (_, i) => ({
      arguments: {},
      identity,
      source: { productId: `p${i}`, quantity: i, note: i % 2 ? undefined : 'even' },
      request,
      info,
      prev: null,
      stash,
      // Shared, but JSON drops it: absent from every event.
      hidden: undefined,
      // Differs per event, and JSON drops it from some.
      sometimes: i % 3 ? i : undefined,
    }));
    const echoed = (await echo()(events)) as (typeof events)[number][];
    expect(echoed).toEqual(JSON.parse(JSON.stringify(events)));
    expect(JSON.stringify(echoed)).toBe(JSON.stringify(events));
    expect(Object.hasOwn(echoed[5]!.info.variables.input, '__proto__')).toBe(true);
  });

  it('delivers arrays that are not batches of alike objects as plain JSON', async () => {
    const unlike = [
      [
        { a: 1, b: { c: 2 } },
        { b: { c: 2 }, a: 1 },
      ],
      [{ a: 1 }, { a: 1, extra: true }],
      [{ a: new Date(0) }, new Date(0)],
      [{ toJSON: () => 'custom', a: 1 }, { a: 1 }],
      [1, 'two', null, [3]],
    ];
    const received = echo();
    for (const event of unlike) {
      expect(await received(event)).toEqual(JSON.parse(JSON.stringify(event)));
    }
  });
});

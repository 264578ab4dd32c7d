/**
 * GraphiQL at `/` in a real browser (Debian's Chromium driven by
 * playwright-core), against a local stack with the sample catalog: the
 * default query, the auth switcher's modes (API key, user pool minted through
 * /dev/token, IAM signed in the page, the partner's Lambda authorizer token),
 * and subscriptions over AppSync's real-time protocol that receive an admin's
 * mutation and stop when GraphiQL stops them.
 *
 * Plain HTTP: the page is same-origin with /graphql, /dev/token and the
 * real-time endpoint (ws:// from an http:// page).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AdjustStockDocument, UpdateProductDocument } from '../../generated/client/graphql.js';
import { CONFIG_ELEMENT_ID, type AuthMode, type PageConfig } from '../../local/appsync/graphiql-page/config.js';
import type { LocalStack } from '../../local/runtime.js';
import { seedCatalog } from '../../local/seed.js';
import { STACK_START_TIMEOUT_MS, startTestStack, type ApiClient } from '../support/local-stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** How long the page may take to show something on its way (an answer, a pushed event). */
const UI_WAIT_MS = 15_000;
const TEST_TIMEOUT_MS = 60_000;

let stack: LocalStack;
let api: ApiClient;
let pageUrl: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Browser console errors, page errors and failed requests, shown when a test fails. */
const browserLog: string[] = [];
/** The page's POSTs to /graphql and /dev/token, with the headers the browser sent. */
const sent: Array<{ path: string; headers: Record<string, string>; body: string | null }> = [];

function configOf(html: string): PageConfig {
  const json = new RegExp(`<script id="${CONFIG_ELEMENT_ID}" type="application/json">(.*?)</script>`, 's').exec(html)?.[1];
  return JSON.parse(json ?? '{}') as PageConfig;
}

function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

type Products = Record<string, { items: Array<{ id: string; name: string; stock: number | null }> }>;

interface Result<T> {
  data?: T | null;
  errors?: Array<{ errorType?: string; message: string; path?: Array<string | number> }>;
}

/** GraphiQL's editors are CodeMirror 5 instances; the element holding one exposes it as `.CodeMirror`. */
type CodeMirrorElement = { CodeMirror: { getValue(): string; setValue(value: string): void } };

/** Waits (event-driven, by Playwright's polling of the page) until the response pane shows `text`, and returns the pane. */
async function responseContaining(text: string): Promise<string> {
  try {
    const handle = await page.waitForFunction(
      (wanted) => {
        type Doc = { querySelector(selector: string): unknown };
        const element = (globalThis as unknown as { document: Doc }).document.querySelector(
          '.result-window .CodeMirror',
        ) as CodeMirrorElement | null;
        const value = element?.CodeMirror.getValue() ?? '';
        return value.includes(wanted) ? value : false;
      },
      text,
      { timeout: UI_WAIT_MS },
    );
    return (await handle.jsonValue()) as string;
  } catch (error) {
    throw new Error(`The response pane never showed ${text}\nbrowser log:\n${browserLog.join('\n')}`, { cause: error });
  }
}

/** The page's last POST to `path`, as the browser sent it. */
function lastSent(path: string): { headers: Record<string, string>; body: string | null } {
  const request = sent.filter((entry) => entry.path === path).at(-1);
  if (!request) throw new Error(`The page sent no POST ${path}`);
  return request;
}

/**
 * Replaces the editor's query and waits until GraphiQL has parsed it (it picks the operation to run after a
 * debounce, and persists the result in its tab state): running earlier would send the previous operation name.
 */
async function setQuery(query: string): Promise<void> {
  const operationName = /^\s*(?:query|mutation|subscription)\s+(\w+)/.exec(query)?.[1];
  if (!operationName) throw new Error(`Give the test's query an operation name: ${query}`);
  await page
    .locator('.graphiql-query-editor .CodeMirror')
    .first()
    .evaluate((element, value) => {
      (element as unknown as CodeMirrorElement).CodeMirror.setValue(value);
    }, query);
  await page.waitForFunction(
    ([value, name]) => {
      const storage = (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage;
      const state = JSON.parse(storage.getItem('graphiql:tabState') ?? '{}') as {
        activeTabIndex?: number;
        tabs?: Array<{ query: string | null; operationName: string | null }>;
      };
      const tab = state.tabs?.[state.activeTabIndex ?? 0];
      return tab?.query === value && tab.operationName === name;
    },
    [query, operationName] as const,
    { timeout: UI_WAIT_MS },
  );
}

/** Runs `query` from the editor and returns the answer once the response pane shows `marker` (unique to it). */
async function run<T>(query: string, marker: string): Promise<Result<T>> {
  await setQuery(query);
  await page.locator('.graphiql-execute-button').click();
  return JSON.parse(await responseContaining(marker)) as Result<T>;
}

/** Switches the auth switcher, as a developer would. */
async function selectMode(mode: AuthMode): Promise<void> {
  await page.getByTestId('auth-mode').selectOption(mode);
  await page.waitForFunction(
    (wanted) => {
      type Doc = { querySelector(selector: string): { value: string } | null };
      return (globalThis as unknown as { document: Doc }).document.querySelector('[data-testid="auth-mode"]')?.value === wanted;
    },
    mode,
    { timeout: UI_WAIT_MS },
  );
}

/** Waits (Playwright's auto-retry) until the element with this test id shows text matching `pattern`. */
async function expectText(testId: string, pattern: RegExp): Promise<void> {
  try {
    await page.getByTestId(testId).filter({ hasText: pattern }).first().waitFor({ state: 'visible', timeout: UI_WAIT_MS });
  } catch (error) {
    const shown = await page
      .getByTestId(testId)
      .allInnerTexts()
      .catch(() => []);
    throw new Error(
      `[data-testid=${testId}] never showed ${String(pattern)}; it shows ${JSON.stringify(shown)}\nbrowser log:\n${browserLog.join('\n')}`,
      {
        cause: error,
      },
    );
  }
}

/** For server-side state with no page signal (the hub's subscription count). */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  await vi.waitFor(
    () => {
      if (!condition()) throw new Error(`Timed out waiting for ${what}`);
    },
    { timeout: UI_WAIT_MS, interval: 25 },
  );
}

describe.skipIf(!existsSync(CHROMIUM))('GraphiQL at / in Chromium', () => {
  beforeAll(async () => {
    ({ stack, api } = await startTestStack({ cache: 'none' }));
    await seedCatalog(stack);
    pageUrl = `${stack.url}/`;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    });
    context = await browser.newContext();
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') browserLog.push(`[console.${message.type()}] ${message.text()}`);
    });
    page.on('pageerror', (error) => browserLog.push(`[pageerror] ${error.message}`));
    page.on('requestfailed', (request) =>
      browserLog.push(`[requestfailed] ${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
    );
    page.on('request', (request: Request) => {
      const path = new URL(request.url()).pathname;
      if (request.method() !== 'POST' || (path !== '/graphql' && path !== '/dev/token')) return;
      // Synchronously, so a request is on record before its answer can be shown.
      sent.push({ path, headers: request.headers(), body: request.postData() });
    });
    await page.goto(pageUrl);
    await page.locator('.graphiql-container').waitFor({ timeout: UI_WAIT_MS });
  }, STACK_START_TIMEOUT_MS);

  afterAll(async () => {
    // GRAPHIQL_SCREENSHOT=/path/shot.png keeps a picture of the page as the tests left it.
    if (process.env.GRAPHIQL_SCREENSHOT && page) await page.screenshot({ path: process.env.GRAPHIQL_SCREENSHOT }).catch(() => undefined);
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stack?.stop();
  });

  it(
    'runs the default query with the pre-filled API key and shows the seeded books',
    async () => {
      await page.locator('.graphiql-execute-button').click();
      const result = JSON.parse(await responseContaining('"products"')) as Result<Products>;
      expect(result.errors).toBeUndefined();
      const items = result.data!['products']!.items;
      expect(items).toHaveLength(5);
      for (const item of items) {
        expect(item.name).toMatch(/^Sample product \d+$/);
        expect(item.stock).toBe(100);
      }
      expect(lastSent('/graphql').headers['x-api-key']).toBe(stack.apiKey);
      expect(lastSent('/graphql').headers['authorization']).toBeUndefined();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'mints user-pool tokens through /dev/token: a user outside admin is refused the mutation, an admin runs it',
    async () => {
      await selectMode('userPool');
      await page.getByTestId('auth-username').fill('graphiql-alice');
      await page.getByTestId('auth-groups').fill('');
      const refused = await run<{ adjustStock: unknown }>(
        'mutation AsAlice { aliceAdjust: adjustStock(id: "sample-00002", delta: 1) { id stock } }',
        '"aliceAdjust"',
      );
      expect(refused.data).toBeNull();
      expect(refused.errors?.[0]?.errorType).toBe('Unauthorized');
      expect(jwtClaims(lastSent('/graphql').headers['authorization']!)).toMatchObject({ 'cognito:username': 'graphiql-alice' });

      await page.getByTestId('auth-username').fill('graphiql-admin');
      await page.getByTestId('auth-groups').fill('admin');
      await expectText('auth-status', /graphiql-admin in admin/);
      const adjusted = await run<{ adminAdjust: { id: string; stock: number } }>(
        'mutation AsAdmin { adminAdjust: adjustStock(id: "sample-00002", delta: 1) { id stock } }',
        '"adminAdjust"',
      );
      expect(adjusted.errors).toBeUndefined();
      expect(adjusted.data?.adminAdjust).toEqual({ id: 'sample-00002', stock: 101 });

      const claims = jwtClaims(lastSent('/graphql').headers['authorization']!);
      expect(claims).toMatchObject({ 'cognito:username': 'graphiql-admin', 'cognito:groups': ['admin'], token_use: 'id' });
      // Minted by the page itself, through the dev token endpoint, with the dev secret it was given.
      const mint = lastSent('/dev/token');
      expect(mint.headers['x-dev-secret']).toBe(stack.devSecret);
      expect(JSON.parse(mint.body ?? '{}')).toEqual({ username: 'graphiql-admin', groups: ['admin'] });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'signs requests with SigV4 in the page in IAM mode',
    async () => {
      await selectMode('iam');
      const result = await run<Products>(
        'query AsIam { iamBooks: products(category: "books", limit: 2) { items { id name stock } } }',
        '"iamBooks"',
      );
      expect(result.errors).toBeUndefined();
      expect(result.data!['iamBooks']!.items).toHaveLength(2);
      expect(result.data!['iamBooks']!.items.every((item) => typeof item.stock === 'number')).toBe(true);
      const headers = lastSent('/graphql').headers;
      expect(headers['authorization']).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=${stack.iamPrincipal.accessKeyId}/\\d{8}/us-east-1/appsync/aws4_request, SignedHeaders=content-type;host;(x-amz-content-sha256;)?x-amz-date, Signature=[0-9a-f]{64}$`,
        ),
      );
      expect(headers['x-api-key']).toBeUndefined();

      // No subscription field admits @aws_iam: an IAM subscription ends with an error in the response, not a hang.
      const refused = await run<unknown>('subscription AsIamWatch { onProductUpdated(id: "sample-00003") { id } }', 'Unauthorized');
      expect(refused.errors?.[0]?.errorType).toMatch(/^Unauthorized/);
      await expectText('realtime-status', /Real-time: failed/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'sends the partner token in Lambda authorizer mode: products come back, stock as Unauthorized',
    async () => {
      await selectMode('lambda');
      const result = await run<Products>(
        'query AsPartner { partnerBooks: products(category: "books", limit: 3) { items { id name stock } } }',
        '"partnerBooks"',
      );
      const items = result.data!['partnerBooks']!.items;
      expect(items).toHaveLength(3);
      expect(items.every((item) => item.stock === null && /^Sample product/.test(item.name))).toBe(true);
      expect(result.errors).toHaveLength(3);
      expect(result.errors!.every((error) => error.errorType === 'Unauthorized' && error.path?.at(-1) === 'stock')).toBe(true);
      expect(lastSent('/graphql').headers['authorization']).toBe(stack.partner.token);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'subscribes over the real-time endpoint (API key, then user pool), receives admin mutations, and stops',
    async () => {
      const subscriptions = () => stack.realtime.stats().subscriptions;
      const before = subscriptions();

      await selectMode('apiKey');
      await setQuery('subscription Watch { onProductUpdated(id: "sample-00001") { id name stock version } }');
      await page.locator('.graphiql-execute-button').click();
      await expectText('realtime-status', /Real-time: subscribed$/);
      await waitFor(() => subscriptions() === before + 1, "the server to hold the page's subscription");

      const adjusted = await api.request(AdjustStockDocument, { id: 'sample-00001', delta: 7 }, api.admin());
      expect(adjusted.data?.adjustStock.stock).toBe(107);
      const event = JSON.parse(await responseContaining('107')) as Result<{ onProductUpdated: unknown }>;
      expect(event).toEqual({ data: { onProductUpdated: { id: 'sample-00001', name: 'Sample product 1', stock: 107, version: 2 } } });
      await expectText('realtime-status', /1 event received/);

      // GraphiQL's stop button (the execute button while subscribed) unsubscribes: `stop`, then the socket closes.
      await page.locator('.graphiql-execute-button').click();
      await waitFor(() => subscriptions() === before, 'the server to drop the stopped subscription');
      await expectText('realtime-status', /Real-time: (stopped|closed)$/);

      await selectMode('userPool');
      await page.locator('.graphiql-execute-button').click();
      await expectText('realtime-status', /Real-time: subscribed$/);
      await waitFor(() => subscriptions() === before + 1, 'the user-pool subscription');
      const renamed = await api.request(
        UpdateProductDocument,
        { input: { id: 'sample-00001', expectedVersion: 2, name: 'Renamed in GraphiQL test' } },
        api.admin(),
      );
      expect(renamed.errors).toBeUndefined();
      const second = JSON.parse(await responseContaining('Renamed in GraphiQL test')) as Result<{ onProductUpdated: unknown }>;
      expect(second).toEqual({
        data: { onProductUpdated: { id: 'sample-00001', name: 'Renamed in GraphiQL test', stock: 107, version: 3 } },
      });
      await page.locator('.graphiql-execute-button').click();
      await waitFor(() => subscriptions() === before, 'the server to drop the second subscription');
      expect(browserLog.filter((line) => /Content Security Policy|Refused to/i.test(line))).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'withholds the credentials from a visit another site started (link followed from another origin)',
    async () => {
      const other = await context.newPage();
      try {
        // localhost and 127.0.0.1 are different sites: the navigation is cross-site.
        const foreignStart = new URL(pageUrl);
        foreignStart.hostname = 'localhost';
        foreignStart.pathname = '/health';
        await other.goto(foreignStart.href);
        const navigated = other.waitForResponse((r) => r.url() === pageUrl);
        // The evaluation may be cut short by the navigation it starts.
        await other
          .evaluate((url) => (globalThis as unknown as { location: { assign(u: string): void } }).location.assign(url), pageUrl)
          .catch(() => undefined);
        const response = await navigated;
        const config = configOf(await response.text());
        expect(config.credentials).toBeUndefined();
        expect(config.apiKey).toBe(stack.apiKey);
        expect(config.credentialsWithheld).toMatch(/Sec-Fetch-Site: cross-site/);
        await other.getByTestId('auth-mode').selectOption('iam');
        await other.getByTestId('auth-withheld').waitFor({ timeout: UI_WAIT_MS });

        // A reload still counts as the other site's navigation; what the notice advises, opening the address
        // yourself (as goto does: Sec-Fetch-Site none), brings the credentials.
        const reloaded = await other.reload();
        expect(configOf((await reloaded?.text()) ?? '').credentials).toBeUndefined();
        const typed = await other.goto(pageUrl);
        expect(configOf((await typed?.text()) ?? '').credentials?.devSecret).toBe(stack.devSecret);
      } finally {
        await other.close();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'cannot be framed by another origin (no clickjacking of a page holding credentials)',
    async () => {
      const other = await context.newPage();
      try {
        const foreign = new URL(pageUrl);
        foreign.hostname = 'localhost';
        foreign.pathname = '/health';
        await other.goto(foreign.href);
        const refused = other.waitForEvent('console', {
          predicate: (message) => /frame-ancestors 'none'/.test(message.text()),
          timeout: UI_WAIT_MS,
        });
        await other.evaluate((url) => {
          type Doc = { createElement(tag: string): { src: string }; body: { appendChild(node: unknown): void } };
          const doc = (globalThis as unknown as { document: Doc }).document;
          const frame = doc.createElement('iframe');
          frame.src = url;
          doc.body.appendChild(frame);
        }, pageUrl);
        expect((await refused).text()).toContain(`Framing '${pageUrl}' violates`);
        // The frame shows Chrome's error page, not GraphiQL.
        const framed = other.frames().find((frame) => frame !== other.mainFrame());
        expect(framed?.url()).not.toBe(pageUrl);
      } finally {
        await other.close();
      }
    },
    TEST_TIMEOUT_MS,
  );
});

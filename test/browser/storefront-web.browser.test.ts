/**
 * The sample storefront web app (examples/storefront-web) in a real browser,
 * Debian's Chromium driven by playwright-core, against the local stack over
 * HTTPS/WSS, from another origin than the API (so every request is a CORS
 * request, preflights included): the product list and its pages, a product's
 * stock changing live after an admin mutation, signing in through the local
 * Cognito endpoint with Amplify Auth, placing an order, and the order's status
 * changing live after an admin updateOrderStatus.
 *
 * The app is built once (vite build into a temporary folder) and served by a
 * small static server on its own port, with a config.json pointing it at the
 * API: the same build that would be pointed at a deployed API.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AdjustStockDocument, UpdateOrderStatusDocument } from '../../generated/client/graphql.js';
import type { DevUser } from '../../local/identity/cognito-endpoint.js';
import { repositoryRoot } from '../../declarations/paths.js';
import type { LocalStack } from '../../local/runtime.js';
import { createProduct } from '../support/fixtures.js';
import { STACK_START_TIMEOUT_MS, startTestStack, type ApiClient } from '../support/local-stack.js';
import { serveStatic, type StaticSite } from './support/static-site.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const EXAMPLE_DIR = join(repositoryRoot, 'examples', 'storefront-web');
/** How long the page may take to show something that is on its way (a query answer, a pushed event). */
const UI_WAIT_MS = 15_000;
const TEST_TIMEOUT_MS = 90_000;

let stack: LocalStack;
let api: ApiClient;
let site: StaticSite;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let workDir: string;
let previousDispatcher: Dispatcher | undefined;
let trustingAgent: Agent | undefined;
let users: readonly DevUser[];
const category = `browser-${Date.now()}`;
const productIds: string[] = [];
/** Browser console errors and page errors, shown when a test fails. */
const browserLog: string[] = [];

/** Waits until the server holds `count` subscriptions: Amplify gives a page no per-subscription "acknowledged" signal. */
const subscriptionsReach = (count: number, what: string) =>
  vi.waitFor(() => expect(stack.realtime.stats().subscriptions, `waiting for ${what}`).toBeGreaterThanOrEqual(count), {
    timeout: UI_WAIT_MS,
    interval: 25,
  });

const byTestId = (testId: string) => page.getByTestId(testId);
/** Waits (auto-retrying) until the element with this test id shows exactly `text`. */
async function expectText(testId: string, text: string | RegExp): Promise<void> {
  const pattern = typeof text === 'string' ? new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) : text;
  try {
    await byTestId(testId).filter({ hasText: pattern }).first().waitFor({ state: 'visible', timeout: UI_WAIT_MS });
  } catch (error) {
    const shown = await byTestId(testId)
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

const admin = () => api.admin();

describe.skipIf(!existsSync(CHROMIUM))('storefront web app in Chromium (HTTPS + WSS, cross-origin)', () => {
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'storefront-browser-'));
    const certificateDir = join(workDir, 'certs');
    ({ stack, api } = await startTestStack({ https: { certificateDir }, cache: 'none' }));
    // The test's own API calls (as admin) go through Node's fetch: trust the development CA there.
    previousDispatcher = getGlobalDispatcher();
    trustingAgent = new Agent({ connect: { ca: stack.caCertificatePem! } });
    setGlobalDispatcher(trustingAgent);

    const { graphqlUrl, userPoolEndpoint } = stack;
    users = stack.devUsers;

    // Seven products in a category of their own: two pages of five.
    for (let i = 1; i <= 7; i++) {
      const created = await createProduct(api, { name: `Browser product ${i}`, priceCents: 1000 + i, category, stock: 10 });
      productIds.push(created.id);
    }

    const outDir = join(workDir, 'site');
    await build({
      root: EXAMPLE_DIR,
      configFile: join(EXAMPLE_DIR, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, sourcemap: false },
    });
    site = await serveStatic(outDir, {
      graphqlUrl,
      region: 'us-east-1',
      apiKey: stack.apiKey,
      userPoolId: stack.userPool.userPoolId,
      userPoolClientId: stack.userPool.clientId,
      userPoolEndpoint,
      defaultCategory: category,
    });
    expect(new URL(site.url).origin).not.toBe(new URL(graphqlUrl).origin);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    });
    // The stack's certificate comes from the development CA, which this fresh profile does not trust.
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') browserLog.push(`[console.${message.type()}] ${message.text()}`);
    });
    page.on('pageerror', (error) => browserLog.push(`[pageerror] ${error.message}`));
    page.on('requestfailed', (request) =>
      browserLog.push(`[requestfailed] ${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
    );
    await page.goto(site.url);
  }, STACK_START_TIMEOUT_MS);

  afterAll(async () => {
    // STOREFRONT_SCREENSHOT=/path/shot.png keeps a picture of the page as the tests left it.
    if (process.env.STOREFRONT_SCREENSHOT && page)
      await page.screenshot({ path: process.env.STOREFRONT_SCREENSHOT, fullPage: true }).catch(() => undefined);
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await site?.close();
    await stack?.stop();
    if (previousDispatcher) setGlobalDispatcher(previousDispatcher);
    await trustingAgent?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it(
    "lists the category's products, five a page, with working next and previous pages",
    async () => {
      await expectText('page-number', 'Page 1');
      await page.locator('[data-testid=product-table][data-page="1"] [data-testid=product-row]').nth(4).waitFor({ timeout: UI_WAIT_MS });
      expect(await byTestId('product-row').count()).toBe(5);
      expect(await byTestId('product-link').first().innerText()).toMatch(/^Browser product \d$/);

      await byTestId('next-page').click();
      await page.locator('[data-testid=product-table][data-page="2"]').waitFor({ timeout: UI_WAIT_MS });
      await expectText('page-number', 'Page 2');
      expect(await byTestId('product-row').count()).toBe(2);
      expect(await byTestId('next-page').isDisabled()).toBe(true);
      const seen = await Promise.all([0, 1].map((i) => byTestId('product-row').nth(i).getAttribute('data-product-id')));
      expect(seen.every((id) => id !== null && productIds.includes(id))).toBe(true);

      await byTestId('previous-page').click();
      await page.locator('[data-testid=product-table][data-page="1"] [data-testid=product-row]').nth(4).waitFor({ timeout: UI_WAIT_MS });
      expect(browserLog.filter((line) => line.includes('CORS'))).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'shows a product whose stock changes live when an admin adjusts it',
    async () => {
      const id = productIds[0]!;
      const before = stack.realtime.stats().subscriptions;
      await page.locator(`[data-testid=product-row][data-product-id="${id}"] [data-testid=product-link]`).click();
      await expectText('product-name', 'Browser product 1');
      await expectText('product-stock', '10');
      await subscriptionsReach(before + 1, "the product page's onProductUpdated subscription");
      await expectText('realtime-state', /Connected/);

      const adjusted = await api.request(AdjustStockDocument, { id, delta: 5 }, admin());
      expect(adjusted.data?.adjustStock.stock).toBe(15);
      await expectText('product-stock', '15');
      await expectText('stock-event', /stock is now 15 \(version 2\)/);

      await api.request(AdjustStockDocument, { id, delta: -3 }, admin());
      await expectText('product-stock', '12');
      expect(await byTestId('stock-event').count()).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "refuses a wrong password with Cognito's error, then signs alice in through the Cognito endpoint",
    async () => {
      const alice = users.find((user) => user.username === 'alice')!;
      const before = stack.realtime.stats().subscriptions;
      await expectText('sign-in-to-order', 'Sign in to order.');
      await byTestId('sign-in-username').fill('alice');
      await byTestId('sign-in-password').fill(`${alice.password}-wrong`);
      await byTestId('sign-in-submit').click();
      await expectText('sign-in-error', /NotAuthorizedException: Incorrect username or password\./);

      await byTestId('sign-in-password').fill(alice.password);
      await byTestId('sign-in-submit').click();
      await expectText('signed-in-user', 'alice');
      await byTestId('place-order').waitFor({ timeout: UI_WAIT_MS });
      // Signed in, the product page opens alice's onOrderStatusChanged subscription (with her user-pool token).
      await subscriptionsReach(before + 1, "the order panel's onOrderStatusChanged subscription");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'places an order as alice and shows its status changing live when an admin updates it',
    async () => {
      const id = productIds[0]!;
      await byTestId('order-quantity').fill('2');
      await byTestId('place-order').click();
      await expectText('order-status', 'PLACED');
      await expectText('order-total', '20.02 USD');
      const orderId = (await byTestId('order-id').innerText()).trim();
      expect(orderId).toMatch(/^[0-9a-f]{32}$/);

      const paid = await api.request(UpdateOrderStatusDocument, { id: orderId, status: 'PAID' }, admin());
      expect(paid.errors).toBeUndefined();
      await expectText('order-status', 'PAID');
      const shipped = await api.request(UpdateOrderStatusDocument, { id: orderId, status: 'SHIPPED' }, admin());
      expect(shipped.errors).toBeUndefined();
      await expectText('order-status', 'SHIPPED');
      await expectText('order-status-history', /PLACED → PAID → SHIPPED/);

      // The order was alice's: placed under her sub, which the page took from her Cognito tokens.
      const order = await api.request(
        /* GraphQL */ `query ($id: ID!) { order(id: $id) { customerId status items { productId quantity } } }`,
        { id: orderId },
        admin(),
      );
      expect(order.data).toEqual({ order: { customerId: 'alice', status: 'SHIPPED', items: [{ productId: id, quantity: 2 }] } });
    },
    TEST_TIMEOUT_MS,
  );
});

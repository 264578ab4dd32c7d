import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdjustStockDocument,
  CreateProductDocument,
  GetProductDocument,
  ListProductsDocument,
  UpdateProductDocument,
  type CreateProductInput,
} from '../../generated/client/graphql.js';
import { startTestStack, type ApiClient } from '../support/local-stack.js';
import type { LocalStack } from '../../local/runtime.js';

let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  ({ stack, api } = await startTestStack());
});
afterAll(async () => stack?.stop());

const productInput = (overrides: Partial<CreateProductInput> = {}): CreateProductInput => ({
  sku: 'SKU-1',
  name: 'Teapot',
  description: 'Short and stout',
  priceCents: 2599,
  currency: 'EUR',
  category: 'kitchen',
  stock: 5,
  ...overrides,
});

async function createProduct(overrides: Partial<CreateProductInput> = {}) {
  const res = await api.request(CreateProductDocument, { input: productInput(overrides) }, api.admin());
  expect(res.errors).toBeUndefined();
  return res.data!.createProduct;
}

describe('catalog over HTTP', () => {
  it('creates a product as admin and reads it back with an API key', async () => {
    const created = await createProduct({ sku: 'TEA-1' });
    expect(created).toMatchObject({ sku: 'TEA-1', name: 'Teapot', priceCents: 2599, currency: 'EUR', stock: 5, version: 1 });
    expect(created.rating).toEqual({ count: 0, average: null });
    expect(Date.parse(created.createdAt)).not.toBeNaN();

    const read = await api.request(GetProductDocument, { id: created.id }, api.asApiKey);
    expect(read.status).toBe(200);
    expect(read.data?.product).toEqual(created);
  });

  it('answers null for a product that does not exist', async () => {
    const read = await api.request(GetProductDocument, { id: 'missing' }, api.asApiKey);
    expect(read).toMatchObject({ status: 200, data: { product: null } });
    expect(read.errors).toBeUndefined();
  });

  it('pages through a category with opaque nextTokens', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) ids.add((await createProduct({ category: 'paging', sku: `P-${i}` })).id);
    const seen: string[] = [];
    let nextToken: string | null | undefined;
    let pages = 0;
    do {
      const res = await api.request(ListProductsDocument, { category: 'paging', limit: 3, nextToken }, api.asApiKey);
      expect(res.errors).toBeUndefined();
      seen.push(...res.data!.products.items.map((p) => p.id));
      nextToken = res.data!.products.nextToken;
      pages++;
    } while (nextToken);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(ids);
  });

  it('rejects a tampered nextToken with a ValidationError', async () => {
    const forged = Buffer.from(JSON.stringify({ id: 'x', category: 'other', createdAt: 'y' })).toString('base64url');
    const res = await api.request(ListProductsDocument, { category: 'paging', nextToken: forged }, api.asApiKey);
    expect(res.data?.products ?? null).toBeNull();
    expect(res.errors?.[0]).toMatchObject({ errorType: 'ValidationError', path: ['products'] });
  });

  it('updates with optimistic concurrency and rejects a stale version, leaving data untouched', async () => {
    const created = await createProduct({ sku: 'OCC-1' });
    const first = await api.request(UpdateProductDocument, { input: { id: created.id, expectedVersion: 1, name: 'Kettle' } }, api.admin());
    expect(first.errors).toBeUndefined();
    expect(first.data?.updateProduct).toMatchObject({ name: 'Kettle', version: 2 });

    const stale = await api.request(UpdateProductDocument, { input: { id: created.id, expectedVersion: 1, name: 'Stale' } }, api.admin());
    expect(stale.errors?.[0]).toMatchObject({ errorType: 'ConditionFailed', path: ['updateProduct'], errorInfo: { currentVersion: 2 } });

    const read = await api.request(GetProductDocument, { id: created.id }, api.asApiKey);
    expect(read.data?.product).toMatchObject({ name: 'Kettle', version: 2 });
  });

  it('reports NotFound when updating a missing product', async () => {
    const res = await api.request(UpdateProductDocument, { input: { id: 'nope', expectedVersion: 1, name: 'x' } }, api.admin());
    expect(res.errors?.[0]).toMatchObject({ errorType: 'NotFound' });
  });

  it('adjusts stock and refuses to go below zero', async () => {
    const created = await createProduct({ sku: 'STOCK-1', stock: 3 });
    const up = await api.request(AdjustStockDocument, { id: created.id, delta: 4 }, api.admin());
    expect(up.data?.adjustStock).toMatchObject({ stock: 7, version: 2 });
    const tooMuch = await api.request(AdjustStockDocument, { id: created.id, delta: -8 }, api.admin());
    expect(tooMuch.errors?.[0]).toMatchObject({ errorType: 'InsufficientStock', errorInfo: { stock: 7 } });
    const read = await api.request(GetProductDocument, { id: created.id }, api.asApiKey);
    expect(read.data?.product).toMatchObject({ stock: 7, version: 2 });
  });

  it('validates input before writing: negative price and empty name are refused', async () => {
    const before = await api.request(ListProductsDocument, { category: 'invalid', limit: 100 }, api.asApiKey);
    for (const bad of [{ priceCents: -1 }, { name: '   ' }, { stock: -5 }]) {
      const res = await api.request(CreateProductDocument, { input: productInput({ category: 'invalid', ...bad }) }, api.admin());
      expect(res.errors?.[0]?.errorType).toBe('ValidationError');
      expect(res.data).toBeNull();
    }
    const after = await api.request(ListProductsDocument, { category: 'invalid', limit: 100 }, api.asApiKey);
    expect(after.data?.products.items).toEqual(before.data?.products.items);
    expect(after.data?.products.items).toHaveLength(0);
  });

  it('keeps catalog writes to the admin group: API key and plain users are Unauthorized, nothing is written', async () => {
    for (const auth of [api.asApiKey, api.user('mallory')]) {
      const res = await api.request(CreateProductDocument, { input: productInput({ category: 'forbidden' }) }, auth);
      expect(res.status).toBe(200);
      expect(res.data).toBeNull();
      expect(res.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', path: ['createProduct'] });
    }
    const list = await api.request(ListProductsDocument, { category: 'forbidden' }, api.asApiKey);
    expect(list.data?.products.items).toHaveLength(0);
  });
});

import { describe, expect, it } from 'vitest';
import {
  AdjustStockDocument,
  CreateProductDocument,
  GetProductDocument,
  ListProductsDocument,
  UpdateProductDocument,
} from '../../generated/client/graphql.js';
import { createProduct, productInput } from '../support/fixtures.js';
import { useLocalStack } from '../support/local-stack.js';

const local = useLocalStack();

describe('catalog over HTTP', () => {
  it('creates a product as admin and reads it back with an API key', async () => {
    const created = await createProduct(local.api, {
      sku: 'TEA-1',
      name: 'Teapot',
      description: 'Short and stout',
      priceCents: 2599,
      currency: 'EUR',
      category: 'kitchen',
      stock: 5,
    });
    expect(created).toMatchObject({ sku: 'TEA-1', name: 'Teapot', priceCents: 2599, currency: 'EUR', stock: 5, version: 1 });
    expect(created.rating).toEqual({ count: 0, average: null });
    expect(Date.parse(created.createdAt)).not.toBeNaN();

    const read = await local.api.request(GetProductDocument, { id: created.id }, local.api.asApiKey);
    expect(read.status).toBe(200);
    expect(read.data?.product).toEqual(created);
  });

  it('answers null for a product that does not exist', async () => {
    const read = await local.api.request(GetProductDocument, { id: 'missing' }, local.api.asApiKey);
    expect(read).toMatchObject({ status: 200, data: { product: null } });
    expect(read.errors).toBeUndefined();
  });

  it('pages through a category with opaque nextTokens', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) ids.add((await createProduct(local.api, { category: 'paging', sku: `P-${i}` })).id);
    const seen: string[] = [];
    let nextToken: string | null | undefined;
    let pages = 0;
    do {
      const res = await local.api.request(ListProductsDocument, { category: 'paging', limit: 3, nextToken }, local.api.asApiKey);
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
    const res = await local.api.request(ListProductsDocument, { category: 'paging', nextToken: forged }, local.api.asApiKey);
    expect(res.data?.products ?? null).toBeNull();
    expect(res.errors?.[0]).toMatchObject({ errorType: 'ValidationError', path: ['products'] });
  });

  it('updates with optimistic concurrency and rejects a stale version, leaving data untouched', async () => {
    const created = await createProduct(local.api, { sku: 'OCC-1' });
    const first = await local.api.request(
      UpdateProductDocument,
      { input: { id: created.id, expectedVersion: 1, name: 'Kettle' } },
      local.api.admin(),
    );
    expect(first.errors).toBeUndefined();
    expect(first.data?.updateProduct).toMatchObject({ name: 'Kettle', version: 2 });

    const stale = await local.api.request(
      UpdateProductDocument,
      { input: { id: created.id, expectedVersion: 1, name: 'Stale' } },
      local.api.admin(),
    );
    expect(stale.errors?.[0]).toMatchObject({ errorType: 'ConditionFailed', path: ['updateProduct'], errorInfo: { currentVersion: 2 } });

    const read = await local.api.request(GetProductDocument, { id: created.id }, local.api.asApiKey);
    expect(read.data?.product).toMatchObject({ name: 'Kettle', version: 2 });
  });

  it('reports NotFound when updating a missing product', async () => {
    const res = await local.api.request(UpdateProductDocument, { input: { id: 'nope', expectedVersion: 1, name: 'x' } }, local.api.admin());
    expect(res.errors?.[0]).toMatchObject({ errorType: 'NotFound' });
  });

  it('adjusts stock and refuses to go below zero', async () => {
    const created = await createProduct(local.api, { sku: 'STOCK-1', stock: 3 });
    const up = await local.api.request(AdjustStockDocument, { id: created.id, delta: 4 }, local.api.admin());
    expect(up.data?.adjustStock).toMatchObject({ stock: 7, version: 2 });
    const tooMuch = await local.api.request(AdjustStockDocument, { id: created.id, delta: -8 }, local.api.admin());
    expect(tooMuch.errors?.[0]).toMatchObject({ errorType: 'InsufficientStock', errorInfo: { stock: 7 } });
    const read = await local.api.request(GetProductDocument, { id: created.id }, local.api.asApiKey);
    expect(read.data?.product).toMatchObject({ stock: 7, version: 2 });
  });

  it('validates input before writing: negative price and empty name are refused', async () => {
    const before = await local.api.request(ListProductsDocument, { category: 'invalid', limit: 100 }, local.api.asApiKey);
    for (const bad of [{ priceCents: -1 }, { name: '   ' }, { stock: -5 }]) {
      const res = await local.api.request(
        CreateProductDocument,
        { input: productInput({ category: 'invalid', ...bad }) },
        local.api.admin(),
      );
      expect(res.errors?.[0]?.errorType).toBe('ValidationError');
      expect(res.data).toBeNull();
    }
    const after = await local.api.request(ListProductsDocument, { category: 'invalid', limit: 100 }, local.api.asApiKey);
    expect(after.data?.products.items).toEqual(before.data?.products.items);
    expect(after.data?.products.items).toHaveLength(0);
  });

  it('keeps catalog writes to the admin group: API key and plain users are Unauthorized, nothing is written', async () => {
    for (const auth of [local.api.asApiKey, local.api.user('mallory')]) {
      const res = await local.api.request(CreateProductDocument, { input: productInput({ category: 'forbidden' }) }, auth);
      expect(res.status).toBe(200);
      expect(res.data).toBeNull();
      expect(res.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', path: ['createProduct'] });
    }
    const list = await local.api.request(ListProductsDocument, { category: 'forbidden' }, local.api.asApiKey);
    expect(list.data?.products.items).toHaveLength(0);
  });
});

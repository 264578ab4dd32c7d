import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNextToken, encodeNextToken } from '../../lib/pagination.js';
import { pageSize, requireInt, requireText, requireToken } from '../../lib/validation.js';
import { toProduct, type ProductItem } from '../../lib/model.js';
import { fieldRoutes } from '../../declarations/check.js';
import { repositoryRoot } from '../../declarations/paths.js';

const expected = { attributes: ['id', 'category', 'createdAt'], partition: { name: 'category', value: 'books' } } as const;

describe('nextToken', () => {
  it('round-trips a LastEvaluatedKey and is absent at the end', () => {
    const key = { id: 'p1', category: 'books', createdAt: '2026-01-01T00:00:00Z' };
    const token = encodeNextToken(key)!;
    expect(token).not.toContain('books');
    expect(decodeNextToken(token, expected)).toEqual(key);
    expect(encodeNextToken(undefined)).toBeNull();
    expect(decodeNextToken(null, expected)).toBeUndefined();
  });

  it('refuses garbage, extra attributes and another partition', () => {
    const other = encodeNextToken({ id: 'p1', category: 'games', createdAt: 'x' })!;
    const extra = encodeNextToken({ id: 'p1', category: 'books', createdAt: 'x', admin: 'y' })!;
    for (const token of ['%%%', 'e30', other, extra]) {
      expect(() => decodeNextToken(token, expected)).toThrow(expect.objectContaining({ errorType: 'ValidationError' }));
    }
  });
});

describe('validation', () => {
  it('bounds integers, text, tokens and page sizes', () => {
    expect(requireInt('q', 3, 1, 5)).toBe(3);
    expect(() => requireInt('q', 0, 1, 5)).toThrow(/q must be an integer between 1 and 5/);
    expect(() => requireInt('q', 1.5, 1, 5)).toThrow();
    expect(requireText('name', '  Tea  ', 10)).toBe('Tea');
    expect(() => requireText('name', '   ', 10)).toThrow(/name/);
    expect(requireToken('clientToken', 'abc-DEF_1')).toBe('abc-DEF_1');
    expect(() => requireToken('clientToken', 'has space')).toThrow();
    expect(pageSize(undefined)).toBe(20);
    expect(() => pageSize(101)).toThrow();
  });
});

describe('product model', () => {
  it('derives the rating summary from stored counters', () => {
    const item = { id: 'p', ratingCount: 3, ratingTotal: 11 } as ProductItem;
    expect(toProduct(item).rating).toEqual({ count: 3, average: 3.67 });
    expect(toProduct({ ...item, ratingCount: 0, ratingTotal: 0 }).rating).toEqual({ count: 0, average: null });
  });
});

describe('function map', () => {
  it('routes every field to exactly one function and marks OrderItem.product as batched', () => {
    const routes = fieldRoutes();
    expect(routes.get('OrderItem.product')).toMatchObject({ functionName: 'catalog', maxBatchSize: 100 });
    expect(routes.get('Mutation.placeOrder')).toMatchObject({ functionName: 'orders', maxBatchSize: undefined });
    expect(routes.get('Product.reviews')?.functionName).toBe('reviews');
  });
});

describe('product data has one owner', () => {
  const sources = (dir: string): string[] =>
    readdirSync(join(repositoryRoot, dir), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
    );
  const read = (file: string) => readFileSync(join(repositoryRoot, file), 'utf8');

  // Writing the products table or the product cache anywhere but lib/products/ would skip its
  // write-through: the README's "no read returns the older value" would rest on each caller again.
  it('no resolver names the products table or reads it by itself; they go through lib/products/', () => {
    const offending = sources('resolvers').flatMap((file) =>
      [/tableName\(\s*'products'\s*\)/, /TABLE_PRODUCTS/, /lib\/batch-get/]
        .filter((pattern) => pattern.test(read(file)))
        // The stream function's rating summary (ratings.ts) updates products from review records; each such
        // write's own products record then reaches the cache through the same coherence (product-cache.ts).
        .filter((pattern) => !(file === join('resolvers', 'stream', 'index.ts') && pattern.source.includes('tableName')))
        .map((pattern) => `${file}: ${pattern.source}`),
    );
    expect(offending).toEqual([]);
  });

  it('outside lib/cache/, only lib/products/ holds the product cache and its pages', () => {
    const holders = [...sources('lib'), ...sources('resolvers')].filter(
      (file) => !file.startsWith(join('lib', 'cache')) && /\b(entityCache|pageCache|createEntityCache|createPageCache)\b/.test(read(file)),
    );
    expect(holders.every((file) => file.startsWith(join('lib', 'products')))).toBe(true);
    expect(holders).toContain(join('lib', 'products', 'coherence.ts'));
  });
});

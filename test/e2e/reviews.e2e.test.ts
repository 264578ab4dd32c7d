import { beforeAll, describe, expect, it, vi } from 'vitest';
import { AddReviewDocument, GetProductDocument, ProductWithReviewsDocument } from '../../generated/client/graphql.js';
import { functions } from '../../declarations/functions.js';
import { createProduct } from '../support/fixtures.js';
import { useLocalStack } from '../support/local-stack.js';

const local = useLocalStack();
let productId: string;

beforeAll(async () => {
  ({ id: productId } = await createProduct(local.api, {
    sku: 'R-1',
    name: 'Lamp',
    priceCents: 4500,
    currency: 'GBP',
    category: 'home',
    stock: 2,
  }));
});

describe('reviews over HTTP', () => {
  it('adds reviews, brings the rating summary in step within the stream bound and pages reviews newest first', async () => {
    const ratings = [5, 4, 3, 5, 2];
    for (const [i, rating] of ratings.entries()) {
      const res = await local.api.request(
        AddReviewDocument,
        { input: { productId, rating, title: `Review ${i}` } },
        local.api.user(`reviewer-${i}`),
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.addReview).toMatchObject({ productId, rating, authorId: `reviewer-${i}` });
    }
    // The summary is maintained from the reviews' stream records: eventually, within the declared bound.
    await vi.waitFor(
      async () => {
        const res = await local.api.request(GetProductDocument, { id: productId }, local.api.asApiKey);
        expect(res.data?.product?.rating.count, 'rating summary not complete within the declared bound').toBe(ratings.length);
      },
      { timeout: functions.stream.freshnessBoundSeconds * 1000, interval: 50 },
    );
    const titles: string[] = [];
    let nextToken: string | null | undefined;
    let summary: { count: number; average?: number | null } | undefined;
    do {
      const res = await local.api.request(ProductWithReviewsDocument, { id: productId, limit: 2, nextToken }, local.api.asApiKey);
      expect(res.errors).toBeUndefined();
      summary = res.data!.product!.rating;
      titles.push(...res.data!.product!.reviews.items.map((r) => r.title ?? ''));
      nextToken = res.data!.product!.reviews.nextToken;
    } while (nextToken);
    expect(titles).toEqual(['Review 4', 'Review 3', 'Review 2', 'Review 1', 'Review 0']);
    expect(summary).toEqual({ count: 5, average: 3.8 });
  });

  it('refuses an out-of-range rating and a review of a missing product, writing nothing', async () => {
    const bad = await local.api.request(AddReviewDocument, { input: { productId, rating: 6 } }, local.api.user('x'));
    expect(bad.errors?.[0]?.errorType).toBe('ValidationError');
    const missing = await local.api.request(AddReviewDocument, { input: { productId: 'nope', rating: 3 } }, local.api.user('x'));
    expect(missing.errors?.[0]?.errorType).toBe('NotFound');
    const res = await local.api.request(ProductWithReviewsDocument, { id: productId, limit: 100 }, local.api.asApiKey);
    expect(res.data?.product?.rating.count).toBe(5);
    expect(res.data?.product?.reviews.items.every((r) => r.authorId !== 'x')).toBe(true);
  });

  it('only lets signed-in users review: an API key caller is Unauthorized', async () => {
    const res = await local.api.request(AddReviewDocument, { input: { productId, rating: 4 } }, local.api.asApiKey);
    expect(res.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', path: ['addReview'] });
  });
});

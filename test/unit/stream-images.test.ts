import { describe, expect, it } from 'vitest';
import type { ProductItem } from '../../lib/model.js';
import { lambdaRecordFor } from '../../local/streams/lambda-event.js';
import { InvalidImageError, keyOf, productImage, reviewImage, unmarshallImage } from '../../resolvers/stream/images.js';

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/products/stream/label';
const product: ProductItem = {
  id: 'p1',
  sku: 'SKU-1',
  name: 'Lamp',
  description: null,
  priceCents: 4500,
  currency: 'GBP',
  category: 'home',
  stock: 2,
  version: 3,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-02T00:00:00Z',
  ratingCount: 1,
  ratingTotal: 4,
};
const recordOf = (image: Record<string, unknown>, keys: Record<string, unknown> = { id: image.id }) =>
  lambdaRecordFor({ streamArn: ARN, eventName: 'MODIFY', keys, newImage: image, sequenceNumber: '1' });

describe('stream images', () => {
  it('reads a product image back as the stored item', () => {
    expect(productImage(recordOf({ ...product }))).toEqual(product);
    const { description: _omitted, ...withoutDescription } = product;
    expect(productImage(recordOf(withoutDescription)).description).toBeNull();
  });

  it('refuses a product image that is not a valid item, naming what is wrong', () => {
    const bad = recordOf({ ...product, priceCents: 'free', currency: 'XYZ' });
    expect(() => productImage(bad)).toThrow(InvalidImageError);
    expect(() => productImage(bad)).toThrow('priceCents="free", currency="XYZ"');
    expect(() => productImage(recordOf({ ...product, version: 0 }))).toThrow(/version=0/);
  });

  it('takes a review rating only as an integer from 1 to 5', () => {
    const review = { productId: 'p1', id: 'r1', authorId: 'a', rating: 4, title: null, createdAt: '2026-01-01T00:00:00Z' };
    expect(reviewImage(recordOf(review, { productId: 'p1', id: 'r1' }))).toMatchObject({ productId: 'p1', id: 'r1', rating: 4 });
    for (const rating of ['five', 0, 6, 4.5]) {
      expect(() => reviewImage(recordOf({ ...review, rating }, { productId: 'p1', id: 'r1' }))).toThrow(InvalidImageError);
    }
  });

  it('reads keys without a new image, and decodes binary attributes from base64', () => {
    const removal = lambdaRecordFor({
      streamArn: ARN,
      eventName: 'REMOVE',
      keys: { id: 'p9' },
      oldImage: { id: 'p9' },
      sequenceNumber: '2',
    });
    expect(keyOf(removal, 'id')).toBe('p9');
    expect(() => keyOf(removal, 'productId')).toThrow(InvalidImageError);
    const image = unmarshallImage({ blob: { B: 'AQID' }, nested: { M: { list: { L: [{ BS: ['/w=='] }] } } } });
    expect(image?.blob).toEqual(new Uint8Array([1, 2, 3]));
    expect(image?.nested).toEqual({ list: [new Set([new Uint8Array([255])])] });
  });
});

/**
 * One request fanning out into hundreds of resolver calls must not stall the
 * others: each request's invocations wait in a lane of their own and take
 * turns for execution environments (local/lambda/fair-queue.ts). Found by
 * `npm run fuzz`: 1,000 aliases of product(id) queued ahead of everyone, and an
 * ordinary read waited ~5 s behind them.
 */
import { describe, expect, it, vi } from 'vitest';
import { GetProductDocument } from '../../generated/client/graphql.js';
import { createProduct } from '../support/hostile.js';
import { useLocalStack } from '../support/local-stack.js';

const local = useLocalStack({ cache: 'none' });

describe('fair scheduling of invocations across requests', () => {
  it('answers an ordinary read while a 900-alias flood is still queued', async () => {
    const { id } = await createProduct(local.api);
    const aliases = Array.from({ length: 900 }, (_, i) => `a${i}: product(id: "${id}") { id }`).join(' ');
    const catalog = local.stack.functions.get('catalog')!;

    let floodDone = false;
    const flood = local.api.raw(JSON.stringify({ query: `{ ${aliases} }` }), local.api.asApiKey).then((res) => {
      floodDone = true;
      return res;
    });
    // The flood's calls are waiting for environments: now an ordinary request arrives behind them.
    await vi.waitFor(() => expect(catalog.stats().queued).toBeGreaterThan(100), { timeout: 30_000, interval: 5 });
    const ordinary = await local.api.request(GetProductDocument, { id }, local.api.asApiKey);
    expect(ordinary.data?.product?.id).toBe(id);
    // Answered while the flood still had calls waiting: it did not queue behind them.
    expect(floodDone).toBe(false);
    expect(catalog.stats().queued).toBeGreaterThan(0);

    const flooded = await flood;
    expect(flooded.errors).toBeUndefined();
    expect(Object.keys(flooded.data as object)).toHaveLength(900);
  });
});

import { describe, expect, it } from 'vitest';
import { StartupTimings } from '../../local/stack/startup-timings.js';

describe('StartupTimings', () => {
  it('lists steps in the order they finished, with their finish times', async () => {
    const timings = new StartupTimings();
    let finishBundles: () => void = () => undefined;
    const bundles = new Promise<void>((resolve) => (finishBundles = resolve));
    timings.markWhenDone('bundles', bundles);
    timings.markWhenDone('certificates', Promise.reject(new Error('not marked')));
    timings.mark('dynamodb');
    finishBundles();
    await bundles;
    const steps = timings.entries().map(([step]) => step);
    expect(steps).toEqual(['dynamodb', 'bundles']);
    expect(timings.toString()).toMatch(/^dynamodb \d[\d,]* ms, bundles \d[\d,]* ms$/);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { Cleanups } from '../../local/stack/cleanups.js';

describe('Cleanups', () => {
  it('stops what started last first, and a failing step does not keep the others from running', async () => {
    const order: string[] = [];
    const cleanups = new Cleanups();
    cleanups.add(async () => void order.push('dynamodb'));
    cleanups.add(async () => {
      order.push('functions');
      throw new Error('close failed');
    });
    cleanups.add(async () => void order.push('http server'));
    const reported = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await cleanups.run();
      expect(order).toEqual(['http server', 'functions', 'dynamodb']);
      expect(reported).toHaveBeenCalledWith(expect.objectContaining({ message: 'close failed' }));
    } finally {
      reported.mockRestore();
    }
  });

  it('runs each step once, and a second stop waits for the first to finish', async () => {
    const cleanups = new Cleanups();
    let release: () => void = () => undefined;
    const step = vi.fn(() => new Promise<void>((resolve) => (release = resolve)));
    cleanups.add(step);
    let secondDone = false;
    const first = cleanups.run();
    const second = cleanups.run().then(() => (secondDone = true));
    // The step is still running: a later event (its release) must come before the second stop resolves.
    expect(step).toHaveBeenCalledTimes(1);
    expect(secondDone).toBe(false);
    release();
    await Promise.all([first, second]);
    expect(secondDone).toBe(true);
    await cleanups.run();
    expect(step).toHaveBeenCalledTimes(1);
  });
});

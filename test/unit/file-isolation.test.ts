import { afterEach, describe, expect, it, vi } from 'vitest';
import { changedVariables, restoreEnvironment } from '../support/file-isolation.js';

/** The helpers test/support/file-isolation.ts uses to put a file's environment changes back. */
describe('file isolation: the environment a file leaves behind', () => {
  const saved = { ...process.env };
  afterEach(() => restoreEnvironment(saved));

  it('names every variable added, removed or changed, and no other', () => {
    expect(changedVariables({ A: '1', B: '2', C: '3' }, { A: '1', B: 'two', D: '4' })).toEqual(['B', 'C', 'D']);
    expect(changedVariables({ A: '1' }, { A: '1' })).toEqual([]);
    expect(changedVariables({ A: '' }, {})).toEqual(['A']);
  });

  it('puts process.env back exactly: added variables removed, changed and deleted ones restored', () => {
    const snapshot = { ...process.env };
    const [someName] = Object.keys(snapshot);
    process.env.FILE_ISOLATION_ADDED = 'x';
    process.env.PATH = '/nowhere';
    if (someName && someName !== 'PATH') delete process.env[someName];
    restoreEnvironment(snapshot);
    expect(changedVariables(snapshot, process.env)).toEqual([]);
    expect(process.env.FILE_ISOLATION_ADDED).toBeUndefined();
  });
});

describe('file isolation: what must stay unique when a file gets fresh module instances', () => {
  it("a table prefix in the worker's DynamoDB Local", async () => {
    const first = (await import('../support/worker-dynamodb.js')).newTablePrefix(1);
    vi.resetModules();
    const second = (await import('../support/worker-dynamodb.js')).newTablePrefix(1);
    expect(second).not.toBe(first);
  });

  it('a product SKU', async () => {
    const first = (await import('../support/fixtures.js')).productInput().sku;
    vi.resetModules();
    const second = (await import('../support/fixtures.js')).productInput().sku;
    expect(second).not.toBe(first);
  });
});

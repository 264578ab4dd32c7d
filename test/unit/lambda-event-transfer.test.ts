import { describe, expect, it } from 'vitest';
import { encodeEvent } from '../../local/lambda/event-transfer.js';

describe('encodeEvent', () => {
  const identity = { sub: 'u1', claims: { exp: 1 } };
  const request = { headers: { authorization: 't' }, domainName: null };
  const batch = (size: number) =>
    Array.from({ length: size }, (_, i) => ({ arguments: {}, identity, source: { productId: `p${i}` }, request, prev: null }));

  it('sends the members every event of a batch shares once, and the rest per event, keeping the member order', () => {
    const transfer = encodeEvent(batch(100));
    if (!('batch' in transfer)) throw new Error('expected a batch transfer');
    expect(transfer.batch.keys).toEqual(['arguments', 'identity', 'source', 'request', 'prev']);
    expect(JSON.parse(transfer.batch.shared)).toEqual({ identity, request, prev: null });
    expect(JSON.parse(transfer.batch.items)).toEqual(batch(100).map(({ arguments: args, source }) => ({ arguments: args, source })));
    // The shared members' text appears once, not once per event.
    expect(transfer.batch.shared.length + transfer.batch.items.length).toBeLessThan(JSON.stringify(batch(100)).length / 2);
  });

  it('sends anything else as one JSON text, failing as JSON.stringify does', () => {
    expect(encodeEvent({ a: 1 })).toEqual({ json: '{"a":1}' });
    expect(encodeEvent(undefined)).toEqual({ json: 'null' });
    expect(encodeEvent([{ a: 1 }])).toEqual({ json: '[{"a":1}]' });
    // Nothing shared by identity (equal values are not the same object).
    expect(encodeEvent([{ a: {} }, { a: {} }])).toEqual({ json: '[{"a":{}},{"a":{}}]' });
    expect('json' in encodeEvent([{ a: 1 }, { b: 1 }])).toBe(true);
    expect(
      'json' in
        encodeEvent([
          { a: 1, b: 2 },
          { b: 2, a: 1 },
        ]),
    ).toBe(true);
    expect('json' in encodeEvent([{ a: 1 }, new Date(0)])).toBe(true);
    expect(
      'json' in
        encodeEvent([
          { a: 1, toJSON: () => 1 },
          { a: 1, toJSON: () => 1 },
        ]),
    ).toBe(true);
    expect('json' in encodeEvent(JSON.parse('[{"__proto__":1},{"__proto__":1}]'))).toBe(true);
    expect(() => encodeEvent([{ a: 1n }, { a: 1n }])).toThrow(TypeError);
  });
});

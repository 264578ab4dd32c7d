import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { api } from '../../declarations/api.js';
import { fieldRoutes } from '../../declarations/check.js';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import { AppSyncExecutor } from '../../local/appsync/execute.js';
import { FieldAuthorization, type Caller } from '../../local/appsync/field-authorization.js';
import { DocumentCache, TextKeyedLru } from '../../local/graphql/document-cache.js';
import { SubscriptionDocuments } from '../../local/realtime/projection.js';

const schema = buildAppSyncSchema();
const authorization = new FieldAuthorization(schema, 'API_KEY');
const apiKeyCaller = { caller: { mode: 'API_KEY', groups: [] } as Caller, identity: null, headers: {} };

describe('TextKeyedLru', () => {
  it('holds at most its total of key text, evicting the least recently used', () => {
    const cache = new TextKeyedLru<number>({ maxChars: 10, maxEntries: 100 });
    cache.set('aaaa', 1);
    cache.set('bbbb', 2);
    expect(cache.get('aaaa')).toBe(1); // now the most recent
    cache.set('cccc', 3);
    expect(cache.get('bbbb')).toBeUndefined();
    expect(cache.get('aaaa')).toBe(1);
    expect(cache.chars).toBeLessThanOrEqual(10);
    cache.set('x'.repeat(11), 4);
    expect(cache.size).toBe(2);
  });

  it('stays within both bounds whatever is stored', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 40 }), fc.integer()), { maxLength: 200 }), (entries) => {
        const cache = new TextKeyedLru<number>({ maxChars: 100, maxEntries: 5 });
        for (const [key, value] of entries) {
          cache.set(key, value);
          expect(cache.size).toBeLessThanOrEqual(5);
          expect(cache.chars).toBeLessThanOrEqual(100);
        }
      }),
    );
  });
});

describe('DocumentCache', () => {
  it('prepares each text once (parse, limits, validation), refusals included', () => {
    const documents = new DocumentCache({ schema });
    const query = '{ product(id: "1") { id } }';
    const first = documents.prepare(query);
    expect(first.ok).toBe(true);
    expect(documents.prepare(query)).toBe(first);
    const refused = documents.prepare('{ product(id: "1") { colour } }');
    expect(refused).toMatchObject({
      ok: false,
      errors: [expect.objectContaining({ message: expect.stringMatching(/Cannot query field "colour"/) })],
    });
    expect(documents.prepare('{ product(id: "1") { colour } }')).toBe(refused);
    expect(documents.size).toBe(2);
  });

  it('is bounded by the length of the texts it holds, and by entries', () => {
    const documents = new DocumentCache({ schema, maxChars: 64, maxEntries: 3 });
    for (let i = 0; i < 10; i++) documents.prepare(`{ product(id: "${i}") { id } }`);
    expect(documents.size).toBeLessThanOrEqual(2);
    expect(documents.chars).toBeLessThanOrEqual(64);
    const few = new DocumentCache({ schema, maxEntries: 3 });
    for (let i = 0; i < 10; i++) few.prepare(`{ product(id: "${i}") { id } }`);
    expect(few.size).toBe(3);
  });

  it('prepares with its limits: introspection off is a FieldUndefined refusal', () => {
    const documents = new DocumentCache({ schema, limits: { ...api.limits, introspection: false } });
    expect(documents.prepare('{ __schema { queryType { name } } }')).toMatchObject({
      ok: false,
      errors: [expect.objectContaining({ message: expect.stringMatching(/FieldUndefined: Field '__schema'/) })],
    });
    expect(documents.prepare('{ __typename }').ok).toBe(true);
  });

  it('refuses, never throws on, a subscription whose root field is conditioned on a variable (graphql-js 16 throws in validate)', () => {
    const documents = new DocumentCache({ schema });
    expect(documents.prepare('subscription S($on: Boolean = true) { onProductUpdated @include(if: $on) { id } }')).toMatchObject({
      ok: false,
      errors: [expect.objectContaining({ message: expect.stringMatching(/Argument "if" of required type "Boolean!"/) })],
    });
  });

  it('is one cache for the executor and the real-time side: a text either has seen is prepared once', async () => {
    const documents = new DocumentCache({ schema });
    const executor = new AppSyncExecutor({
      schema,
      routes: fieldRoutes(),
      authorization,
      documents,
      invoke: async () => ({ ok: true, payload: { data: null } }),
    });
    expect(executor.documents).toBe(documents);
    const subscriptions = new SubscriptionDocuments(schema, authorization, executor.documents);
    const query = 'subscription { onProductUpdated(id: "p1") { id name } }';
    // Sent to /graphql first: prepared (and refused there, subscriptions go over WebSocket).
    expect((await executor.execute({ query }, apiKeyCaller)).errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/real-time WebSocket endpoint/) }),
    ]);
    const prepared = documents.prepare(query);
    expect(documents.size).toBe(1);
    const request = subscriptions.request(query, null, {});
    if (Array.isArray(request)) throw new Error(JSON.stringify(request));
    expect(request.prepared.document).toBe(prepared.ok && prepared.query.document);
    expect(documents.size).toBe(1);
    // Every subscriber sending the same text shares one prepared subscription (projections are deduplicated by it).
    const again = subscriptions.request(query, null, {});
    expect(Array.isArray(again) ? again : again.prepared).toBe(request.prepared);
  });

  it('an executor without one builds its own, with its limits', async () => {
    const executor = new AppSyncExecutor({
      schema,
      routes: fieldRoutes(),
      authorization,
      limits: { ...api.limits, introspection: false },
      documentCacheSize: 1,
      invoke: async () => ({ ok: true, payload: { data: null } }),
    });
    expect(executor.documents.limits.introspection).toBe(false);
    await executor.execute({ query: '{ __typename }' }, apiKeyCaller);
    await executor.execute({ query: '{ __typename __typename }' }, apiKeyCaller);
    expect(executor.documents.size).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import {
  ALLOWED_REQUEST_HEADERS,
  EXPOSED_RESPONSE_HEADERS,
  corsPreflight,
  corsResponseHeaders,
  isHeaderToken,
  preflightAllows,
} from '../../local/appsync/cors.js';

const browserPreflight = (url: string, requestHeaders = 'authorization,content-type,x-api-key') => ({
  method: 'OPTIONS',
  url,
  headers: {
    origin: 'http://localhost:5173',
    'access-control-request-method': 'POST',
    'access-control-request-headers': requestHeaders,
  },
});

describe('CORS on the GraphQL endpoint, as AppSync answers it', () => {
  it('answers a preflight on /graphql: 200, empty body, any origin, two-day max-age, AppSync expose-headers', () => {
    const answer = corsPreflight(browserPreflight('/graphql'));
    expect(answer).toBeDefined();
    expect(answer!.status).toBe(200);
    expect(answer!.headers).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'x-amzn-RequestId,x-amzn-ErrorType,x-amz-user-agent,x-amzn-ErrorMessage,Date,x-amz-schema-version',
      'access-control-max-age': '172800',
      'content-length': '0',
    });
    expect(answer!.headers['access-control-allow-methods']).toContain('POST');
  });

  it('allows every header Amplify, Apollo and urql send, API key, user pool and SigV4 alike', () => {
    const allowed = corsPreflight(browserPreflight('/graphql'))!
      .headers['access-control-allow-headers']!.split(',')
      .map((name) => name.trim());
    for (const header of [
      'content-type',
      'x-api-key',
      'authorization',
      'x-amz-date',
      'x-amz-security-token',
      'x-amz-user-agent',
      'x-amz-content-sha256',
    ]) {
      expect(allowed).toContain(header);
    }
    expect(allowed).toEqual([...ALLOWED_REQUEST_HEADERS]);
    expect(preflightAllows('Content-Type, X-Api-Key, Authorization')).toBe(true);
    expect(preflightAllows('authorization,content-type,x-amz-date,x-amz-security-token,x-amz-user-agent,x-amz-content-sha256')).toBe(true);
    expect(preflightAllows(undefined)).toBe(true);
  });

  it('allows a fixed list, not whatever is asked for (a header outside it is refused by the browser, as with AppSync)', () => {
    const answer = corsPreflight(browserPreflight('/graphql', 'content-type,baggage,sentry-trace'))!;
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-headers']).not.toContain('baggage');
    expect(preflightAllows('content-type,baggage')).toBe(false);
  });

  it('answers a bare OPTIONS /graphql (no Origin) the same way, and ignores the query string', () => {
    expect(corsPreflight({ method: 'OPTIONS', url: '/graphql', headers: {} })?.status).toBe(200);
    expect(corsPreflight({ method: 'options', url: '/graphql?x=1', headers: {} })?.status).toBe(200);
  });

  it('leaves other methods to the server (not a preflight)', () => {
    for (const method of ['POST', 'GET', 'PUT', undefined]) {
      expect(corsPreflight({ method, url: '/graphql', headers: { origin: 'http://localhost:5173' } })).toBeUndefined();
    }
  });

  it('gives every actual /graphql response (errors included) the allow-origin and expose-headers', () => {
    expect(corsResponseHeaders('/graphql')).toEqual({
      'access-control-allow-origin': '*',
      'access-control-expose-headers': EXPOSED_RESPONSE_HEADERS,
    });
    // Credentials never: `*` and cookies do not mix, and AppSync's auth is in headers.
    expect(corsResponseHeaders('/graphql')).not.toHaveProperty('access-control-allow-credentials');
  });

  it('gives the real-time WebSocket path and every dev endpoint no CORS at all', () => {
    for (const path of [
      '/graphql/realtime',
      '/graphql/',
      '/dev/token',
      '/dev/dlq',
      '/health',
      '/.well-known/jwks.json',
      '/',
      '/graphiql.css',
      '/cognito/',
    ]) {
      expect(corsPreflight(browserPreflight(path))).toBeUndefined();
      expect(corsResponseHeaders(path)).toEqual({});
    }
  });

  it('recognises header tokens (what may be echoed in a response header)', () => {
    expect(isHeaderToken('x-amz-target')).toBe(true);
    expect(isHeaderToken('amz-sdk-invocation-id')).toBe(true);
    expect(isHeaderToken('bad header')).toBe(false);
    expect(isHeaderToken('x\r\ninjected: 1')).toBe(false);
    expect(isHeaderToken('')).toBe(false);
  });
});

/**
 * CORS on the running local stack, as a browser page on another origin meets
 * it (the same rules as AppSync's, local/appsync/cors.ts): `OPTIONS /graphql`
 * preflights are answered for any origin with the headers AppSync clients
 * send; every `/graphql` answer, errors included, carries
 * `access-control-allow-origin: *` and AppSync's expose-headers; the stack's
 * own dev endpoints answer no CORS at all; the real-time WebSocket takes a
 * cross-origin upgrade (WebSockets are not subject to CORS); the local Cognito
 * endpoint answers its preflight as Cognito does.
 *
 * Fetch here is Node's, which does not enforce CORS: the assertions read the
 * headers a browser would act on.
 */
import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { GRAPHQL_WS } from '../../local/realtime/protocol.js';
import { useLocalStack } from '../support/local-stack.js';

const ORIGIN = 'http://localhost:5173';
const EXPOSED = 'x-amzn-RequestId,x-amzn-ErrorType,x-amz-user-agent,x-amzn-ErrorMessage,Date,x-amz-schema-version';
const ctx = useLocalStack({ cache: 'none' });

const preflight = (path: string, requestHeaders = 'content-type,x-api-key') =>
  fetch(`${ctx.stack.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders },
  });

const post = (body: string, headers: Record<string, string>) =>
  fetch(ctx.stack.graphqlUrl, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json', ...headers }, body });

function expectCors(response: Response): void {
  expect(response.headers.get('access-control-allow-origin')).toBe('*');
  expect(response.headers.get('access-control-expose-headers')).toBe(EXPOSED);
}

describe('CORS on /graphql', () => {
  it("answers a preflight for any origin: 200, empty body, AppSync's headers, two-day max-age", async () => {
    const response = await preflight('/graphql');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expectCors(response);
    expect(response.headers.get('access-control-max-age')).toBe('172800');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('allows the headers of every auth mode (API key, user pool, SigV4)', async () => {
    const requested = [
      'content-type',
      'x-api-key',
      'authorization',
      'x-amz-date',
      'x-amz-security-token',
      'x-amz-user-agent',
      'x-amz-content-sha256',
    ];
    const response = await preflight('/graphql', requested.join(','));
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').split(',').map((name) => name.trim().toLowerCase());
    for (const header of requested) expect(allowed).toContain(header);
  });

  it('is answered without credentials (a browser never sends them with a preflight)', async () => {
    const response = await fetch(ctx.stack.graphqlUrl, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(200);
  });

  it('gives a successful POST and every error answer (400, 401, 413) the CORS response headers', async () => {
    const ok = await post(JSON.stringify({ query: '{ __typename }' }), { 'x-api-key': ctx.stack.apiKey });
    expect(ok.status).toBe(200);
    expectCors(ok);

    const unauthorized = await post(JSON.stringify({ query: '{ __typename }' }), { 'x-api-key': 'da2-wrong' });
    expect(unauthorized.status).toBe(401);
    expectCors(unauthorized);
    expect(await unauthorized.json()).toMatchObject({ errors: [{ errorType: 'UnauthorizedException' }] });

    const malformed = await post('{"query":', { 'x-api-key': ctx.stack.apiKey });
    expect(malformed.status).toBe(400);
    expectCors(malformed);

    const tooLarge = await post(JSON.stringify({ query: `{ __typename } #${'x'.repeat(1_100_000)}` }), { 'x-api-key': ctx.stack.apiKey });
    expect(tooLarge.status).toBe(413);
    expectCors(tooLarge);
  });
});

describe("no CORS on the stack's own endpoints", () => {
  for (const path of ['/dev/token', '/dev/dlq', '/health', '/.well-known/jwks.json', '/']) {
    it(`${path}: neither its preflight nor its answer carries access-control-allow-origin`, async () => {
      const options = await preflight(path);
      expect(options.status).not.toBe(200);
      expect(options.headers.get('access-control-allow-origin')).toBeNull();
      await options.body?.cancel();
      const answer = await fetch(`${ctx.stack.url}${path}`, { headers: { origin: ORIGIN } });
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
      await answer.body?.cancel();
    });
  }
});

describe('real-time and Cognito', () => {
  it('takes a WebSocket upgrade from another origin on /graphql/realtime (WebSockets are not subject to CORS)', async () => {
    const header = Buffer.from(JSON.stringify({ host: new URL(ctx.stack.url).host, 'x-api-key': ctx.stack.apiKey })).toString('base64url');
    const ws = new WebSocket(ctx.stack.realtimeUrl, [GRAPHQL_WS, `header-${header}`], { origin: ORIGIN });
    ws.on('error', () => undefined);
    const opened = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('unexpected-response', () => resolve(false));
    });
    ws.terminate();
    expect(opened).toBe(true);
  });

  it("answers a preflight on the local Cognito endpoint as Cognito does (any origin, the SDK's headers)", async () => {
    const requested = 'amz-sdk-invocation-id,amz-sdk-request,cache-control,content-type,x-amz-target,x-amz-user-agent';
    const response = await preflight('/cognito/', requested);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toBe(requested);
  });
});

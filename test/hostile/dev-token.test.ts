/**
 * POST /dev/token mints user-pool tokens with any groups, admin included, and
 * every web page in the developer's browser can reach 127.0.0.1. It requires
 * the dev secret `npm run dev` prints, refuses what looks like a web page's
 * request, and never answers with CORS headers (local/dev-routes.ts).
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GetProductDocument } from '../../generated/client/graphql.js';
import { alongsideOrdinaryRequest, createProduct, expectNothingWritten } from '../support/hostile.js';
import { useLocalStack } from '../support/local-stack.js';

const local = useLocalStack();

const adminRequest = JSON.stringify({ username: 'mallory', groups: ['admin'] });

async function mint(
  headers: Record<string, string>,
  body = adminRequest,
  method = 'POST',
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(`${local.stack.url}/dev/token`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(method === 'POST' ? { body } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function corsHeaders(headers: Headers): string[] {
  return [...headers.keys()].filter((name) => name.startsWith('access-control-'));
}

let minted: ReturnType<typeof vi.spyOn> | undefined;
afterEach(() => minted?.mockRestore());

/** Runs a refused mint alongside an ordinary request, and checks that no token was signed and nothing was written. */
async function refused(headers: Record<string, string>, expected: { status: number; errorType: string; message: RegExp }): Promise<void> {
  minted?.mockRestore();
  const probe = (await createProduct(local.api)).id; // mints its admin token before the spy counts
  minted = vi.spyOn(local.stack.userPool, 'mint');
  const response = await expectNothingWritten(local.stack, () => alongsideOrdinaryRequest(local.api, probe, () => mint(headers)));
  expect(response.status).toBe(expected.status);
  expect(response.json).toEqual({ errors: [{ errorType: expected.errorType, message: expect.stringMatching(expected.message) }] });
  expect(response.json).not.toHaveProperty('token');
  expect(corsHeaders(response.headers)).toEqual([]);
  expect(minted).not.toHaveBeenCalled();
}

describe('POST /dev/token', () => {
  it('without the dev secret: 401, saying how to send it', async () => {
    await refused(
      {},
      { status: 401, errorType: 'UnauthorizedException', message: /needs the dev secret that npm run dev prints.*x-dev-secret/ },
    );
  });

  it('with a wrong secret: 403, in either header', async () => {
    await refused(
      { 'x-dev-secret': `${local.stack.devSecret}x` },
      { status: 403, errorType: 'ForbiddenException', message: /does not match/ },
    );
    await refused({ authorization: 'Bearer not-the-secret' }, { status: 403, errorType: 'ForbiddenException', message: /does not match/ });
    // A prefix of the right secret is wrong too (the comparison is of digests, in constant time).
    await refused(
      { 'x-dev-secret': local.stack.devSecret.slice(0, 8) },
      { status: 403, errorType: 'ForbiddenException', message: /does not match/ },
    );
  });

  it('from a web page (cross-site Origin), even with the right secret: 403', async () => {
    await refused(
      { origin: 'https://evil.example', 'x-dev-secret': local.stack.devSecret },
      { status: 403, errorType: 'ForbiddenException', message: /refuses requests from web pages \(Origin: https:\/\/evil\.example\)/ },
    );
    await refused(
      { origin: 'null', 'x-dev-secret': local.stack.devSecret },
      { status: 403, errorType: 'ForbiddenException', message: /Origin: null/ },
    );
    await refused(
      { 'sec-fetch-site': 'cross-site', 'x-dev-secret': local.stack.devSecret },
      { status: 403, errorType: 'ForbiddenException', message: /Sec-Fetch-Site: cross-site/ },
    );
  });

  it('through DNS rebinding (a foreign Host name on our address): 403', async () => {
    minted = vi.spyOn(local.stack.userPool, 'mint');
    const { port } = new URL(local.stack.url);
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/dev/token',
          headers: { host: `rebound.evil.example:${port}`, 'x-dev-secret': local.stack.devSecret },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(adminRequest);
    });
    expect(response.status).toBe(403);
    expect(response.body).toContain('Host: rebound.evil.example');
    expect(minted).not.toHaveBeenCalled();
  });

  it('a CORS preflight gets no Access-Control-* header, so a browser never sends the request', async () => {
    const response = await mint(
      { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-dev-secret' },
      '',
      'OPTIONS',
    );
    expect(response.status).toBe(405);
    expect(corsHeaders(response.headers)).toEqual([]);
  });

  it('with the right secret: a token the API accepts (x-dev-secret or Authorization: Bearer)', async () => {
    const ways: Array<Record<string, string>> = [
      { 'x-dev-secret': local.stack.devSecret },
      { authorization: `Bearer ${local.stack.devSecret}` },
    ];
    for (const headers of ways) {
      const response = await mint(headers);
      expect(response.status).toBe(200);
      expect(corsHeaders(response.headers)).toEqual([]);
      const token = response.json.token as string;
      // An admin-only mutation, then a read, with the minted token.
      const created = await createProduct(local.api, { name: 'Minted', priceCents: 100, category: 'dev-token', stock: 1 }, { token });
      const read = await local.api.request(GetProductDocument, { id: created.id }, { token });
      expect(read.data?.product?.name).toBe('Minted');
    }
  });

  it('with the right secret, a bad body is still a 400, and an oversized one a 413', async () => {
    const secret = { 'x-dev-secret': local.stack.devSecret };
    expect((await mint(secret, '{')).status).toBe(400);
    expect((await mint(secret, JSON.stringify({ groups: ['admin'] }))).status).toBe(400);
    expect((await mint(secret, JSON.stringify({ username: 'x'.repeat(20 * 1024) }))).status).toBe(413);
  });
});

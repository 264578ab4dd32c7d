import { describe, expect, it } from 'vitest';
import { signRequest, verifySigV4, type IamPrincipal } from '../../local/identity/sigv4.js';

const principal: IamPrincipal = {
  accessKeyId: 'AKIATEST',
  secretAccessKey: 'secret',
  accountId: '111122223333',
  userArn: 'arn:aws:iam::111122223333:user/svc',
};
const principals = new Map([[principal.accessKeyId, principal]]);
const scope = { region: 'us-east-1', service: 'appsync' };
const url = 'http://127.0.0.1:4000/graphql';
const body = '{"query":"{ __typename }"}';

async function signed(extra: Record<string, string> = {}) {
  return signRequest({ method: 'POST', url, headers: { 'content-type': 'application/json', ...extra }, body }, principal, 'us-east-1');
}

describe('verifySigV4', () => {
  it('accepts a request signed by a known principal', async () => {
    const headers = await signed();
    expect(await verifySigV4({ method: 'POST', path: '/graphql', headers, body }, principals, scope)).toEqual({ ok: true, principal });
  });

  it('rejects a changed body, path, method or signed header', async () => {
    const headers = await signed();
    const reject = async (request: Parameters<typeof verifySigV4>[0]) => (await verifySigV4(request, principals, scope)).ok;
    expect(await reject({ method: 'POST', path: '/graphql', headers, body: body.replace('__typename', 'x') })).toBe(false);
    const withoutHash = { ...headers };
    delete withoutHash['x-amz-content-sha256'];
    expect(await reject({ method: 'POST', path: '/graphql', headers: withoutHash, body })).toBe(false);
    expect(await reject({ method: 'POST', path: '/other', headers, body })).toBe(false);
    expect(await reject({ method: 'PUT', path: '/graphql', headers, body })).toBe(false);
    expect(await reject({ method: 'POST', path: '/graphql', headers: { ...headers, 'content-type': 'text/plain' }, body })).toBe(false);
  });

  it('rejects another region or service, and stale or future dates', async () => {
    const headers = await signed();
    expect(
      (await verifySigV4({ method: 'POST', path: '/graphql', headers, body }, principals, { region: 'eu-west-1', service: 'appsync' })).ok,
    ).toBe(false);
    const now = Date.now();
    expect((await verifySigV4({ method: 'POST', path: '/graphql', headers, body }, principals, scope, now + 6 * 60_000)).ok).toBe(false);
    expect((await verifySigV4({ method: 'POST', path: '/graphql', headers, body }, principals, scope, now - 6 * 60_000)).ok).toBe(false);
  });

  it('rejects malformed headers and unknown keys', async () => {
    const headers = await signed();
    expect(
      (
        await verifySigV4(
          { method: 'POST', path: '/graphql', headers: { ...headers, authorization: 'AWS4-HMAC-SHA256 nonsense' }, body },
          principals,
          scope,
        )
      ).ok,
    ).toBe(false);
    expect((await verifySigV4({ method: 'POST', path: '/graphql', headers, body }, new Map(), scope)).ok).toBe(false);
  });
});

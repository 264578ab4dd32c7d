import { describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { CreateProductDocument, GetProductDocument } from '../../generated/client/graphql.js';
import { signRequest } from '../../local/identity/sigv4.js';
import { useLocalStack } from '../support/local-stack.js';

const local = useLocalStack();

async function signedPost(body: string, principal = local.stack.iamPrincipal, tamper?: (h: Record<string, string>) => void) {
  const headers = await signRequest(
    { method: 'POST', url: local.stack.graphqlUrl, headers: { 'content-type': 'application/json' }, body },
    principal,
    'us-east-1',
  );
  tamper?.(headers);
  const response = await fetch(local.stack.graphqlUrl, { method: 'POST', headers, body });
  return {
    status: response.status,
    json: (await response.json()) as { data?: Record<string, unknown> | null; errors?: Array<{ errorType: string }> },
  };
}

const createBody = (sku: string) =>
  JSON.stringify({
    query: print(CreateProductDocument),
    variables: { input: { sku, name: 'Signed', priceCents: 100, currency: 'USD', category: 'iam', stock: 1 } },
  });

describe('AWS_IAM (SigV4) requests', () => {
  it('lets a signed backend call write the catalog, with AppSync IAM identity', async () => {
    const res = await signedPost(createBody('IAM-1'));
    expect(res.status).toBe(200);
    expect(res.json.errors).toBeUndefined();
    const id = (res.json.data?.createProduct as { id: string }).id;
    const read = await signedPost(JSON.stringify({ query: print(GetProductDocument), variables: { id } }));
    expect(read.json.data?.product).toMatchObject({ sku: 'IAM-1' });
  });

  it('refuses a tampered body, a wrong secret and an unknown key with 401, writing nothing', async () => {
    const wrongSecret = { ...local.stack.iamPrincipal, secretAccessKey: 'not-the-secret' };
    const unknownKey = { ...local.stack.iamPrincipal, accessKeyId: 'AKIAUNKNOWN' };
    const body = createBody('IAM-BAD');
    const headers = await signRequest(
      { method: 'POST', url: local.stack.graphqlUrl, headers: {}, body },
      local.stack.iamPrincipal,
      'us-east-1',
    );
    const tampered = await fetch(local.stack.graphqlUrl, { method: 'POST', headers, body: body.replace('IAM-BAD', 'IAM-EVIL') });
    expect(tampered.status).toBe(401);
    for (const principal of [wrongSecret, unknownKey]) expect((await signedPost(body, principal)).status).toBe(401);
    const stale = await signedPost(body, local.stack.iamPrincipal, (h) => {
      h['x-amz-date'] = '20200101T000000Z';
    });
    expect(stale.status).toBe(401);
    const list = await local.api.raw(JSON.stringify({ query: '{ products(category: "iam") { items { sku } } }' }), local.api.asApiKey);
    expect(list.data).toEqual({ products: { items: [{ sku: 'IAM-1' }] } });
  });

  it('keeps IAM callers out of fields without @aws_iam (myOrders is user-pool only)', async () => {
    const res = await signedPost(JSON.stringify({ query: '{ myOrders { items { id } } }' }));
    expect(res.json.errors?.[0]?.errorType).toBe('Unauthorized');
  });
});

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';

/** An IAM principal the local runtime trusts for AWS_IAM requests (backend-to-backend calls). */
export interface IamPrincipal {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly accountId: string;
  readonly userArn: string;
}

export interface SignedRequest {
  readonly method: string;
  /** Path with query string, as sent. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export type SigV4Result = { readonly ok: true; readonly principal: IamPrincipal } | { readonly ok: false; readonly reason: string };

/** AWS rejects signatures whose x-amz-date is more than 5 minutes off. */
const MAX_SKEW_MS = 5 * 60_000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

/** The SHA-256 checksum SignatureV4 wants, from node:crypto (HMAC when given a key). */
class NodeSha256 implements Checksum {
  readonly #hash;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: Uint8Array | string): void {
    this.#hash.update(typeof data === 'string' ? data : Buffer.from(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
  reset(): void {
    throw new Error('not supported');
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

function amzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/**
 * Verifies an AWS Signature Version 4 request the way AWS does: the claimed
 * key must belong to a known principal, the scope must name this region and
 * service, the date must be fresh, and re-signing the request (only its
 * signed headers, its exact body) with the principal's secret must reproduce
 * the signature. Signing itself is Smithy's SignatureV4, as in the AWS SDK.
 */
export async function verifySigV4(
  request: SignedRequest,
  principals: ReadonlyMap<string, IamPrincipal>,
  scope: { region: string; service: string },
  now = Date.now(),
): Promise<SigV4Result> {
  const match = AUTHORIZATION.exec(request.headers['authorization'] ?? '');
  if (!match) return { ok: false, reason: 'malformed SigV4 Authorization header' };
  const [, accessKeyId, day, region, service, signedHeaderList, signature] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const principal = principals.get(accessKeyId);
  if (!principal) return { ok: false, reason: 'unknown access key' };
  if (region !== scope.region || service !== scope.service)
    return { ok: false, reason: 'credential scope names another region or service' };
  const date = amzDate(request.headers['x-amz-date'] ?? '');
  if (!date || !request.headers['x-amz-date']!.startsWith(day)) return { ok: false, reason: 'missing or inconsistent X-Amz-Date' };
  if (Math.abs(now - date.getTime()) > MAX_SKEW_MS) return { ok: false, reason: 'signature expired or not yet valid' };

  // The signer trusts a provided payload hash, so the body must be checked against it here.
  const payloadHash = request.headers['x-amz-content-sha256'];
  if (payloadHash !== undefined && payloadHash !== createHash('sha256').update(request.body, 'utf8').digest('hex')) {
    return { ok: false, reason: 'x-amz-content-sha256 does not match the body' };
  }
  const signedHeaders = signedHeaderList.split(';');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) return { ok: false, reason: `signed header ${name} is missing` };
    headers[name] = value;
  }
  const url = new URL(request.path, 'http://placeholder');
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: principal.secretAccessKey, sessionToken: request.headers['x-amz-security-token'] },
    region,
    service,
    sha256: NodeSha256,
  });
  const resigned = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: headers['host'] ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: request.body,
    },
    { signingDate: date, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers['authorization']))?.[1] ?? '';
  const valid = expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  return valid ? { ok: true, principal } : { ok: false, reason: 'signature does not match' };
}

/** Signs a request as a backend client would (for tests, tools and the dev CLI). */
export async function signRequest(
  request: { method: string; url: string; headers: Record<string, string>; body: string },
  principal: IamPrincipal,
  region: string,
  service = 'appsync',
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  const signer = new SignatureV4({ credentials: principal, region, service, sha256: NodeSha256 });
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...request.headers, host: url.host },
    body: request.body,
  });
  return Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

/**
 * SigV4 for AppSync in the browser (and in Node, for tests): Smithy's
 * SignatureV4, the signer of the AWS SDK and of the local runtime's verifier
 * (local/identity/sigv4.ts), with SHA-256 and HMAC from WebCrypto, which a
 * page on http://127.0.0.1 or http://localhost has (both are secure contexts).
 */
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import type { IamCredentials } from './config.js';

/** The headers aws-amplify signs with every real-time request (AWS_APPSYNC_REALTIME_HEADERS). */
export const APPSYNC_REALTIME_HEADERS: Readonly<Record<string, string>> = {
  accept: 'application/json, text/javascript',
  'content-encoding': 'amz-1.0',
  'content-type': 'application/json; charset=UTF-8',
};

const utf8 = new TextEncoder();

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === 'string') return utf8.encode(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** SignatureV4's checksum: SHA-256, or HMAC-SHA-256 when constructed with a key. */
class WebCryptoSha256 implements Checksum {
  // ArrayBuffer-backed (slice() copies into a fresh one), as WebCrypto's BufferSource requires.
  readonly #secret: Uint8Array<ArrayBuffer> | undefined;
  #chunks: Uint8Array[] = [];

  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : toBytes(secret).slice();
  }

  update(data: Uint8Array | string): void {
    this.#chunks.push(toBytes(data).slice());
  }

  async digest(): Promise<Uint8Array> {
    const length = this.#chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
    const data = new Uint8Array(length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      data.set(chunk, offset);
      offset += chunk.byteLength;
    }
    const subtle = globalThis.crypto.subtle;
    if (this.#secret === undefined) return new Uint8Array(await subtle.digest('SHA-256', data));
    const key = await subtle.importKey('raw', this.#secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return new Uint8Array(await subtle.sign('HMAC', key, data));
  }

  reset(): void {
    this.#chunks = [];
  }
}

export interface RequestToSign {
  readonly method: string;
  /** Absolute URL: its host is signed as the `host` header, as AppSync clients do. */
  readonly url: string;
  /** Headers to sign besides host and x-amz-date (names in any case). */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact body that is sent. */
  readonly body: string;
}

/**
 * The request's headers with SigV4 added (`authorization`, `x-amz-date`,
 * `host`, and `x-amz-security-token` with a session token), names lower-cased.
 * A browser's fetch sends its own Host (the same value) and drops the one given.
 */
export async function signAppSyncRequest(
  request: RequestToSign,
  credentials: IamCredentials,
  signingDate?: Date,
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
    region: credentials.region,
    service: 'appsync',
    sha256: WebCryptoSha256,
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers['host'] = url.host;
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: request.body,
    },
    signingDate ? { signingDate } : {},
  );
  return Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
}

/**
 * The auth switcher's logic: the headers each mode puts on a GraphQL request
 * over HTTP and on the real-time handshake and `start` messages, exactly as
 * AppSync clients (aws-amplify v6) send them. No DOM here, so it runs in Node
 * tests too.
 */
import type { AuthMode, IamCredentials } from './config.js';
import { APPSYNC_REALTIME_HEADERS, signAppSyncRequest } from './sigv4.js';

export type Headers = Record<string, string>;

/** What the switcher holds; every field is what the user sees (and may edit) for its mode. */
export interface AuthState {
  readonly mode: AuthMode;
  readonly apiKey: string;
  /** User pool: the user a token is minted for. */
  readonly username: string;
  /** User pool: `cognito:groups`, comma- or space-separated. */
  readonly groups: string;
  /** User pool: a pasted token, used instead of minting (the only way without the dev secret). */
  readonly userPoolToken: string;
  readonly iam: IamCredentials;
  readonly partnerToken: string;
}

export interface AuthEnvironment {
  /** `location.origin`, e.g. `http://127.0.0.1:4000`. */
  readonly origin: string;
  /** The GraphQL path, e.g. `/graphql`. */
  readonly endpoint: string;
  /** The dev token endpoint's path, e.g. `/dev/token`. */
  readonly tokenPath: string;
  readonly devSecret: string | undefined;
  readonly fetch: typeof fetch;
  readonly now?: () => number;
}

/** A failure to produce credentials (shown in the response pane and the switcher's status). */
export class AuthError extends Error {
  override readonly name = 'AuthError';
}

/** Header names the switcher owns: in every mode but `headers`, the headers editor's copies are dropped. */
const AUTH_HEADER_NAMES = new Set(['authorization', 'x-api-key', 'host', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256']);

/** Mint a new token when the cached one has less than this left. */
const TOKEN_RENEW_MS = 60_000;

export function parseGroups(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((group) => group !== ''))];
}

/** The headers editor's object as string headers (GraphiQL hands over whatever JSON the user typed). */
export function editorHeaders(headers: Readonly<Record<string, unknown>> | undefined, mode: AuthMode): Headers {
  const result: Headers = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    if (mode !== 'headers' && AUTH_HEADER_NAMES.has(name.toLowerCase())) continue;
    result[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return result;
}

/** `exp` of a JWT, in ms; undefined when unreadable. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json = atob(
      payload
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(payload.length / 4) * 4, '='),
    );
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function amzDate(now: number): string {
  return new Date(now).toISOString().replace(/[:-]|\.\d{3}/g, '');
}

export interface MintedToken {
  readonly token: string;
  readonly username: string;
  readonly groups: readonly string[];
  /** Epoch ms, when the token says. */
  readonly expires: number | undefined;
}

export class AuthHeaders {
  readonly #env: AuthEnvironment;
  readonly #tokens = new Map<string, Promise<MintedToken>>();

  constructor(env: AuthEnvironment) {
    this.#env = env;
  }

  get #now(): number {
    return this.#env.now?.() ?? Date.now();
  }

  get #host(): string {
    return new URL(this.#env.origin).host;
  }

  get #graphqlUrl(): string {
    return new URL(this.#env.endpoint, this.#env.origin).href;
  }

  /** Whether user-pool tokens can be minted here (the page was given the dev secret). */
  get canMint(): boolean {
    return this.#env.devSecret !== undefined && this.#env.devSecret !== '';
  }

  /** Headers for `POST <endpoint>` with exactly this body, extras from the headers editor included. */
  async forHttp(state: AuthState, body: string, extra: Readonly<Record<string, unknown>> | undefined): Promise<Headers> {
    const headers: Headers = { 'content-type': 'application/json', ...editorHeaders(extra, state.mode) };
    switch (state.mode) {
      case 'apiKey':
        return { ...headers, 'x-api-key': this.#apiKey(state) };
      case 'userPool':
        return { ...headers, authorization: (await this.userPoolToken(state)).token };
      case 'lambda':
        return { ...headers, authorization: this.#partnerToken(state) };
      case 'iam': {
        // Only content-type is signed with the request; the editor's extras are sent unsigned.
        const signed = await signAppSyncRequest(
          { method: 'POST', url: this.#graphqlUrl, headers: { 'content-type': 'application/json' }, body },
          this.#iam(state),
          new Date(this.#now),
        );
        delete signed['host']; // the browser sends Host itself (the same value)
        return { ...headers, ...signed };
      }
      case 'headers':
        return headers;
    }
  }

  /**
   * The auth headers of a real-time request, as aws-amplify v6 builds them:
   * `connect` for the `header-<base64url>` subprotocol of the handshake (IAM
   * signs `POST <endpoint>/connect` with body `{}`), `start` for a start
   * message's `payload.extensions.authorization` (IAM signs `POST <endpoint>`
   * with the message's `payload.data` string as body).
   */
  async forRealtime(
    state: AuthState,
    kind: 'connect' | 'start',
    data: string,
    extra: Readonly<Record<string, unknown>> | undefined,
  ): Promise<Headers> {
    const host = this.#host;
    const headers = editorHeaders(extra, state.mode);
    switch (state.mode) {
      case 'apiKey':
        return { ...headers, host, 'x-amz-date': amzDate(this.#now), 'x-api-key': this.#apiKey(state) };
      case 'userPool':
        return { ...headers, Authorization: (await this.userPoolToken(state)).token, host };
      case 'lambda':
        return { ...headers, Authorization: this.#partnerToken(state), host };
      case 'iam': {
        const url = kind === 'connect' ? `${this.#graphqlUrl}/connect` : this.#graphqlUrl;
        const body = kind === 'connect' ? '{}' : data;
        return {
          ...headers,
          ...(await signAppSyncRequest(
            { method: 'POST', url, headers: APPSYNC_REALTIME_HEADERS, body },
            this.#iam(state),
            new Date(this.#now),
          )),
        };
      }
      case 'headers':
        return { host, ...headers };
    }
  }

  /** The pasted token, else one minted through the dev token endpoint (cached per user and groups until about to expire). */
  async userPoolToken(state: AuthState): Promise<MintedToken> {
    const pasted = state.userPoolToken.trim();
    if (pasted !== '') return { token: pasted, username: '(pasted token)', groups: [], expires: jwtExpiry(pasted) };
    const username = state.username.trim();
    if (username === '') throw new AuthError('User pool: enter a username to sign in as');
    if (!this.canMint)
      throw new AuthError('User pool: this page has no dev secret to mint tokens with; paste a token (npm run token -- --username <name>)');
    const groups = parseGroups(state.groups);
    const key = JSON.stringify([username, [...groups].sort()]);
    const cached = this.#tokens.get(key);
    if (cached) {
      const minted = await cached.catch(() => undefined);
      if (minted && (minted.expires === undefined || minted.expires - this.#now > TOKEN_RENEW_MS)) return minted;
    }
    const pending = this.#mint(username, groups);
    this.#tokens.set(key, pending);
    pending.catch(() => this.#tokens.delete(key));
    return pending;
  }

  async #mint(username: string, groups: string[]): Promise<MintedToken> {
    let response: Response;
    try {
      const fetchToken = this.#env.fetch;
      response = await fetchToken(new URL(this.#env.tokenPath, this.#env.origin).href, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-dev-secret': this.#env.devSecret ?? '' },
        body: JSON.stringify({ username, groups }),
      });
    } catch (error) {
      throw new AuthError(`User pool: POST ${this.#env.tokenPath} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.text();
    let body: { token?: unknown; errors?: Array<{ message?: unknown }> } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // reported below
    }
    if (!response.ok || typeof body.token !== 'string') {
      const message = typeof body.errors?.[0]?.message === 'string' ? body.errors[0].message : text.slice(0, 200);
      throw new AuthError(`User pool: POST ${this.#env.tokenPath} answered ${response.status}: ${message}`);
    }
    return { token: body.token, username, groups, expires: jwtExpiry(body.token) };
  }

  #apiKey(state: AuthState): string {
    const key = state.apiKey.trim();
    if (key === '') throw new AuthError('API key: enter the API key npm run dev printed');
    return key;
  }

  #partnerToken(state: AuthState): string {
    const token = state.partnerToken.trim();
    if (token === '') throw new AuthError('Lambda authorizer: enter a partner token (partner-<id>.<secret>)');
    return token;
  }

  #iam(state: AuthState): IamCredentials {
    const { accessKeyId, secretAccessKey, region } = state.iam;
    if (accessKeyId.trim() === '' || secretAccessKey.trim() === '')
      throw new AuthError('IAM: enter an access key id and secret access key');
    return { ...state.iam, accessKeyId: accessKeyId.trim(), secretAccessKey: secretAccessKey.trim(), region: region.trim() || 'us-east-1' };
  }
}

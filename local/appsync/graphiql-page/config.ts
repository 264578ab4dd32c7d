/**
 * What the server embeds in the GraphiQL page (a `<script type="application/json">`
 * block) and the browser code reads: shared by local/appsync/graphiql.ts and
 * the page's sources, so both sides agree on one shape.
 */

/** The page's auth modes, as the AppSync console names them. */
export type AuthMode = 'apiKey' | 'userPool' | 'iam' | 'lambda' | 'headers';

export const AUTH_MODES: readonly AuthMode[] = ['apiKey', 'userPool', 'iam', 'lambda', 'headers'];

export interface IamCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** The SigV4 scope's region (service is always `appsync`). */
  readonly region: string;
}

/**
 * Credentials only a trusted page gets (the developer's own visit; see
 * local/dev-request-guard.ts): each of them grants more than the API key.
 */
export interface PageCredentials {
  /** Sent as `x-dev-secret` to `tokenPath` to mint user-pool tokens. */
  readonly devSecret?: string;
  /** The local IAM principal, for signing requests in the page. */
  readonly iam?: IamCredentials;
  /** The local partner's token for the Lambda authorizer mode. */
  readonly partnerToken?: string;
}

export interface PageConfig {
  /** Same-origin GraphQL path, e.g. `/graphql`. */
  readonly endpoint: string;
  /** Same-origin real-time path, e.g. `/graphql/realtime` (ws:, or wss: on an https page). */
  readonly realtimePath: string;
  /** Same-origin path of the dev token endpoint, e.g. `/dev/token`. */
  readonly tokenPath: string;
  readonly defaultQuery?: string;
  /** Withheld only from requests that look like another web page's. */
  readonly apiKey?: string;
  /** Present only when the page was served to a trusted request. */
  readonly credentials?: PageCredentials;
  /** Why `credentials` are absent, shown in the page. */
  readonly credentialsWithheld?: string;
}

/** The id of the JSON block holding the PageConfig. */
export const CONFIG_ELEMENT_ID = 'graphiql-config';

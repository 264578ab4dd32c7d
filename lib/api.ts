/**
 * How the GraphQL API authorizes callers, declared once for the stacks and the
 * local runtime. The schema's @aws_* directives then say which of these modes
 * may see each type and field; a type or field without directives is open to
 * the default mode only, as in AppSync.
 */
export type AuthMode = 'API_KEY' | 'AMAZON_COGNITO_USER_POOLS' | 'AWS_IAM' | 'OPENID_CONNECT' | 'AWS_LAMBDA';

export interface ApiDeclaration {
  readonly name: string;
  readonly defaultAuthMode: AuthMode;
  readonly additionalAuthModes: readonly AuthMode[];
  /** API keys expire; AppSync allows 1 to 365 days. */
  readonly apiKeyTtlDays: number;
  /** The user-pool group allowed to write the catalog and move orders along. */
  readonly adminGroup: string;
}

export const api = {
  name: 'storefront',
  defaultAuthMode: 'API_KEY',
  additionalAuthModes: ['AMAZON_COGNITO_USER_POOLS', 'AWS_IAM'],
  apiKeyTtlDays: 365,
  adminGroup: 'admin',
} as const satisfies ApiDeclaration;

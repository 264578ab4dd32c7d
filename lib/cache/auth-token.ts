/**
 * The Redis AUTH token: from `REDIS_AUTH_TOKEN` directly, or read once from
 * Secrets Manager (`REDIS_AUTH_SECRET_ARN`, the way the stacks pass it) on
 * first use. The Secrets Manager client is imported only then, so functions
 * without a secret never load it.
 */
import type { RedisBackendConfig } from './config.js';

/** A secret holds the token as plain text, or as JSON with `authToken`, `token` or `password`. */
export function tokenFromSecretString(secret: string): string {
  const text = secret.trim();
  if (text.startsWith('{')) {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const token = [parsed.authToken, parsed.token, parsed.password].find((v): v is string => typeof v === 'string' && v.length > 0);
    if (!token) throw new Error('The Redis AUTH secret is JSON without an authToken, token or password member');
    return token;
  }
  if (!text) throw new Error('The Redis AUTH secret is empty');
  return text;
}

export async function resolveAuthToken(config: RedisBackendConfig): Promise<string | undefined> {
  if (config.authToken) return config.authToken;
  if (!config.authSecretArn) return undefined;
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: config.authSecretArn }));
    if (SecretString === undefined) throw new Error(`Secret ${config.authSecretArn} has no SecretString`);
    return tokenFromSecretString(SecretString);
  } finally {
    client.destroy();
  }
}

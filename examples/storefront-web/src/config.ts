/**
 * Where the app points: the local stack or a deployed API. Read once at start,
 * from `config.json` next to index.html when it is there (so one build can be
 * pointed anywhere by dropping that file beside it), else from the VITE_* env
 * variables baked in at build time.
 */
export interface StorefrontConfig {
  /** The GraphQL endpoint, `https://…/graphql`. Amplify derives the real-time URL from it. */
  readonly graphqlUrl: string;
  readonly region: string;
  /** Anonymous browsing (the catalog) uses the API key. */
  readonly apiKey: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  /** The local stack's Cognito endpoint (`https://127.0.0.1:4000/cognito/`); unset for a real user pool. */
  readonly userPoolEndpoint?: string;
  /** The category the product list opens on. */
  readonly defaultCategory: string;
}

const REQUIRED = ['graphqlUrl', 'region', 'apiKey', 'userPoolId', 'userPoolClientId'] as const;

function fromEnv(): Partial<StorefrontConfig> {
  const env = import.meta.env;
  const pick = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  return {
    graphqlUrl: pick(env.VITE_GRAPHQL_URL),
    region: pick(env.VITE_REGION),
    apiKey: pick(env.VITE_API_KEY),
    userPoolId: pick(env.VITE_USER_POOL_ID),
    userPoolClientId: pick(env.VITE_USER_POOL_CLIENT_ID),
    userPoolEndpoint: pick(env.VITE_USER_POOL_ENDPOINT),
    defaultCategory: pick(env.VITE_DEFAULT_CATEGORY),
  };
}

async function fromFile(): Promise<Partial<StorefrontConfig> | undefined> {
  const response = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' }).catch(() => undefined);
  if (!response?.ok || !(response.headers.get('content-type') ?? '').includes('json')) return undefined;
  const body: unknown = await response.json();
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('config.json must be a JSON object');
  return body as Partial<StorefrontConfig>;
}

export async function loadConfig(): Promise<StorefrontConfig> {
  const file = await fromFile();
  const merged = { ...fromEnv(), ...(file ?? {}) };
  const missing = REQUIRED.filter((key) => typeof merged[key] !== 'string' || merged[key] === '');
  if (missing.length > 0) {
    throw new Error(
      `Missing configuration: ${missing.join(', ')}. Put a config.json beside index.html (see config.example.json) or set the VITE_* variables (see .env.example).`,
    );
  }
  return { defaultCategory: 'books', ...merged } as StorefrontConfig;
}

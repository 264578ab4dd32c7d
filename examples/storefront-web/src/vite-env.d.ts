/// <reference types="vite/client" />

interface ImportMetaEnv {
  readonly VITE_GRAPHQL_URL?: string;
  readonly VITE_REGION?: string;
  readonly VITE_API_KEY?: string;
  readonly VITE_USER_POOL_ID?: string;
  readonly VITE_USER_POOL_CLIENT_ID?: string;
  readonly VITE_USER_POOL_ENDPOINT?: string;
  readonly VITE_DEFAULT_CATEGORY?: string;
}

/**
 * The page: an auth switcher like the AppSync console's above GraphiQL. The
 * switcher's mode decides the headers of every request GraphiQL sends,
 * queries and subscriptions alike; changing the mode gives GraphiQL a new
 * fetcher, so it also introspects again with the new credentials.
 */
import { AuthHeaders, parseGroups, type AuthState } from './auth.js';
import { AUTH_MODES, type AuthMode, type PageConfig } from './config.js';
import { createFetcher } from './fetcher.js';
import { GraphiQL, React, type Child, type Element, type InputEvent } from './react.js';
import type { RealtimeEvent, WebSocketFactory } from './realtime.js';

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface PageEnvironment {
  readonly config: PageConfig;
  /** `location.origin` */
  readonly origin: string;
  readonly fetch: typeof fetch;
  readonly webSocket: WebSocketFactory;
  readonly storage?: StorageLike | undefined;
}

export const MODE_LABELS: Readonly<Record<AuthMode, string>> = {
  apiKey: 'API key',
  userPool: 'Amazon Cognito user pool',
  iam: 'AWS IAM (SigV4)',
  lambda: 'AWS Lambda authorizer (partner)',
  headers: 'None (headers editor only)',
};

/** What survives a reload: the choices, never a credential. */
const STORAGE_KEY = 'local-appsync-graphiql:auth';
interface Persisted {
  readonly mode?: unknown;
  readonly username?: unknown;
  readonly groups?: unknown;
}

function initialState(env: PageEnvironment): AuthState {
  const { config } = env;
  let persisted: Persisted = {};
  try {
    persisted = (JSON.parse(env.storage?.getItem(STORAGE_KEY) ?? '{}') as Persisted | null) ?? {};
  } catch {
    // a corrupt entry is ignored
  }
  const mode = AUTH_MODES.find((candidate) => candidate === persisted.mode) ?? 'apiKey';
  return {
    mode,
    apiKey: config.apiKey ?? '',
    username: typeof persisted.username === 'string' ? persisted.username : 'admin',
    groups: typeof persisted.groups === 'string' ? persisted.groups : 'admin',
    userPoolToken: '',
    iam: {
      accessKeyId: config.credentials?.iam?.accessKeyId ?? '',
      secretAccessKey: config.credentials?.iam?.secretAccessKey ?? '',
      region: config.credentials?.iam?.region ?? 'us-east-1',
    },
    partnerToken: config.credentials?.partnerToken ?? '',
  };
}

function describe(state: AuthState, canMint: boolean): string {
  switch (state.mode) {
    case 'apiKey':
      return 'Sends x-api-key.';
    case 'userPool': {
      if (state.userPoolToken.trim() !== '') return 'Sends the pasted token as Authorization.';
      const groups = parseGroups(state.groups);
      const who = `${state.username.trim() || '(no username)'}${groups.length > 0 ? ` in ${groups.join(', ')}` : ''}`;
      return canMint ? `Sends a user-pool ID token for ${who}, minted by the local stack.` : 'Paste a user-pool token.';
    }
    case 'iam':
      return `Signs every request (SigV4, ${state.iam.region || 'us-east-1'}/appsync) as ${state.iam.accessKeyId || '(no access key)'}.`;
    case 'lambda':
      return 'Sends the partner token as Authorization; the Lambda authorizer decides.';
    case 'headers':
      return "Sends the headers editor's headers as they are (Authorization, x-api-key, SigV4 included).";
  }
}

function realtimeText(event: RealtimeEvent | undefined, events: number): string {
  switch (event?.kind) {
    case undefined:
      return 'idle';
    case 'connecting':
      return 'connecting…';
    case 'acknowledged':
      return 'connected, starting…';
    case 'subscribed':
      return 'subscribed';
    case 'data':
      return `subscribed, ${events} event${events === 1 ? '' : 's'} received`;
    case 'stopped':
      return 'stopped';
    case 'failed':
      return `failed: ${event.message}`;
    case 'closed':
      return 'closed';
  }
}

export function App(props: { readonly env: PageEnvironment }): Element {
  const { env } = props;
  const react = React();
  const h = react.createElement;
  const [state, setState] = react.useState<AuthState>(() => initialState(env));
  const [authError, setAuthError] = react.useState<string | undefined>(undefined);
  const [realtime, setRealtime] = react.useState<{ event: RealtimeEvent | undefined; events: number }>({ event: undefined, events: 0 });
  const stateRef = react.useRef(state);
  stateRef.current = state;

  const auth = react.useMemo(
    () =>
      new AuthHeaders({
        origin: env.origin,
        endpoint: env.config.endpoint,
        tokenPath: env.config.tokenPath,
        devSecret: env.config.credentials?.devSecret,
        fetch: env.fetch,
      }),
    [],
  );
  // A new fetcher per mode: GraphiQL then introspects again, with the new credentials.
  const fetcher = react.useMemo(
    () =>
      createFetcher({
        auth,
        state: () => stateRef.current,
        origin: env.origin,
        endpoint: env.config.endpoint,
        realtimePath: env.config.realtimePath,
        fetch: env.fetch,
        webSocket: env.webSocket,
        onRealtimeEvent: (event) =>
          setRealtime((previous) => ({
            event,
            events: event.kind === 'data' ? previous.events + 1 : event.kind === 'connecting' ? 0 : previous.events,
          })),
        onAuthResult: (error) => setAuthError(error?.message),
      }),
    [state.mode],
  );
  react.useEffect(() => {
    try {
      env.storage?.setItem(STORAGE_KEY, JSON.stringify({ mode: state.mode, username: state.username, groups: state.groups }));
    } catch {
      // storage may be unavailable
    }
  }, [state.mode, state.username, state.groups]);

  const update = (patch: Partial<AuthState>): void => {
    setAuthError(undefined);
    setState((previous) => ({ ...previous, ...patch }));
  };
  const field = (
    label: string,
    testId: string,
    value: string,
    onChange: (value: string) => void,
    extra: Record<string, unknown> = {},
  ): Element =>
    h(
      'label',
      { className: 'auth-field' },
      h('span', null, label),
      h('input', {
        value,
        'data-testid': testId,
        spellCheck: false,
        autoComplete: 'off',
        onChange: (event: InputEvent) => onChange(event.target.value),
        ...extra,
      }),
    );

  const withheld = env.config.credentialsWithheld;
  const notice = (missing: boolean): Child =>
    missing && withheld ? h('span', { className: 'auth-notice', 'data-testid': 'auth-withheld' }, withheld) : null;

  const fields: Child[] = [];
  switch (state.mode) {
    case 'apiKey':
      fields.push(field('API key', 'auth-api-key', state.apiKey, (apiKey) => update({ apiKey }), { size: 34 }));
      if (!env.config.apiKey) fields.push(notice(true));
      break;
    case 'userPool':
      fields.push(field('Username', 'auth-username', state.username, (username) => update({ username }), { size: 14 }));
      fields.push(field('Groups', 'auth-groups', state.groups, (groups) => update({ groups }), { size: 14, placeholder: 'admin, …' }));
      if (!auth.canMint) {
        fields.push(
          field('Token', 'auth-user-pool-token', state.userPoolToken, (userPoolToken) => update({ userPoolToken }), {
            size: 24,
            type: 'password',
          }),
        );
        fields.push(notice(true));
      }
      break;
    case 'iam':
      fields.push(
        field(
          'Access key ID',
          'auth-iam-access-key',
          state.iam.accessKeyId,
          (accessKeyId) => update({ iam: { ...state.iam, accessKeyId } }),
          { size: 22 },
        ),
      );
      fields.push(
        field(
          'Secret access key',
          'auth-iam-secret',
          state.iam.secretAccessKey,
          (secretAccessKey) => update({ iam: { ...state.iam, secretAccessKey } }),
          {
            size: 22,
            type: 'password',
          },
        ),
      );
      fields.push(
        field('Region', 'auth-iam-region', state.iam.region, (region) => update({ iam: { ...state.iam, region } }), { size: 10 }),
      );
      fields.push(notice(!env.config.credentials?.iam));
      break;
    case 'lambda':
      fields.push(
        field('Authorization token', 'auth-partner-token', state.partnerToken, (partnerToken) => update({ partnerToken }), {
          size: 30,
          type: 'password',
        }),
      );
      fields.push(notice(!env.config.credentials?.partnerToken));
      break;
    case 'headers':
      break;
  }

  const bar = h(
    'div',
    { className: 'auth-bar', role: 'toolbar', 'aria-label': 'Authorization' },
    h(
      'label',
      { className: 'auth-field' },
      h('span', null, 'Authorization mode'),
      h(
        'select',
        {
          value: state.mode,
          'data-testid': 'auth-mode',
          onChange: (event: InputEvent) => update({ mode: event.target.value as AuthMode }),
        },
        ...AUTH_MODES.map((mode) => h('option', { key: mode, value: mode }, MODE_LABELS[mode])),
      ),
    ),
    ...fields,
    h(
      'span',
      { className: authError ? 'auth-status auth-error' : 'auth-status', role: 'status', 'data-testid': 'auth-status' },
      authError ?? describe(state, auth.canMint),
    ),
    h(
      'span',
      { className: 'realtime-status', 'data-testid': 'realtime-status' },
      `Real-time: ${realtimeText(realtime.event, realtime.events)}`,
    ),
  );

  const graphiql = h(GraphiQL(), {
    fetcher,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    ...(env.config.defaultQuery ? { defaultQuery: env.config.defaultQuery } : {}),
  });
  return h('div', { className: 'page' }, bar, h('div', { className: 'graphiql-host' }, graphiql));
}

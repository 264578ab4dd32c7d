/**
 * Entry of the GraphiQL page's script (bundled by local/appsync/graphiql.ts
 * with esbuild into /graphiql/page.js): reads the config the server embedded
 * and renders the page into #graphiql.
 */
import { CONFIG_ELEMENT_ID, type PageConfig } from './config.js';
import { React, ReactDOM } from './react.js';
import type { WebSocketFactory, WebSocketLike } from './realtime.js';
import { App, type StorageLike } from './ui.js';

interface BrowserGlobals {
  readonly document: {
    getElementById(id: string): { readonly textContent: string | null } | null;
  };
  readonly location: { readonly origin: string };
  readonly localStorage?: StorageLike;
  readonly WebSocket: new (url: string, protocols: string[]) => WebSocketLike;
}

const browser = globalThis as unknown as BrowserGlobals;
const config = JSON.parse(browser.document.getElementById(CONFIG_ELEMENT_ID)?.textContent ?? '{}') as PageConfig;
const webSocket: WebSocketFactory = (url, protocols) => new browser.WebSocket(url, protocols);
let storage: StorageLike | undefined;
try {
  storage = browser.localStorage;
} catch {
  // blocked storage (e.g. a sandboxed profile)
}

ReactDOM()
  .createRoot(browser.document.getElementById('graphiql'))
  .render(
    React().createElement(App as never, {
      env: {
        config,
        origin: browser.location.origin,
        // Called unbound: the browser's fetch wants its global as `this`.
        fetch: (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => globalThis.fetch(input, init),
        webSocket,
        storage,
      },
    }),
  );

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Amplify } from 'aws-amplify';
import { App } from './App.js';
import { loadConfig } from './config.js';

const root = createRoot(document.getElementById('root')!);

try {
  const config = await loadConfig();
  Amplify.configure({
    API: {
      GraphQL: {
        endpoint: config.graphqlUrl,
        region: config.region,
        // Browsing the catalog needs no sign-in: the API key. Orders use the signed-in user's token (authMode: 'userPool').
        defaultAuthMode: 'apiKey',
        apiKey: config.apiKey,
      },
    },
    Auth: {
      Cognito: {
        userPoolId: config.userPoolId,
        userPoolClientId: config.userPoolClientId,
        ...(config.userPoolEndpoint ? { userPoolEndpoint: config.userPoolEndpoint } : {}),
      },
    },
  });
  root.render(
    <StrictMode>
      <App config={config} />
    </StrictMode>,
  );
} catch (error) {
  root.render(
    <p className="error" data-testid="config-error">
      {error instanceof Error ? error.message : String(error)}
    </p>,
  );
}

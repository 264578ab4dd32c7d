import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { api } from '../../declarations/api.js';
import { buildAppSyncSchema } from '../../declarations/schema.js';
import { RequestAuthenticator } from '../appsync/authentication.js';
import { FieldAuthorization } from '../appsync/field-authorization.js';
import { attachRealtime, type RealtimeEndpoint } from './realtime-server.js';

export interface StandaloneRealtime {
  readonly url: string;
  readonly realtime: RealtimeEndpoint;
  close(): Promise<void>;
}

/**
 * The real-time endpoint alone on a loopback port (no functions, no
 * DynamoDB), authenticating one API key: what load tests and the benchmark's
 * connection measurements need, without the rest of the stack's cost.
 * A composition root like local/runtime.ts: the one module of realtime/ that
 * imports appsync/ (its authenticator and field authorization), to wire them in.
 */
export async function startStandaloneRealtime(apiKey: string, keyTtlSeconds = 3600): Promise<StandaloneRealtime> {
  const schema = buildAppSyncSchema();
  const authenticator = new RequestAuthenticator({
    api,
    apiKeys: [{ id: apiKey, expires: Math.floor(Date.now() / 1000) + keyTtlSeconds }],
  });
  const server = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const realtime = attachRealtime({
    server,
    schema,
    authenticate: (headers, ip) => authenticator.authenticate(headers, ip),
    authorization: new FieldAuthorization(schema, api.defaultAuthMode),
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql/realtime`,
    realtime,
    close: async () => {
      await realtime.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

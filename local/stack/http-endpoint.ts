/**
 * The stack's one loopback server: AppSync's HTTP API (`/graphql`), its real-time WebSocket endpoint
 * (`/graphql/realtime`) on the same port, and the extra routes (GraphiQL, Cognito, dev endpoints). With
 * TLS the one server speaks HTTPS, so the real-time upgrade on it is WSS.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { RequestAuthenticator } from '../appsync/authentication.js';
import type { AppSyncExecutor, RequestContext } from '../appsync/execute.js';
import type { FieldAuthorization } from '../appsync/field-authorization.js';
import { createHttpServer, listen } from '../appsync/http-server.js';
import { attachRealtime, type RealtimeEndpoint } from '../realtime/realtime-server.js';
import type { Cleanups } from './cleanups.js';

export interface HttpEndpointOptions {
  readonly schema: GraphQLSchema;
  readonly executor: AppSyncExecutor;
  readonly authenticator: RequestAuthenticator;
  readonly authorization: FieldAuthorization;
  /** Routes besides /graphql; true when handled. */
  readonly routes: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
  readonly tls?: { readonly key: string; readonly cert: string } | undefined;
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  readonly log: (line: string) => void;
}

export interface HttpEndpoint {
  /** `https://127.0.0.1:PORT` with TLS, else `http://…`. */
  readonly url: string;
  readonly graphqlUrl: string;
  readonly realtimeUrl: string;
  readonly realtime: RealtimeEndpoint;
}

export async function startHttpEndpoint(options: HttpEndpointOptions, cleanups: Cleanups): Promise<HttpEndpoint> {
  const { executor, authenticator } = options;
  const server: Server = createHttpServer({ executor, authenticator, routes: options.routes, tls: options.tls });
  const realtime = attachRealtime({
    server,
    schema: options.schema,
    authorization: options.authorization,
    // One document cache for /graphql and for start messages; each mutation the executor runs is
    // published to subscribers after its response (the real-time side undoes aliases and fans out).
    documents: executor.documents,
    mutations: executor,
    // For IAM, AppSync signs the handshake over POST <graphql endpoint>/connect with body {}, and each
    // start over POST <graphql endpoint> with the start's data string (as aws-amplify v6 does).
    authenticate: (headers, sourceIp, startData) =>
      authenticator.authenticate(
        headers,
        sourceIp,
        startData === undefined
          ? { method: 'POST', path: '/graphql/connect', body: '{}' }
          : { method: 'POST', path: '/graphql', body: startData },
      ),
    onSubscribe: ({ fieldName, arguments: args, variables, caller, identity, headers }) =>
      executor.subscribe(fieldName, args, variables, { caller, identity: identity as RequestContext['identity'], headers }),
    log: options.log,
  });
  const port = await listen(server, options.port);
  cleanups.add(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  cleanups.add(() => realtime.close());
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    realtimeUrl: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/graphql/realtime`,
    realtime,
  };
}

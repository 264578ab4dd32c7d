import { Agent, request } from 'node:http';

/**
 * A minimal GraphQL-over-HTTP client on `node:http` with a keep-alive agent.
 *
 * Why not `fetch`: the client shares the machine (2 cores in CI) with the
 * server, the function workers and the DynamoDB Local JVM, so every
 * microsecond the client spends is taken from the system under test. Plain
 * `node:http` with pre-serialized bodies is the cheapest way to send a POST;
 * keep-alive with one socket per closed-loop client avoids measuring TCP
 * handshakes and running out of ephemeral ports.
 */

export interface GraphQLHttpResponse {
  readonly status: number;
  /** The parsed JSON body, or undefined when the body was not JSON. */
  readonly body: { data?: unknown; errors?: unknown } | undefined;
  readonly text: string;
}

export class GraphQLHttpClient {
  readonly #url: URL;
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(url: string, options: { maxSockets: number; timeoutMs?: number }) {
    this.#url = new URL(url);
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets });
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Serializes once; scenarios call this up front and reuse the string for every request. */
  static body(query: string, variables: Record<string, unknown>): string {
    return JSON.stringify({ query, variables });
  }

  post(body: string, headers: Readonly<Record<string, string>>): Promise<GraphQLHttpResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
          timeout: this.#timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: GraphQLHttpResponse['body'];
            try {
              const value: unknown = JSON.parse(text);
              parsed = typeof value === 'object' && value !== null ? (value as GraphQLHttpResponse['body']) : undefined;
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, text });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`No response within ${this.#timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Closes the pooled sockets so the process can exit. */
  close(): void {
    this.#agent.destroy();
  }
}

/**
 * The checks every benchmark response must pass before its shape is looked
 * at: HTTP 200, a JSON body, no `errors`. Returns a problem description or null.
 */
export function graphqlProblem(response: GraphQLHttpResponse): string | null {
  if (response.status !== 200) return `HTTP ${response.status}: ${response.text.slice(0, 200)}`;
  if (!response.body) return `Body is not a JSON object: ${response.text.slice(0, 200)}`;
  if (response.body.errors !== undefined) return `GraphQL errors: ${JSON.stringify(response.body.errors).slice(0, 300)}`;
  if (typeof response.body.data !== 'object' || response.body.data === null) return 'Response has no data';
  return null;
}

import { type Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { HttpCase, RawCase, WsCase, FuzzCase } from './generators.js';

/**
 * Sends one fuzz case and says how the server answered. Never throws: a
 * refused connection, a reset or a timeout is an outcome like a status code.
 */

export interface Outcome {
  /** Key of the status mix: `200`, `413`, `ws 101/1000` (handshake/close code), `timeout`, `reset`, `client-closed`… */
  readonly status: string;
  /** The server failed on its side: HTTP 5xx (first answer), a WebSocket handshake 5xx, or close code 1011. */
  readonly serverError: boolean;
  /** A GraphQL answer carrying an unhandled error (Lambda:Unhandled, InternalFailure): a resolver crashed on the input. */
  readonly unhandled: boolean;
  /** The server never answered within the case's bound (not counting cases that withhold their own body). */
  readonly hung: boolean;
  readonly durationMs: number;
  /** A short excerpt of what came back, for the findings. */
  readonly detail: string;
}

export interface SendOptions {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly port: number;
  /** Keep-alive agent for the ordinary HTTP cases. */
  readonly agent: Agent;
  readonly timeoutMs: number;
}

const UNHANDLED = /"errorType":"(Lambda:Unhandled|InternalFailure|Lambda:IllegalArgument)"/;
const KEEP = 64 * 1024;

export function send(fuzzCase: FuzzCase, options: SendOptions): Promise<Outcome> {
  switch (fuzzCase.transport) {
    case 'http':
      return sendHttp(fuzzCase, options);
    case 'raw':
      return sendRaw(fuzzCase, options);
    case 'ws':
      return sendWs(fuzzCase, options);
  }
}

function sendHttp(fuzzCase: HttpCase, options: SendOptions): Promise<Outcome> {
  const started = performance.now();
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const done = (outcome: Omit<Outcome, 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      resolve({ ...outcome, durationMs: performance.now() - started });
    };
    let req: ReturnType<typeof request>;
    try {
      req = request(
        {
          host: '127.0.0.1',
          port: options.port,
          method: fuzzCase.method,
          path: fuzzCase.path,
          agent: options.agent,
          headers: { ...fuzzCase.headers, 'content-length': Buffer.byteLength(fuzzCase.body) },
          timeout: options.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on('data', (chunk: Buffer) => {
            if (kept < KEEP) {
              chunks.push(chunk);
              kept += chunk.byteLength;
            }
          });
          res.on('error', () => done({ status: 'reset', serverError: false, unhandled: false, hung: false, detail: 'response aborted' }));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            done({
              status: String(status),
              serverError: status >= 500,
              unhandled: UNHANDLED.test(text),
              hung: false,
              detail: text.slice(0, 300),
            });
          });
        },
      );
    } catch (error) {
      // node:http refuses some header values outright (it would never put them on the wire).
      done({ status: 'client-refused', serverError: false, unhandled: false, hung: false, detail: String(error) });
      return;
    }
    req.on('timeout', () => {
      req.destroy();
      done({ status: 'timeout', serverError: false, unhandled: false, hung: true, detail: `no answer within ${options.timeoutMs} ms` });
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      done({
        status: error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 'reset' : `error ${error.code ?? error.message}`,
        serverError: false,
        unhandled: false,
        hung: false,
        detail: String(error),
      }),
    );
    req.end(fuzzCase.body);
  });
}

/** One HTTP/1.1 response out of a byte stream: its status and how many bytes it took, or undefined while incomplete. */
export function parseResponse(buffer: Buffer, closed: boolean): { status: number; length: number; body: string } | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buffer.subarray(0, end).toString('latin1');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!match) return { status: 0, length: buffer.length, body: head.slice(0, 200) };
  const status = Number(match[1]);
  const bodyStart = end + 4;
  const contentLength = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (contentLength) {
    const length = bodyStart + Number(contentLength[1]);
    if (buffer.length < length) return undefined;
    return { status, length, body: buffer.subarray(bodyStart, length).toString('utf8') };
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const terminator = buffer.indexOf('\r\n0\r\n\r\n', bodyStart - 2);
    if (terminator < 0) return closed ? { status, length: buffer.length, body: '' } : undefined;
    return { status, length: terminator + 7, body: buffer.subarray(bodyStart, terminator).toString('utf8') };
  }
  // No length: the body runs to the close (or there is none, e.g. a 204/304 or a bare error line).
  if (!closed && status !== 204 && status !== 304)
    return /\r\nconnection:\s*close/i.test(head) ? undefined : { status, length: bodyStart, body: '' };
  return { status, length: buffer.length, body: buffer.subarray(bodyStart).toString('utf8') };
}

function sendRaw(fuzzCase: RawCase, options: SendOptions): Promise<Outcome> {
  const started = performance.now();
  return new Promise<Outcome>((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port: options.port });
    let buffer = Buffer.alloc(0);
    let closed = false;
    let reset = false;
    const answers: string[] = [];
    let firstStatus: number | undefined;
    let unhandled = false;
    let hung = false;
    let waiter: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (buffer.length < 4 * KEEP) buffer = Buffer.concat([buffer, chunk]);
      waiter?.();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
    });
    socket.on('close', () => {
      closed = true;
      waiter?.();
    });

    const readResponse = (): Promise<void> =>
      new Promise<void>((done) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          hung = true;
          answers.push('hang');
          done();
        }, options.timeoutMs);
        const check = (): void => {
          const parsed = parseResponse(buffer, closed);
          if (parsed) {
            buffer = buffer.subarray(parsed.length);
            answers.push(String(parsed.status));
            firstStatus ??= parsed.status;
            if (UNHANDLED.test(parsed.body)) unhandled = true;
          } else if (closed) {
            answers.push(reset ? 'reset' : 'closed');
          } else {
            return;
          }
          clearTimeout(timer);
          waiter = undefined;
          done();
        };
        waiter = check;
        check();
      });

    void (async () => {
      await new Promise<void>((ready) => {
        socket.once('connect', () => ready());
        socket.once('close', () => ready());
      });
      for (const step of fuzzCase.steps) {
        if ('write' in step) {
          if (!closed) {
            await new Promise<void>((written) => socket.write(step.write, () => written()));
          }
        } else if ('readResponse' in step) {
          if (closed && buffer.length === 0) answers.push(reset ? 'reset' : 'closed');
          else await readResponse();
        } else if ('waitMs' in step) {
          await new Promise((wait) => setTimeout(wait, step.waitMs));
        } else if ('destroy' in step) {
          if (!closed && answers.length === 0) answers.push('client-closed');
          socket.destroy();
        }
      }
      socket.destroy();
      const status = `raw ${answers.join('+') || 'none'}`;
      resolve({
        status,
        serverError: firstStatus !== undefined && firstStatus >= 500,
        unhandled,
        hung,
        durationMs: performance.now() - started,
        detail: buffer.subarray(0, 300).toString('utf8'),
      });
    })();
  });
}

async function sendWs(fuzzCase: WsCase, options: SendOptions): Promise<Outcome> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: fuzzCase.connections }, () => oneSocket(fuzzCase, options)));
  // The most common result speaks for a flood; any server error or hang is kept.
  const counts = new Map<string, number>();
  for (const result of results) counts.set(result.status, (counts.get(result.status) ?? 0) + 1);
  const status = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  const worst = results.find((r) => r.serverError) ?? results.find((r) => r.hung) ?? results.find((r) => r.status === status)!;
  return {
    status,
    serverError: results.some((r) => r.serverError),
    unhandled: results.some((r) => r.unhandled),
    hung: results.some((r) => r.hung),
    durationMs: performance.now() - started,
    detail: worst.detail,
  };
}

function oneSocket(fuzzCase: WsCase, options: SendOptions): Promise<Omit<Outcome, 'durationMs'>> {
  return new Promise((resolve) => {
    let settled = false;
    const messages: string[] = [];
    let received = 0;
    let handshake: number | undefined;
    let ws: WebSocket;
    const finish = (outcome: Omit<Outcome, 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(bound);
      resolve(outcome);
    };
    const bound = setTimeout(() => {
      ws?.terminate();
      finish({
        status: handshake ? `ws ${handshake}/hang` : 'ws hang',
        serverError: false,
        unhandled: false,
        hung: true,
        detail: `no close within ${options.timeoutMs} ms; last: ${messages.at(-1) ?? ''}`,
      });
    }, options.timeoutMs);
    try {
      ws = new WebSocket(`ws://${options.host}${fuzzCase.path}`, [...fuzzCase.protocols], {
        handshakeTimeout: Math.min(10_000, options.timeoutMs),
        perMessageDeflate: false,
        maxPayload: 8 * 1024 * 1024,
      });
    } catch (error) {
      finish({ status: 'ws client-refused', serverError: false, unhandled: false, hung: false, detail: String(error) });
      return;
    }
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      finish({
        status: `ws ${status}`,
        serverError: status >= 500,
        unhandled: false,
        hung: false,
        detail: `handshake refused with HTTP ${status}`,
      });
      ws.terminate();
    });
    ws.on('error', (error) => {
      if (!handshake) finish({ status: 'ws error', serverError: false, unhandled: false, hung: false, detail: String(error) });
    });
    ws.on('message', (data) => {
      received += 1;
      if (messages.length < 5) messages.push(String(data).slice(0, 200));
    });
    ws.on('close', (code) => {
      finish({
        status: `ws ${handshake ?? 0}/${code}`,
        serverError: code === 1011,
        unhandled: false,
        hung: false,
        detail: `${received} messages; first: ${messages.slice(0, 2).join(' | ')}`,
      });
    });
    ws.on('open', () => {
      handshake = 101;
      void (async () => {
        for (const step of fuzzCase.steps) {
          if (ws.readyState !== WebSocket.OPEN) break;
          if ('send' in step) ws.send(step.send);
          else if ('sendBinary' in step) ws.send(Buffer.from(step.sendBinary, 'base64'));
          else if ('sendMany' in step) {
            for (let i = 0; i < step.sendMany.count && ws.readyState === WebSocket.OPEN; i++) {
              ws.send(step.sendMany.template.replaceAll('{i}', String(i)));
              // Let the socket drain now and then: this is abuse of the server, not of our own memory.
              if (i % 200 === 199) await new Promise((drain) => setImmediate(drain));
            }
          } else if ('rawWrite' in step) {
            (ws as unknown as { _socket?: Socket })._socket?.write(Buffer.from(step.rawWrite, 'base64'));
          } else if ('waitMs' in step) await new Promise((wait) => setTimeout(wait, step.waitMs));
          else if ('close' in step) ws.close(step.close);
          else if ('terminate' in step) ws.terminate();
        }
        // Whatever the script did, the socket ends here: a polite close, then force.
        if (ws.readyState === WebSocket.OPEN) ws.close(1000);
        setTimeout(() => ws.terminate(), 2_000).unref();
      })();
    });
  });
}

/**
 * Loopback ports for the local stack's child processes. Everything binds
 * 127.0.0.1 only: a development database or cache must not be reachable from
 * the network.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';

export const LOOPBACK_HOST = '127.0.0.1';

/** A port the OS considers free right now (another process may still take it before the child binds). */
export async function findFreePort(): Promise<number> {
  const server = createServer();
  server.listen({ port: 0, host: LOOPBACK_HOST, exclusive: true });
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('Could not determine a free port');
  return address.port;
}

/** True when nothing listens on the port (a probe listen on it succeeds). */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: LOOPBACK_HOST, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Waits until the port can be bound, polling with backoff (a port is briefly
 * held after its process died, or by another process); false at the deadline
 * or when `signal` aborts.
 */
export async function waitUntilBindable(port: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    if (await canBind(port)) return true;
    if (signal?.aborted || Date.now() + delay > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

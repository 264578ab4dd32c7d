/**
 * The supervision module every local server process goes through
 * (local/process/loopback-child.ts), on a tiny `node -e` TCP server: readiness
 * from its output line and a probe, stop, crash detection, restart on the
 * same port (waiting out someone holding it), the crash-loop cap, and start
 * failures that name what did not start and leave no process behind.
 */
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChildStartError, LoopbackChild, type LoopbackChildOptions, type RestartPolicy } from '../../local/process/loopback-child.js';
import { canBind } from '../../local/process/ports.js';

/** Listens on argv port, says so, answers "pong"; exits 3 when the port is taken, after CRASH_AFTER_MS if set. */
const SERVER = `
const net = require('node:net');
const port = Number(process.argv[1]);
const server = net.createServer((socket) => socket.end('pong'));
server.on('error', (error) => { console.error('cannot listen: ' + error.code); process.exit(3); });
server.listen(port, '127.0.0.1', () => {
  console.log('tiny server listening on ' + port);
  if (process.env.CRASH_AFTER_MS) setTimeout(() => process.exit(1), Number(process.env.CRASH_AFTER_MS));
});
process.on('SIGTERM', () => { console.log('got SIGTERM'); server.close(() => process.exit(0)); });
`;

const QUICK: RestartPolicy = { backoffMs: [20, 50], maxRestarts: 3, windowMs: 30_000, portWaitMs: 5_000 };

function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const children: LoopbackChild[] = [];
const blockers: Server[] = [];

function tiny(options: Partial<LoopbackChildOptions> = {}): LoopbackChild {
  const child = new LoopbackChild({
    name: 'tiny server',
    command: process.execPath,
    args: (port) => ['-e', SERVER, String(port)],
    readyLine: /^tiny server listening on/,
    probe: async (port) => {
      if ((await ping(port)) !== 'pong') throw new Error('not our server');
    },
    isBindFailure: (exit) => exit.kind === 'exit' && exit.code === 3,
    readyTimeoutMs: 20_000,
    ...options,
  });
  children.push(child);
  return child;
}

async function block(port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  server.listen({ port, host: '127.0.0.1', exclusive: true });
  await once(server, 'listening');
  blockers.push(server);
  return server;
}

const release = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.stop().catch(() => undefined)));
  await Promise.all(blockers.splice(0).map((server) => (server.listening ? release(server) : undefined)));
});

describe('LoopbackChild', () => {
  it('starts on a free loopback port, ready once its line and the probe say so, and stops on purpose without a restart', async () => {
    const child = tiny({ restart: QUICK });
    const crashes = vi.fn();
    child.on('crash', crashes);
    await child.start();
    expect(child.state).toBe('running');
    expect(await ping(child.port)).toBe('pong');
    expect(child.health()).toMatchObject({ name: 'tiny server', state: 'running', port: child.port, restarts: 0 });
    const pid = child.pid!;

    await child.stop();
    expect(child.state).toBe('stopped');
    expect(alive(pid)).toBe(false);
    expect(await canBind(child.port)).toBe(true);
    expect(crashes).not.toHaveBeenCalled();

    await child.start(); // again, on the same port
    expect(await ping(child.port)).toBe('pong');
  });

  it('notices a SIGKILL at once and restarts on the same port', async () => {
    const child = tiny({ restart: QUICK });
    await child.start();
    const port = child.port;
    const crash = vi.fn();
    const restarted = vi.fn();
    child.on('crash', crash);
    child.on('restarted', restarted);

    const killedAt = Date.now();
    child.kill('SIGKILL');
    await vi.waitFor(() => expect(crash).toHaveBeenCalled(), { timeout: 2_000, interval: 5 });
    const detectedMs = Date.now() - killedAt;
    expect(crash.mock.calls[0]![0]).toMatchObject({ exit: { kind: 'exit', signal: 'SIGKILL' }, restarting: true });
    expect(['restarting', 'running']).toContain(child.state);

    await vi.waitFor(() => expect(restarted).toHaveBeenCalled(), { timeout: 20_000, interval: 20 });
    expect(child.port).toBe(port);
    expect(await ping(port)).toBe('pong');
    expect(child.health()).toMatchObject({ state: 'running', restarts: 1, lastExit: { how: 'signal SIGKILL' } });
    console.info(`tiny server: crash detected after ${detectedMs} ms, back after ${restarted.mock.calls[0]![0].downMs} ms`);
  });

  it('waits for its port while another process holds it, then restarts on it', async () => {
    const child = tiny({ restart: QUICK });
    await child.start();
    const port = child.port;
    let blocker: Server | undefined;
    // Someone grabs the port the moment the process dies, and lets go a little later.
    child.on('crash', () => {
      void block(port).then((server) => {
        blocker = server;
        setTimeout(() => void release(server), 500);
      });
    });
    const restarted = vi.fn();
    child.on('restarted', restarted);
    child.kill('SIGKILL');
    await vi.waitFor(() => expect(restarted).toHaveBeenCalled(), { timeout: 20_000, interval: 20 });
    expect(blocker).toBeDefined();
    expect(child.port).toBe(port);
    expect(restarted.mock.calls[0]![0].downMs).toBeGreaterThanOrEqual(400);
    expect(await ping(port)).toBe('pong');
  });

  it('gives up, saying why, when its port stays taken', async () => {
    const child = tiny({ restart: { ...QUICK, portWaitMs: 300 } });
    await child.start();
    const port = child.port;
    child.on('crash', () => void block(port));
    const failed = vi.fn();
    child.on('failed', failed);
    child.kill('SIGKILL');
    await vi.waitFor(() => expect(failed).toHaveBeenCalled(), { timeout: 10_000, interval: 20 });
    const error = failed.mock.calls[0]![0] as ChildStartError;
    expect(error.reason).toBe('port-unavailable');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(child.health()).toMatchObject({ state: 'failed', error: expect.stringContaining('cannot start again') });
  });

  it('stops restarting a crash loop after the cap', async () => {
    const child = tiny({ restart: QUICK, env: { ...process.env, CRASH_AFTER_MS: '1000' } });
    const failed = vi.fn();
    const restarted = vi.fn();
    child.on('failed', failed);
    child.on('restarted', restarted);
    await child.start();
    await vi.waitFor(() => expect(failed).toHaveBeenCalled(), { timeout: 20_000, interval: 20 });
    expect((failed.mock.calls[0]![0] as ChildStartError).reason).toBe('crash-loop');
    expect(restarted.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(restarted.mock.calls.length).toBeLessThanOrEqual(QUICK.maxRestarts);
    expect(child.state).toBe('failed');
    expect(child.pid).toBeUndefined();
  });

  it('asks a stopGraceMs function at the stop, not before, and follows its answer', async () => {
    const lines: string[] = [];
    const killAtOnce = vi.fn(() => 0);
    const child = tiny({ stopGraceMs: killAtOnce, log: (line) => lines.push(line) });
    await child.start();
    expect(killAtOnce).not.toHaveBeenCalled();
    await child.stop();
    expect(killAtOnce).toHaveBeenCalledTimes(1);
    // No grace: SIGKILL straight away, so the server never saw a SIGTERM.
    expect(lines.join('\n')).not.toMatch(/got SIGTERM/);

    const graceful = tiny({ stopGraceMs: () => 20_000, log: (line) => lines.push(line) });
    await graceful.start();
    await graceful.stop();
    expect(lines.join('\n')).toMatch(/got SIGTERM/);
  });

  it('without a restart policy, a crash leaves it failed and reported', async () => {
    const child = tiny();
    await child.start();
    const crash = vi.fn();
    child.on('crash', crash);
    child.kill('SIGKILL');
    await vi.waitFor(() => expect(child.state).toBe('failed'), { timeout: 2_000, interval: 5 });
    expect(crash.mock.calls[0]![0]).toMatchObject({ restarting: false });
    expect(child.health().error).toMatch(/exited unexpectedly \(signal SIGKILL\)/);
  });

  it('a start that never becomes ready fails by its deadline, names what did not start, and kills the process', async () => {
    let pid: number | undefined;
    const child = tiny({ readyLine: /a line this server never prints/, readyTimeoutMs: 5_000, log: () => (pid ??= child.pid) });
    const error = (await child.start().catch((e: unknown) => e)) as ChildStartError;
    expect(error).toBeInstanceOf(ChildStartError);
    expect(error.reason).toBe('timeout');
    expect(error.message).toMatch(/^tiny server did not become ready within \d+ s on 127\.0\.0\.1:\d+: it never printed a line matching/);
    expect(error.message).toContain('tiny server listening on'); // the output tail
    expect(pid).toBeDefined();
    expect(alive(pid!)).toBe(false);
  });

  it('a probe that keeps failing is retried with backoff until the deadline, then reported with its last error', async () => {
    const probe = vi.fn(async () => {
      throw new Error('still warming up');
    });
    // No ready line: probing starts at once, so the count does not depend on how fast node starts.
    const child = tiny({ probe, readyLine: undefined, readyTimeoutMs: 1_500 });
    const error = (await child.start().catch((e: unknown) => e)) as ChildStartError;
    expect(error.reason).toBe('timeout');
    expect(error.message).toContain('it did not answer (last error: Error: still warming up)');
    // Backoff: a handful of probes in 1.5 s, not hundreds.
    expect(probe.mock.calls.length).toBeGreaterThan(2);
    expect(probe.mock.calls.length).toBeLessThan(15);
  });

  it('a taken fixed port is a bind failure with the output tail', async () => {
    const blocker = await block(0);
    const port = (blocker.address() as { port: number }).port;
    const error = (await tiny({ port })
      .start()
      .catch((e: unknown) => e)) as ChildStartError;
    expect(error.reason).toBe('bind');
    expect(error.message).toMatch(
      /exited before it was ready \(exit code 3\) on port \d+\.\n--- tiny server output \(last 1 lines\) ---\ncannot listen: EADDRINUSE/,
    );
  });

  it('an auto-picked port taken in the race is retried on a fresh port', async () => {
    let attempts = 0;
    // The first attempt's port is taken by the time the process binds it.
    const child = tiny({
      args: (port) => {
        attempts += 1;
        return ['-e', SERVER, String(attempts === 1 ? takenPort : port)];
      },
    });
    const blocker = await block(0);
    const takenPort = (blocker.address() as { port: number }).port;
    await child.start();
    expect(attempts).toBe(2);
    expect(await ping(child.port)).toBe('pong');
  });

  it('explains a command that cannot be spawned', async () => {
    const child = tiny({
      command: '/nonexistent/server',
      explainSpawnError: (error) => (error.code === 'ENOENT' ? 'install the server first' : undefined),
    });
    const error = (await child.start().catch((e: unknown) => e)) as ChildStartError;
    expect(error.reason).toBe('spawn');
    expect(error.message).toBe('install the server first');
  });

  it('stop() during a restart cancels it and leaves nothing running', async () => {
    const child = tiny({ restart: { ...QUICK, backoffMs: [500] } });
    await child.start();
    const restarted = vi.fn();
    child.on('restarted', restarted);
    child.kill('SIGKILL');
    await vi.waitFor(() => expect(child.state).toBe('restarting'), { timeout: 2_000, interval: 5 });
    await child.stop();
    expect(child.state).toBe('stopped');
    expect(child.pid).toBeUndefined();
    expect(await canBind(child.port)).toBe(true);
    expect(restarted).not.toHaveBeenCalled();
  });
});

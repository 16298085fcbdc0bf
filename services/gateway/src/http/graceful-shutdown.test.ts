import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import {
  createLogger,
  createPool,
  createRedis,
  type Pool,
  type Redis,
  registerBackgroundTask,
} from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../app.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();
const logger = createLogger({ name: 'gateway', level: 'silent' });

/** A deferred: a promise and the function that resolves it. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const get = (port: number, path: string) =>
  new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });

const connectError = (port: number) =>
  new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });

describe('graceful shutdown', () => {
  let pool: Pool;
  let redis: Redis;
  beforeAll(() => {
    pool = createPool({ url: database.url, applicationName: 'gateway-shutdown-test' });
    redis = createRedis(redisDatabase.url, 'gateway-shutdown-test');
  });
  afterAll(async () => {
    await pool.end();
    redis.disconnect();
  });

  it('finishes a request in flight with 200, refuses new connections, then stops background tasks', async () => {
    const app = buildApp({ logger, pool, redis });
    const events: string[] = [];
    const started = gate();
    const release = gate();
    // Test-only: a slow route and a background task, as the outbox relay will be.
    app.get('/test/slow', async () => {
      events.push('request started');
      started.open();
      await release.opened;
      return { done: true };
    });
    app.addHook('onResponse', async (request) => {
      if (request.url === '/test/slow') events.push('request answered');
    });
    const passes = vi.fn(async () => {});
    registerBackgroundTask(app, { name: 'test-task', intervalMs: 60_000, run: passes }, logger);
    app.addHook('onClose', async () => {
      events.push('background tasks stopped');
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    expect(passes).toHaveBeenCalledTimes(1);

    const inFlight = get(port, '/test/slow');
    await started.opened;
    // What startService does on SIGTERM: its `http` step is app.close().
    const closing = app.close();
    await vi.waitFor(() => expect(app.server.listening).toBe(false));
    expect(await connectError(port)).toBe('ECONNREFUSED');
    expect(events).toEqual(['request started']);

    release.open();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    // Told to close its keep-alive connection, so the close does not wait for it to idle out.
    expect(answer.connection).toBe('close');
    expect(JSON.parse(answer.body)).toEqual({ done: true });
    await closing;
    // HTTP drained first, then the app's onClose hooks (where background tasks stop).
    expect(events).toEqual(['request started', 'request answered', 'background tasks stopped']);
    expect(passes).toHaveBeenCalledTimes(1);
  });
});

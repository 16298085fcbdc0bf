import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresCheck, redisCheck, registerHealthRoute } from './health.ts';
import { createHttpApp } from './http-app.ts';
import { createLogger } from './logger.ts';
import { createPool, type Pool } from './postgres.ts';
import { invalidRequest, ProblemError } from './problem.ts';
import { createRedis, type Redis } from './redis.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();
const logger = createLogger({ name: 'test', level: 'silent' });

describe('http app', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = createRedis(redisDatabase.url, 'http-app-test');
  });
  afterAll(() => redis.disconnect());

  it('answers 503 naming the dependency that is down', async () => {
    const closedPool: Pool = createPool({ url: database.url, applicationName: 'closed' });
    await closedPool.end();
    const app = createHttpApp({ logger });
    registerHealthRoute(app, {
      service: 'probe',
      checks: { postgres: postgresCheck(closedPool), redis: redisCheck(redis) },
    });
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      status: 'down',
      checks: { postgres: { status: 'down' }, redis: { status: 'up' } },
    });
    await app.close();
  });

  it('answers errors as problem+json, naming each bad field', async () => {
    const app = createHttpApp({ logger });
    app.post(
      '/items',
      { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
      async () => ({}),
    );
    app.get('/rejected', async () => {
      throw invalidRequest([{ field: 'pincode', rule: 'digits-10', message: 'the pincode has 10 digits' }]);
    });
    app.get('/conflict', async () => {
      throw new ProblemError({ status: 409, type: 'conflict', title: 'Conflict', detail: 'Already there.' });
    });
    app.get('/crash', async () => {
      throw new Error('password=hunter2 leaked into a message');
    });

    const missing = await app.inject({ method: 'POST', url: '/items', payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json().errors).toEqual([{ field: 'name', rule: 'required', message: expect.any(String) }]);

    const rejected = await app.inject({ method: 'GET', url: '/rejected' });
    expect(rejected.json()).toMatchObject({ status: 400, errors: [{ field: 'pincode', rule: 'digits-10' }] });

    const conflict = await app.inject({ method: 'GET', url: '/conflict' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({
      title: 'Conflict',
      detail: 'Already there.',
      instance: '/conflict',
    });

    const crash = await app.inject({ method: 'GET', url: '/crash' });
    expect(crash.statusCode).toBe(500);
    expect(crash.body).not.toContain('hunter2');

    const unknown = await app.inject({ method: 'GET', url: '/nothing?x=1' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ status: 404, title: 'Not found' });
    await app.close();
  });
});

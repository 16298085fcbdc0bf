import { createLogger, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

describe('gateway app', () => {
  let pool: Pool;
  let redis: Redis;

  beforeAll(() => {
    pool = createPool({ url: database.url, applicationName: 'gateway-test' });
    redis = createRedis(redisDatabase.url, 'gateway-test');
  });
  afterAll(async () => {
    await pool.end();
    redis.disconnect();
  });

  it('answers /health with every dependency up', async () => {
    const app = buildApp({ logger: createLogger({ name: 'gateway', level: 'silent' }), pool, redis });
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      service: 'gateway',
      status: 'up',
      checks: { postgres: { status: 'up' }, redis: { status: 'up' } },
    });
    await app.close();
  });

  it('serves its Prometheus metrics on /metrics', async () => {
    const app = buildApp({ logger: createLogger({ name: 'gateway', level: 'silent' }), pool, redis });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/^process_resident_memory_bytes\{service="gateway"\} \d+$/m);
    await app.close();
  });
});

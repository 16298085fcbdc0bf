import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

describe('credentials app', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ databaseUrl: database.url, redisUrl: redisDatabase.url });
  });
  afterAll(() => harness.close());

  it('answers /health with every dependency up', async () => {
    const response = await harness.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      service: 'credentials',
      status: 'up',
      checks: { postgres: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('serves Prometheus metrics, gauges read from the database', async () => {
    const response = await harness.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.body).toContain('# TYPE credentials_tests_total counter');
    expect(response.body).toContain('# TYPE credentials_by_status gauge');
  });
});

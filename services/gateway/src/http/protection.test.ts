import { createLogger, createPool, createRedis, type Pool, type Redis, systemClock } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKeyService } from '../api-keys/api-key-service.ts';
import { buildApp } from '../app.ts';
import { createDatabase } from '../db/database.ts';
import { createTenantService } from '../tenants/tenant-service.ts';
import { DEFAULT_PROTECTION } from './protection.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();
const logger = createLogger({ name: 'gateway', level: 'silent' });

describe('gateway protection', () => {
  let pool: Pool;
  let redis: Redis;
  const apps: FastifyInstance[] = [];
  let tenants: ReturnType<typeof createTenantService>;
  let apiKeys: ReturnType<typeof createApiKeyService>;

  beforeAll(() => {
    pool = createPool({ url: database.url, applicationName: 'gateway-protection-test' });
    redis = createRedis(redisDatabase.url, 'gateway-protection-test');
    const db = createDatabase(pool);
    tenants = createTenantService({ db, clock: systemClock });
    apiKeys = createApiKeyService({ db, clock: systemClock });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await pool.end();
    redis.disconnect();
  });

  const gateway = (protection: Parameters<typeof buildApp>[0]['protection']) => {
    // Each replica has a Redis connection of its own, as separate processes would.
    const replicaRedis = createRedis(redisDatabase.url, 'gateway-replica');
    const app = buildApp({ logger, pool, redis: replicaRedis, protection });
    app.addHook('onClose', async () => replicaRedis.disconnect());
    apps.push(app);
    return app;
  };
  const whoami = (app: FastifyInstance, key: string) =>
    app.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: `Bearer ${key}` } });

  it('limits each API key per minute across replicas: 429 problem+json with Retry-After and RateLimit headers', async () => {
    const protection = { ...DEFAULT_PROTECTION, rateLimitPerMinute: 3 };
    const [first, second] = [gateway(protection), gateway(protection)];
    const { tenant, firstKey } = await tenants.create({ name: 'Clinica Rapida' });
    const other = await apiKeys.create(tenant.id, { scopes: ['invoices:read'] });

    const remaining: unknown[] = [];
    for (const app of [first, second, first]) {
      const response = await whoami(app, firstKey.key);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe('3');
      remaining.push(response.headers['ratelimit-remaining']);
    }
    expect(remaining).toEqual(['2', '1', '0']);

    // The fourth request of the minute, on either replica: the count is kept in Redis.
    for (const app of [second, first]) {
      const refused = await whoami(app, firstKey.key);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.json()).toMatchObject({ type: expect.stringMatching(/\/rate-limited$/), status: 429 });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.headers['ratelimit-limit']).toBe('3');
      expect(refused.headers['ratelimit-remaining']).toBe('0');
      expect(refused.headers['ratelimit-reset']).toBeDefined();
    }

    // Another key of the same tenant counts on its own.
    const fresh = await whoami(second, other.key);
    expect(fresh.statusCode).toBe(200);
    expect(fresh.headers['ratelimit-remaining']).toBe('2');
    // Refusals of authentication do not count against a key, and /health is not limited.
    expect((await first.inject({ method: 'GET', url: '/v1/whoami' })).statusCode).toBe(401);
    expect(
      (await first.inject({ method: 'GET', url: '/health' })).headers['ratelimit-limit'],
    ).toBeUndefined();
  });

  it('answers 503 overloaded with Retry-After when the process is under pressure, but /health and /metrics', async () => {
    // A heap threshold of one byte: under pressure from the first sample on.
    const app = gateway({
      ...DEFAULT_PROTECTION,
      overload: {
        ...DEFAULT_PROTECTION.overload,
        maxHeapUsedBytes: 1,
        retryAfterSeconds: 7,
        sampleIntervalMs: 10,
      },
    });
    const { firstKey } = await tenants.create({ name: 'Clinica Affollata' });
    await app.ready();
    await vi.waitFor(() => expect(app.isUnderPressure()).toBe(true));

    const refused = await whoami(app, firstKey.key);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ type: expect.stringMatching(/\/overloaded$/), status: 503 });
    expect(refused.headers['retry-after']).toBe('7');
    // Refused before anything else: no key was looked at (an unauthenticated request gets 503 too).
    expect((await app.inject({ method: 'GET', url: '/v1/whoami' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/docs/openapi.json' })).statusCode).toBe(503);

    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });
});

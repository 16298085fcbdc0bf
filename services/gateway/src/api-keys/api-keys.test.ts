import {
  API_KEY_SCOPE_NAMES,
  createHttpApp,
  createLogger,
  createPool,
  createRedis,
  type Pool,
  type Redis,
} from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { createDatabase } from '../db/database.ts';
import { createTenantService } from '../tenants/tenant-service.ts';
import { apiKeyAuth } from './api-key-auth.ts';
import { hashApiKey } from './api-key-secret.ts';
import { createApiKeyService } from './api-key-service.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();
const logger = createLogger({ name: 'gateway', level: 'silent' });

describe('tenants and API keys', () => {
  let pool: Pool;
  let redis: Redis;
  let app: FastifyInstance;
  const clock = testClock('2026-12-07T10:00:00Z');
  let tenants: ReturnType<typeof createTenantService>;
  let apiKeys: ReturnType<typeof createApiKeyService>;

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-api-keys-test' });
    redis = createRedis(redisDatabase.url, 'gateway-api-keys-test');
    const db = createDatabase(pool);
    tenants = createTenantService({ db, clock });
    apiKeys = createApiKeyService({ db, clock });
    app = buildApp({ logger, pool, redis, clock });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
  });

  const whoami = (authorization?: string) =>
    app.inject({ method: 'GET', url: '/v1/whoami', headers: authorization ? { authorization } : {} });
  const bearer = (key: string) => `Bearer ${key}`;
  const problemOf = (response: { headers: Record<string, unknown>; json(): unknown }) => {
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    return response.json() as { type: string; status: number; detail: string; errors?: unknown[] };
  };

  it('shows a new key once, in the sts_ format, and stores only its SHA-256', async () => {
    const { tenant, firstKey } = await tenants.create({ name: 'Clinica San Luca' });
    expect(firstKey.key).toMatch(/^sts_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(firstKey.key.startsWith(`sts_${firstKey.apiKey.prefix}_`)).toBe(true);
    expect(firstKey.apiKey).toMatchObject({
      tenantId: tenant.id,
      scopes: [...API_KEY_SCOPE_NAMES],
      label: 'first key',
    });
    expect(JSON.stringify(firstKey.apiKey)).not.toContain(firstKey.key.slice(22));

    const { rows } = await pool.query('select * from gateway.api_keys where id = $1', [firstKey.apiKey.id]);
    expect(rows).toHaveLength(1);
    const row = rows[0] as Record<string, unknown>;
    expect(row.secret_hash).toEqual(hashApiKey(firstKey.key));
    expect((row.secret_hash as Buffer).length).toBe(32);
    // Neither the key nor its secret part is anywhere in the row.
    const stored = JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
    expect(stored).not.toContain(firstKey.key.slice(22));
    // Listing never shows it again.
    const listed = await apiKeys.list(tenant.id);
    expect(JSON.stringify(listed)).not.toContain(firstKey.key.slice(22));
    expect(listed.map((key) => key.id)).toEqual([firstKey.apiKey.id]);
  });

  it('authenticates a good key on /v1/whoami: tenant, key id and scopes', async () => {
    const { tenant } = await tenants.create({ name: 'Poliambulatorio Nord' });
    const issued = await apiKeys.create(tenant.id, {
      scopes: ['invoices:read', 'invoices:write'],
      label: 'ERP',
    });
    const response = await whoami(bearer(issued.key));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      tenant: { id: tenant.id, name: 'Poliambulatorio Nord' },
      apiKey: {
        id: issued.apiKey.id,
        prefix: issued.apiKey.prefix,
        scopes: ['invoices:write', 'invoices:read'],
        label: 'ERP',
      },
    });
    expect(response.body).not.toContain(issued.key.slice(22));
  });

  it('refuses a missing header, another scheme, garbage, a wrong secret with a right prefix and an unknown prefix with 401', async () => {
    const { firstKey } = await tenants.create({ name: 'Studio Dentistico Sud' });
    const rightPrefixWrongSecret = `sts_${firstKey.apiKey.prefix}_${'A'.repeat(43)}`;
    const unknownPrefix = `sts_0123456789abcdef_${firstKey.key.slice(-43)}`;
    for (const authorization of [
      undefined,
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer not-a-key',
      `Bearer ${'x'.repeat(5_000)}`,
      bearer(rightPrefixWrongSecret),
      bearer(unknownPrefix),
      bearer(`${firstKey.key}x`),
    ]) {
      const response = await whoami(authorization);
      expect(response.statusCode, `${authorization?.slice(0, 40)}: ${response.body}`).toBe(401);
      expect(problemOf(response).type).toMatch(/\/unauthenticated$/);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    // The wrong secret and the unknown prefix are told the same.
    const [wrong, unknown] = await Promise.all([
      whoami(bearer(rightPrefixWrongSecret)),
      whoami(bearer(unknownPrefix)),
    ]);
    expect(problemOf(wrong).detail).toBe(problemOf(unknown).detail);
    expect((await whoami(bearer(firstKey.key))).statusCode).toBe(200);
  });

  it('refuses a revoked key at once (401 api-key-revoked), while the tenant’s other keys work', async () => {
    const { tenant, firstKey } = await tenants.create({ name: 'Centro Analisi' });
    const other = await apiKeys.create(tenant.id, { scopes: ['invoices:read'] });
    expect((await whoami(bearer(firstKey.key))).statusCode).toBe(200);
    const revoked = await apiKeys.revoke(firstKey.apiKey.id);
    expect(revoked).toMatchObject({ alreadyRevoked: false, apiKey: { revokedAt: clock().toISOString() } });
    const refused = await whoami(bearer(firstKey.key));
    expect(refused.statusCode).toBe(401);
    expect(problemOf(refused).type).toMatch(/\/api-key-revoked$/);
    expect((await whoami(bearer(other.key))).statusCode).toBe(200);
    expect(await apiKeys.revoke(firstKey.apiKey.id)).toMatchObject({ alreadyRevoked: true });
  });

  it('refuses every key of a disabled tenant with 403 tenant-disabled, and gives it no new key', async () => {
    const { tenant, firstKey } = await tenants.create({ name: 'Clinica Chiusa' });
    expect((await whoami(bearer(firstKey.key))).statusCode).toBe(200);
    await tenants.disable(tenant.id);
    const refused = await whoami(bearer(firstKey.key));
    expect(refused.statusCode).toBe(403);
    expect(problemOf(refused).type).toMatch(/\/tenant-disabled$/);
    await expect(apiKeys.create(tenant.id, { scopes: ['invoices:read'] })).rejects.toMatchObject({
      status: 409,
      type: 'tenant-disabled',
    });
  });

  it('records the last use, and does not write it again within the minute', async () => {
    const { firstKey } = await tenants.create({ name: 'Clinica Orologio' });
    const lastUsed = async () =>
      (await pool.query('select last_used_at from gateway.api_keys where id = $1', [firstKey.apiKey.id]))
        .rows[0]?.last_used_at as Date | null;
    expect(await lastUsed()).toBeNull();
    const first = clock();
    expect((await whoami(bearer(firstKey.key))).statusCode).toBe(200);
    expect(await lastUsed()).toEqual(first);
    // Within the minute: no write (xmin, the row version, does not move either).
    const version = async () =>
      (await pool.query('select xmin::text as v from gateway.api_keys where id = $1', [firstKey.apiKey.id]))
        .rows[0]?.v;
    const before = await version();
    for (const step of [1_000, 20_000, 38_000]) {
      clock.advance(step);
      expect((await whoami(bearer(firstKey.key))).statusCode).toBe(200);
    }
    expect(await lastUsed()).toEqual(first);
    expect(await version()).toBe(before);
    // Past the minute: written again.
    clock.advance(2_000);
    expect((await whoami(bearer(firstKey.key))).statusCode).toBe(200);
    expect(await lastUsed()).toEqual(clock());
    const listed = await apiKeys.list(firstKey.apiKey.tenantId);
    expect(listed[0]?.lastUsedAt).toBe(clock().toISOString());
  });

  it('keeps tenants apart: a key authenticates only its tenant, and lists hold only the tenant’s keys', async () => {
    const a = await tenants.create({ name: 'Tenant A' });
    const b = await tenants.create({ name: 'Tenant B' });
    expect((await whoami(bearer(a.firstKey.key))).json().tenant.id).toBe(a.tenant.id);
    expect((await whoami(bearer(b.firstKey.key))).json().tenant.id).toBe(b.tenant.id);
    // A's secret under B's prefix (and the other way round) is no key at all.
    const spliced = `sts_${b.firstKey.apiKey.prefix}_${a.firstKey.key.slice(-43)}`;
    expect((await whoami(bearer(spliced))).statusCode).toBe(401);
    expect((await apiKeys.list(a.tenant.id)).map((key) => key.tenantId)).toEqual([a.tenant.id]);
    await apiKeys.revoke(b.firstKey.apiKey.id);
    expect((await whoami(bearer(a.firstKey.key))).statusCode).toBe(200);
  });

  it('checks what a key is given: known scopes, at least one, a one-line label, an existing tenant', async () => {
    const { tenant } = await tenants.create({ name: 'Clinica Regole' });
    await expect(apiKeys.create(tenant.id, { scopes: ['invoices:delete'] })).rejects.toMatchObject({
      status: 400,
    });
    await expect(apiKeys.create(tenant.id, { scopes: [] })).rejects.toMatchObject({ status: 400 });
    await expect(
      apiKeys.create(tenant.id, { scopes: ['invoices:read'], label: 'a\nb' }),
    ).rejects.toMatchObject({
      status: 400,
    });
    await expect(
      apiKeys.create('00000000-0000-4000-8000-000000000000', { scopes: ['invoices:read'] }),
    ).rejects.toMatchObject({
      status: 404,
    });
    await expect(tenants.create({ name: '  ' })).rejects.toMatchObject({ status: 400 });
    await expect(tenants.create({ name: 'x', scopes: ['nope'] })).rejects.toMatchObject({ status: 400 });
    // Nothing half-made: the refused tenant left no row.
    const { rows } = await pool.query("select count(*)::int as n from gateway.tenants where name = 'x'");
    expect(rows[0]?.n).toBe(0);
  });

  it('answers 503 with Retry-After, not a pass nor a 500, when keys cannot be read', async () => {
    const { firstKey } = await tenants.create({ name: 'Clinica Offline' });
    const away = createPool({ url: 'postgres://nobody@127.0.0.1:1/none', applicationName: 'gateway-away' });
    const offline = buildApp({ logger, pool: away, redis, clock });
    try {
      const response = await offline.inject({
        method: 'GET',
        url: '/v1/whoami',
        headers: { authorization: bearer(firstKey.key) },
      });
      expect(response.statusCode).toBe(503);
      expect(problemOf(response).type).toMatch(/\/unavailable$/);
      expect(response.headers['retry-after']).toBe('5');
    } finally {
      await offline.close();
      await away.end();
    }
  });

  describe('scopes a route requires', () => {
    let guarded: FastifyInstance;
    beforeAll(async () => {
      guarded = createHttpApp({ logger });
      await guarded.register(async (api) => {
        await api.register(apiKeyAuth, { apiKeys });
        api.post('/v1/invoices', { config: { requiredScopes: ['invoices:write'] } }, async () => ({
          ok: true,
        }));
        api.get(
          '/v1/both',
          { config: { requiredScopes: ['invoices:read', 'webhooks:manage'] } },
          async () => ({
            ok: true,
          }),
        );
      });
      await guarded.ready();
    });
    afterAll(() => guarded.close());

    it('answers 403 naming the missing scope, and lets a key with it through', async () => {
      const { tenant } = await tenants.create({ name: 'Clinica Scopes' });
      const reader = await apiKeys.create(tenant.id, { scopes: ['invoices:read'] });
      const writer = await apiKeys.create(tenant.id, { scopes: ['invoices:write'] });
      const refused = await guarded.inject({
        method: 'POST',
        url: '/v1/invoices',
        headers: { authorization: bearer(reader.key) },
      });
      expect(refused.statusCode).toBe(403);
      const problem = problemOf(refused);
      expect(problem.type).toMatch(/\/missing-scope$/);
      expect(problem.detail).toContain('invoices:write');
      expect(problem.errors).toEqual([expect.objectContaining({ field: 'authorization', rule: 'scope' })]);
      expect(refused.headers['www-authenticate']).toContain('insufficient_scope');
      const both = await guarded.inject({
        method: 'GET',
        url: '/v1/both',
        headers: { authorization: bearer(reader.key) },
      });
      expect(both.statusCode).toBe(403);
      expect(problemOf(both).detail).toContain('webhooks:manage');
      expect(problemOf(both).detail).not.toContain('invoices:read,');
      const allowed = await guarded.inject({
        method: 'POST',
        url: '/v1/invoices',
        headers: { authorization: bearer(writer.key) },
      });
      expect(allowed.statusCode).toBe(200);
    });

    it('refuses to register a guarded route that declares no scopes', async () => {
      const careless = createHttpApp({ logger });
      void careless.register(async (api) => {
        await api.register(apiKeyAuth, { apiKeys });
        api.get('/v1/open', async () => ({}));
      });
      await expect(careless.ready()).rejects.toThrow(/declares no config.requiredScopes/);
    });
  });
});

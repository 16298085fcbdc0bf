import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CREDENTIAL_EVENTS_STREAM,
  createLogger,
  createPool,
  createRedis,
  encodeCredentialEvent,
  type Pool,
  type Redis,
  systemClock,
} from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyService } from '../api-keys/api-key-service.ts';
import { buildApp } from '../app.ts';
import { createDatabase } from '../db/database.ts';
import { createTenantService } from '../tenants/tenant-service.ts';
import { CREDENTIAL_EVENTS_GROUP } from './credential-events-reader.ts';
import { verifyWebhook } from './webhook-signature.ts';
import { createWebhooks, type WebhookOptions, type Webhooks } from './webhooks.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();
const logger = createLogger({ name: 'gateway', level: 'silent' });

/** A receiver as the README tells one to write it: signature, timestamp, and ids it has seen. */
interface Received {
  id: string;
  body: string;
  headers: Record<string, string>;
  verdict: 'accepted' | 'bad-signature' | 'stale-timestamp' | 'replayed' | 'failed-on-purpose';
}
function startReceiver(secretOf: () => string, failFirst = 0) {
  const received: Received[] = [];
  const seen = new Set<string>();
  let failuresLeft = failFirst;
  const waiters: (() => void)[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const headers = request.headers as Record<string, string>;
      const id = headers['webhook-id'] ?? '';
      const check = verifyWebhook(
        secretOf(),
        { timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'] },
        body,
        { nowSeconds: Math.floor(Date.now() / 1000) },
      );
      let verdict: Received['verdict'];
      if (!check.ok) verdict = check.reason;
      else if (JSON.parse(body).id !== id || seen.has(id)) verdict = 'replayed';
      else if (failuresLeft > 0) {
        failuresLeft--;
        verdict = 'failed-on-purpose';
      } else {
        seen.add(id);
        verdict = 'accepted';
      }
      received.push({ id, body, headers, verdict });
      response.statusCode = verdict === 'accepted' ? 204 : verdict === 'failed-on-purpose' ? 500 : 400;
      response.end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  return {
    received,
    server,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`),
        ),
      ),
    /** Resolves once `predicate` holds for what was received. */
    async until(predicate: (all: Received[]) => boolean) {
      while (!predicate(received)) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('webhooks', () => {
  let pool: Pool;
  let redis: Redis;
  let blocking: Redis;
  let app: FastifyInstance;
  let webhooks: Webhooks;
  let tenants: ReturnType<typeof createTenantService>;
  let apiKeys: ReturnType<typeof createApiKeyService>;
  const receivers: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-webhooks-test' });
    redis = createRedis(redisDatabase.url, 'gateway-webhooks-test');
    blocking = createRedis(redisDatabase.url, 'gateway-webhooks-test-workers', { blocking: true });
    const db = createDatabase(pool);
    tenants = createTenantService({ db, clock: systemClock });
    apiKeys = createApiKeyService({ db, clock: systemClock });
    // Small backoff (50, 100, 200 ms) instead of the catalogue's day.
    const options: WebhookOptions = {
      secretKey: randomBytes(32),
      allowHttp: true,
      credentialEventsIntervalMs: 50,
      retryOverrides: {
        'webhook.deliver': { attempts: 4, backoff: { type: 'exponential', delayMs: 50, jitter: 0 } },
      },
    };
    app = buildApp({ logger, pool, redis, workers: { connection: blocking }, webhooks: options });
    // What the status consumer holds: the same module on the same database and key.
    webhooks = createWebhooks({ db, redis, logger, clock: systemClock, options });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await pool.end();
    redis.disconnect();
    blocking.disconnect();
  });

  async function tenantWithKey(scopes: ('webhooks:manage' | 'invoices:read')[] = ['webhooks:manage']) {
    const { tenant } = await tenants.create({ name: `Clinica ${randomUUID().slice(0, 8)}` });
    const issued = await apiKeys.create(tenant.id, { scopes });
    return { tenantId: tenant.id, headers: { authorization: `Bearer ${issued.key}` } };
  }
  const call = (
    headers: Record<string, string>,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: unknown,
  ) => app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

  async function endpointWithReceiver(headers: Record<string, string>, eventTypes: string[], failFirst = 0) {
    let secret = '';
    const receiver = startReceiver(() => secret, failFirst);
    receivers.push(receiver);
    const url = await receiver.listen();
    const created = await call(headers, 'POST', '/v1/webhooks', { url, eventTypes, description: 'test' });
    expect(created.statusCode, created.body).toBe(201);
    secret = created.json().secret;
    return { receiver, endpointId: created.json().endpoint.id as string, secret, url };
  }

  const statusChange = (tenantId: string, invoiceId = randomUUID()) => ({
    event: {
      eventId: randomUUID(),
      tenantId,
      invoiceId,
      status: 'accepted' as const,
      sequence: 5,
      at: '2026-12-07T10:00:00.000Z',
      protocol: '26120710000012345',
      messages: [{ code: 'W008', kind: 'warning' as const, text: 'RSSMRA85T10A562S: pagamento tardivo' }],
    },
    previous: { status: 'submitted' as const },
  });

  it('signs a delivery the receiver verifies, and a replayed request is refused by the receiver', async () => {
    const { tenantId, headers } = await tenantWithKey();
    const { receiver, secret } = await endpointWithReceiver(headers, ['submission.completed']);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const change = statusChange(tenantId);
    await webhooks.recordStatusChanges([change]);
    await receiver.until((all) => all.length >= 1);
    const [first] = receiver.received;
    expect(first!.verdict).toBe('accepted');
    expect(first!.headers['webhook-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    const body = JSON.parse(first!.body);
    expect(body).toEqual({
      id: first!.id,
      type: 'submission.completed',
      timestamp: expect.any(String),
      data: {
        invoiceId: change.event.invoiceId,
        status: 'accepted',
        protocol: '26120710000012345',
        messages: [{ code: 'W008', kind: 'warning' }],
        at: '2026-12-07T10:00:00.000Z',
      },
    });
    // Never the text of an STS message (it may quote a codice fiscale).
    expect(first!.body).not.toContain('RSSMRA85T10A562S');

    // An attacker resends the captured request as is: same id, timestamp and signature.
    const { 'content-length': _length, host: _host, connection: _c, ...replayHeaders } = first!.headers;
    const again = await fetch(
      receiver.server.address()
        ? `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hook`
        : '',
      {
        method: 'POST',
        headers: replayHeaders,
        body: first!.body,
      },
    );
    expect(again.status).toBe(400);
    expect(receiver.received.at(-1)!.verdict).toBe('replayed');
    // A tampered body fails the signature.
    await fetch(`http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hook`, {
      method: 'POST',
      headers: replayHeaders,
      body: first!.body.replace('accepted', 'rejected'),
    });
    expect(receiver.received.at(-1)!.verdict).toBe('bad-signature');
    // An old timestamp is refused however well signed.
    expect(
      verifyWebhook(
        secret,
        { timestamp: first!.headers['webhook-timestamp'], signature: first!.headers['webhook-signature'] },
        first!.body,
        {
          nowSeconds: Number(first!.headers['webhook-timestamp']) + 3600,
        },
      ),
    ).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  it('retries with backoff after 500s, logs every attempt, and replays a delivery on request', async () => {
    const { tenantId, headers } = await tenantWithKey();
    const { receiver, endpointId } = await endpointWithReceiver(headers, ['invoice.status-changed'], 2);
    await webhooks.recordStatusChanges([statusChange(tenantId)]);
    await receiver.until((all) => all.some((entry) => entry.verdict === 'accepted'));
    expect(receiver.received.map((entry) => entry.verdict)).toEqual([
      'failed-on-purpose',
      'failed-on-purpose',
      'accepted',
    ]);
    // The same event id on every attempt.
    expect(new Set(receiver.received.map((entry) => entry.id)).size).toBe(1);

    let listed = await call(headers, 'GET', `/v1/webhooks/${endpointId}/deliveries`);
    expect(listed.statusCode, listed.body).toBe(200);
    let [delivery] = listed.json().deliveries;
    for (let i = 0; delivery.status === 'pending' && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      [delivery] = (await call(headers, 'GET', `/v1/webhooks/${endpointId}/deliveries`)).json().deliveries;
    }
    expect(delivery).toMatchObject({
      eventType: 'invoice.status-changed',
      status: 'succeeded',
      replayOf: null,
    });
    expect(
      delivery.attempts.map((attempt: { httpStatus: number; errorClass: string | null }) => [
        attempt.httpStatus,
        attempt.errorClass,
      ]),
    ).toEqual([
      [500, 'http-status'],
      [500, 'http-status'],
      [204, null],
    ]);
    const secretRows = await pool.query(
      'select * from gateway.webhook_delivery_attempts where delivery_id = $1',
      [delivery.id],
    );
    expect(JSON.stringify(secretRows.rows)).not.toContain('whsec_');

    // Manual replay: a new delivery with the same event id; this receiver already has it, and says so.
    const replay = await call(headers, 'POST', `/v1/webhooks/${endpointId}/deliveries/${delivery.id}/replay`);
    expect(replay.statusCode, replay.body).toBe(202);
    expect(replay.json()).toMatchObject({ eventId: delivery.eventId, status: 'pending' });
    await receiver.until((all) => all.length >= 4);
    expect(receiver.received[3]).toMatchObject({ id: delivery.eventId, verdict: 'replayed' });
    listed = await call(headers, 'GET', `/v1/webhooks/${endpointId}/deliveries?limit=1`);
    expect(listed.json().deliveries[0]).toMatchObject({
      id: replay.json().deliveryId,
      replayOf: delivery.id,
    });
    const next = await call(
      headers,
      'GET',
      `/v1/webhooks/${endpointId}/deliveries?limit=1&cursor=${listed.json().nextCursor}`,
    );
    expect(next.json()).toMatchObject({ deliveries: [{ id: delivery.id }], nextCursor: null });
  });

  it('marks a delivery failed after its last attempt', async () => {
    const { tenantId, headers } = await tenantWithKey();
    const { receiver, endpointId } = await endpointWithReceiver(headers, ['invoice.status-changed'], 100);
    await webhooks.recordStatusChanges([statusChange(tenantId)]);
    await receiver.until((all) => all.length >= 4);
    let delivery: { status: string; attempts: unknown[] } | undefined;
    for (let i = 0; (!delivery || delivery.status === 'pending') && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      [delivery] = (await call(headers, 'GET', `/v1/webhooks/${endpointId}/deliveries`)).json().deliveries;
    }
    expect(delivery).toMatchObject({ status: 'failed' });
    expect(delivery!.attempts).toHaveLength(4);
  });

  it('delivers a credential event from the stream once', async () => {
    const { tenantId, headers } = await tenantWithKey();
    const { receiver } = await endpointWithReceiver(headers, [
      'credential.invalid',
      'credential.password-expiring',
    ]);
    // The consumer group is made when the app starts; wait for it before publishing.
    for (let i = 0; i < 200; i++) {
      const groups = (await redis.xinfo('GROUPS', CREDENTIAL_EVENTS_STREAM).catch(() => [])) as unknown[][];
      if (groups.some((group) => group.includes(CREDENTIAL_EVENTS_GROUP))) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const credentialId = randomUUID();
    const at = new Date('2026-12-07T10:00:00Z');
    await redis.xadd(
      CREDENTIAL_EVENTS_STREAM,
      '*',
      ...encodeCredentialEvent({
        type: 'credential.updated',
        tenantId,
        credentialId,
        status: 'valid',
        usable: true,
        at,
      }),
    );
    await redis.xadd(
      CREDENTIAL_EVENTS_STREAM,
      '*',
      ...encodeCredentialEvent({
        type: 'credential.status-changed',
        tenantId,
        credentialId,
        status: 'invalid',
        usable: false,
        reason: 'wrong-password',
        at,
      }),
    );
    await receiver.until((all) => all.length >= 1);
    const body = JSON.parse(receiver.received[0]!.body);
    expect(receiver.received[0]!.verdict).toBe('accepted');
    expect(body).toMatchObject({
      type: 'credential.invalid',
      data: {
        credentialId,
        status: 'invalid',
        usable: false,
        reason: 'wrong-password',
        at: at.toISOString(),
      },
    });
    const pending = (await redis.xpending(CREDENTIAL_EVENTS_STREAM, CREDENTIAL_EVENTS_GROUP)) as [number];
    expect(pending[0]).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });

  it('manages endpoints: create, list, get, update, rotate (both secrets sign for a while), delete', async () => {
    const { headers } = await tenantWithKey();
    const { endpointId, url, secret } = await endpointWithReceiver(headers, ['credential.invalid']);
    const listed = await call(headers, 'GET', '/v1/webhooks');
    expect(listed.json().endpoints).toEqual([
      expect.objectContaining({ id: endpointId, url, enabled: true }),
    ]);
    expect(listed.body).not.toContain('whsec_');
    const got = await call(headers, 'GET', `/v1/webhooks/${endpointId}`);
    expect(got.json()).toMatchObject({
      id: endpointId,
      eventTypes: ['credential.invalid'],
      description: 'test',
    });
    expect(got.body).not.toContain('whsec_');
    const updated = await call(headers, 'PATCH', `/v1/webhooks/${endpointId}`, {
      enabled: false,
      eventTypes: ['credential.invalid', 'invoice.status-changed'],
    });
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toMatchObject({
      enabled: false,
      eventTypes: ['credential.invalid', 'invoice.status-changed'],
    });
    const rotated = await call(headers, 'POST', `/v1/webhooks/${endpointId}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().secret).toMatch(/^whsec_/);
    expect(rotated.json().secret).not.toBe(secret);
    const { rows } = await pool.query('select * from gateway.webhook_endpoints where id = $1', [endpointId]);
    expect(JSON.stringify(rows[0])).not.toContain(rotated.json().secret.slice(6));
    expect(rows[0].previous_secret_ciphertext).not.toBeNull();
    const deleted = await call(headers, 'DELETE', `/v1/webhooks/${endpointId}`);
    expect(deleted.statusCode).toBe(204);
    expect((await call(headers, 'GET', `/v1/webhooks/${endpointId}`)).statusCode).toBe(404);
  });

  it("answers 404 for another tenant's endpoint on every route, and 403 without webhooks:manage", async () => {
    const owner = await tenantWithKey();
    const { endpointId } = await endpointWithReceiver(owner.headers, ['invoice.status-changed']);
    const stranger = await tenantWithKey();
    const deliveryId = randomUUID();
    const routes: ['GET' | 'POST' | 'PATCH' | 'DELETE', string, unknown?][] = [
      ['GET', `/v1/webhooks/${endpointId}`],
      ['PATCH', `/v1/webhooks/${endpointId}`, { enabled: false }],
      ['DELETE', `/v1/webhooks/${endpointId}`],
      ['POST', `/v1/webhooks/${endpointId}/rotate-secret`],
      ['GET', `/v1/webhooks/${endpointId}/deliveries`],
      ['POST', `/v1/webhooks/${endpointId}/deliveries/${deliveryId}/replay`],
    ];
    for (const [method, url, payload] of routes) {
      const response = await call(stranger.headers, method, url, payload);
      expect(response.statusCode, `${method} ${url}`).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await call(stranger.headers, 'GET', '/v1/webhooks')).json().endpoints).toEqual([]);
    expect((await call(owner.headers, 'GET', `/v1/webhooks/${endpointId}`)).statusCode).toBe(200);

    const readOnly = await tenantWithKey(['invoices:read']);
    for (const [method, url, payload] of [
      ...routes,
      ['GET', '/v1/webhooks'],
      ['POST', '/v1/webhooks', {}],
    ] as typeof routes) {
      const response = await call(readOnly.headers, method, url, payload);
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json().type).toMatch(/missing-scope$/);
    }
  });

  it('refuses bad URLs with 400 problem+json naming the field and the rule', async () => {
    const { headers } = await tenantWithKey();
    const cases: [unknown, string][] = [
      ['https://user:pass@example.com/hook', 'no-credentials'],
      [`https://example.com/${'a'.repeat(2100)}`, 'max-length'],
      ['not a url', 'url'],
      ['ftp://example.com/hook', 'https'],
      ['https://example.com/hook#part', 'no-fragment'],
    ];
    for (const [url, rule] of cases) {
      const response = await call(headers, 'POST', '/v1/webhooks', {
        url,
        eventTypes: ['credential.invalid'],
      });
      expect(response.statusCode, String(url).slice(0, 40)).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json().errors).toEqual([expect.objectContaining({ field: 'url', rule })]);
    }
    const badType = await call(headers, 'POST', '/v1/webhooks', {
      url: 'https://example.com/h',
      eventTypes: ['nope'],
    });
    expect(badType.statusCode).toBe(400);
    expect(badType.json().errors[0].field).toBe('eventTypes.0');
  });
});

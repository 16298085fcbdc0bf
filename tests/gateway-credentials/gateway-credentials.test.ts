import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { type Harness, MANAGE, startHarness, TOKEN_KEYS } from '@sts/credentials/testing';
import { buildApp as buildGateway } from '@sts/gateway';
import {
  CREDENTIALS_BODY_LIMIT,
  type CredentialsClient,
  createCredentialsClient,
  gatewayAccounts,
} from '@sts/gateway/testing';
import { createLogger, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/**
 * `/v1/credentials…` of the real gateway, over real HTTP, in front of the real credentials service
 * (listening on a port, with the STS simulator): what the gateway answers is what the credentials
 * service answers, for the key's tenant only; without it, 503 with Retry-After; and no password or
 * pincode reaches the gateway's logs.
 */

const DOCTOR = { username: 'GTWMRA80A01H501U', password: 'Gateway.Pw.1', pincode: '7310486295' };
const WRONG_PASSWORD = 'Sbagliata.Pw.7';
const credentialBody = (overrides: Record<string, unknown> = {}) => ({
  label: 'Dr Gateway',
  environment: 'test',
  kind: 'basic',
  user: DOCTOR.username,
  password: DOCTOR.password,
  pincode: DOCTOR.pincode,
  owner: { taxCode: DOCTOR.username },
  vatNumbers: ['00265910661'],
  ...overrides,
});
const INTERNAL = '/internal/v1/credentials';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, checked by expect
  json: Record<string, any>;
}

async function send(
  base: string,
  method: string,
  path: string,
  { headers = {}, body }: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {}
  return { status: response.status, headers: response.headers, text, json };
}

/** The credentials service's body as the gateway passes it on: problem `instance`s name the public path. */
function asPublic(answer: Answer): unknown {
  const body = structuredClone(answer.json);
  for (const problem of [body, body.testRefused]) {
    if (problem && typeof problem.instance === 'string' && problem.instance.startsWith(INTERNAL)) {
      problem.instance = `/v1/credentials${problem.instance.slice(INTERNAL.length)}`;
    }
  }
  return body;
}

/** Same status, content type, Retry-After and body (with public paths) as the credentials service's. */
function expectSame(viaGateway: Answer, direct: Answer) {
  expect(viaGateway.status, viaGateway.text).toBe(direct.status);
  expect(viaGateway.headers.get('content-type')).toBe(direct.headers.get('content-type'));
  expect(viaGateway.headers.get('retry-after') === null).toBe(direct.headers.get('retry-after') === null);
  expect(viaGateway.json).toEqual(asPublic(direct));
}

/** A port where nothing listens (taken from the OS, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('gateway /v1/credentials through the credentials service', () => {
  let h: Harness;
  let pool: Pool;
  let redis: Redis;
  const logs: string[] = [];
  const gateways: ReturnType<typeof buildGateway>[] = [];
  let gateway: string;
  let direct: (tenantId: string) => { authorization: string };
  const keys = { manage: '', readOnly: '', revoked: '', other: '' };
  let tenantId = '';
  let manageKeyId = '';
  let otherTenantId = '';

  const logger = createLogger({
    name: 'gateway',
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  });

  async function startGateway(credentials: CredentialsClient | undefined): Promise<string> {
    const app = buildGateway({ logger, pool, redis, ...(credentials ? { credentials } : {}) });
    gateways.push(app);
    return app.listen({ host: '127.0.0.1', port: 0 });
  }
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const viaGateway = (
    method: string,
    path: string,
    options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    send(gateway, method, path, {
      headers: { ...(options.key ? bearer(options.key) : {}), ...options.headers },
      body: options.body,
    });
  const directly = (method: string, path: string, options: { body?: unknown; tenant?: string } = {}) =>
    send(h.url!, method, path, { headers: direct(options.tenant ?? tenantId), body: options.body });

  beforeAll(async () => {
    h = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      listen: true,
      simulator: { users: [{ ...DOCTOR, kind: 'professional' }] },
    });
    direct = (tenant) => h.auth({ tenantId: tenant, scopes: MANAGE });
    pool = createPool({ url: database.url, applicationName: 'gateway-credentials' });
    redis = createRedis(redisDatabase.url, 'gateway-credentials');
    const { tenants, apiKeys } = gatewayAccounts(pool);
    const clinic = await tenants.create({ name: 'Clinica Gateway', scopes: ['credentials:manage'] });
    tenantId = clinic.tenant.id;
    keys.manage = clinic.firstKey.key;
    manageKeyId = clinic.firstKey.apiKey.id;
    keys.readOnly = (await apiKeys.create(tenantId, { scopes: ['invoices:read'], label: 'read only' })).key;
    const revoked = await apiKeys.create(tenantId, { scopes: ['credentials:manage'], label: 'revoked' });
    await apiKeys.revoke(revoked.apiKey.id);
    keys.revoked = revoked.key;
    const other = await tenants.create({ name: 'Altra clinica', scopes: ['credentials:manage'] });
    otherTenantId = other.tenant.id;
    keys.other = other.firstKey.key;
    gateway = await startGateway(
      createCredentialsClient({ baseUrl: h.url!, signingKey: TOKEN_KEYS.gateway }),
    );
  });
  afterAll(async () => {
    for (const app of gateways) await app.close();
    await h.close();
    await pool.end();
    redis.disconnect();
  });

  it('creates, lists, reads, changes, tests and deletes, answering as the credentials service does', async () => {
    // Create (with the test against the simulator): 201, Location under /v1, warnings, the test.
    const created = await viaGateway('POST', '/v1/credentials?test=true', {
      key: keys.manage,
      body: credentialBody(),
      headers: { 'x-audit-reason': 'new doctor, ticket 42', 'x-request-id': 'gw-create-1' },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.json.credential.id as string;
    expect(created.headers.get('location')).toBe(`/v1/credentials/${id}`);
    expect(created.headers.get('content-type')).toMatch(/^application\/json/);
    expect(created.json.warnings).toEqual([]);
    expect(created.json.test).toMatchObject({ outcome: 'valid', status: 'valid', usable: true });
    expect(created.json.credential.secrets).toEqual({
      password: { set: true },
      pincode: { set: true, hint: '••••••••95' },
    });
    // The credentials service saw the tenant, the key as actor, the reason and the request id.
    const audit = await pool.query(
      `select actor, reason, request_id, tenant_id from credentials.audit_log
        where credential_id = $1 and action = 'credential.created'`,
      [id],
    );
    expect(audit.rows).toEqual([
      {
        actor: `gateway:api-key:${manageKeyId}`,
        reason: 'new doctor, ticket 42',
        request_id: 'gw-create-1',
        tenant_id: tenantId,
      },
    ]);

    // Read and list: the same bodies as the credentials service's.
    expectSame(
      await viaGateway('GET', `/v1/credentials/${id}`, { key: keys.manage }),
      await directly('GET', `${INTERNAL}/${id}`),
    );
    const list = await viaGateway('GET', '/v1/credentials?status=valid&limit=10', { key: keys.manage });
    expectSame(list, await directly('GET', `${INTERNAL}?status=valid&limit=10`));
    expect(list.json.items.map((item: { id: string }) => item.id)).toEqual([id]);
    expectSame(
      await viaGateway('GET', `/v1/credentials?after=${id}`, { key: keys.manage }),
      await directly('GET', `${INTERNAL}?after=${id}`),
    );
    // A bad query is refused by the credentials service, and the refusal passed on.
    expectSame(
      await viaGateway('GET', '/v1/credentials?status=lost&limit=0', { key: keys.manage }),
      await directly('GET', `${INTERNAL}?status=lost&limit=0`),
    );

    // Change.
    const changed = await viaGateway('PATCH', `/v1/credentials/${id}`, {
      key: keys.manage,
      body: { label: 'Dr Gateway, studio 2', sendingMode: 'batch' },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.json.credential).toMatchObject({ label: 'Dr Gateway, studio 2', sendingMode: 'batch' });
    expectSame(
      await viaGateway('GET', `/v1/credentials/${id}`, { key: keys.manage }),
      await directly('GET', `${INTERNAL}/${id}`),
    );

    // Test: the outcome as the credentials service gives it.
    const tested = await viaGateway('POST', `/v1/credentials/${id}/test`, { key: keys.manage });
    expect(tested.status, tested.text).toBe(200);
    expect(tested.json).toMatchObject({ outcome: 'valid', status: 'valid', usable: true });
    expect(tested.json.remedy).toEqual({ it: expect.any(String), en: expect.any(String) });

    // Delete: 204, then 404 both ways.
    const deleted = await viaGateway('DELETE', `/v1/credentials/${id}`, { key: keys.manage });
    expect(deleted.status, deleted.text).toBe(204);
    expect(deleted.text).toBe('');
    expectSame(
      await viaGateway('GET', `/v1/credentials/${id}`, { key: keys.manage }),
      await directly('GET', `${INTERNAL}/${id}`),
    );
    expect((await viaGateway('DELETE', `/v1/credentials/${id}`, { key: keys.manage })).status).toBe(404);
  });

  it('passes on a 400 naming every bad field, a body the gateway cannot parse, and refuses an oversized one', async () => {
    const bad = credentialBody({
      pincode: '12ab',
      owner: { taxCode: 'RSSMRA85T10A562X' },
      vatNumbers: ['123'],
    });
    const viaGw = await viaGateway('POST', '/v1/credentials', { key: keys.manage, body: bad });
    const straight = await directly('POST', INTERNAL, { body: bad });
    expect(straight.status).toBe(400);
    expectSame(viaGw, straight);
    expect(viaGw.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(viaGw.json.instance).toBe('/v1/credentials');
    expect(viaGw.json.errors.map((error: { field: string }) => error.field)).toEqual(
      expect.arrayContaining(['pincode', 'vatNumbers[0]']),
    );
    expect(viaGw.text).not.toContain('12ab');

    // Not JSON: the credentials service's own 400.
    expectSame(
      await viaGateway('POST', '/v1/credentials', { key: keys.manage, body: '{"label":' }),
      await directly('POST', INTERNAL, { body: '{"label":' }),
    );
    // Larger than the bound: refused by the gateway itself, 413, nothing sent on.
    const huge = await viaGateway('POST', '/v1/credentials', {
      key: keys.manage,
      body: credentialBody({ label: 'x'.repeat(CREDENTIALS_BODY_LIMIT) }),
    });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('passes on a failed test with its remedy, then the pause with Retry-After', async () => {
    const created = await viaGateway('POST', '/v1/credentials', {
      key: keys.manage,
      body: credentialBody({ label: 'wrong password', password: WRONG_PASSWORD, pincode: '1111111111' }),
    });
    expect(created.status, created.text).toBe(201);
    const id = created.json.credential.id as string;
    const failed = await viaGateway('POST', `/v1/credentials/${id}/test`, { key: keys.manage });
    expect(failed.status, failed.text).toBe(200);
    expect(failed.json).toMatchObject({
      outcome: 'wrong-or-expired-password',
      status: 'invalid',
      usable: false,
    });
    expect(failed.json.remedy.en).toMatch(/password/i);
    expect(failed.json.tests.pausedUntil).not.toBeNull();

    const paused = await viaGateway('POST', `/v1/credentials/${id}/test`, { key: keys.manage });
    const pausedDirect = await directly('POST', `${INTERNAL}/${id}/test`);
    expect(paused.status).toBe(409);
    expectSame(paused, pausedDirect);
    expect(Number(paused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(paused.headers.get('retry-after')).toBe(pausedDirect.headers.get('retry-after'));
    expect(paused.json.instance).toBe(`/v1/credentials/${id}/test`);

    // The refused password, sent again for the same login: 422 naming the field, nothing stored.
    const again = credentialBody({ label: 'same wrong password', password: WRONG_PASSWORD });
    const refused = await viaGateway('POST', '/v1/credentials', { key: keys.manage, body: again });
    const refusedDirect = await directly('POST', INTERNAL, { body: again });
    expect(refused.status, refused.text).toBe(422);
    expectSame(refused, refusedDirect);
    expect(refused.json.type).toMatch(/password-known-to-fail$/);
    expect(refused.json.errors[0]).toMatchObject({ field: 'password', rule: 'password.known-to-fail' });
    expect(refused.text).not.toContain(WRONG_PASSWORD);
    const list = await viaGateway('GET', '/v1/credentials', { key: keys.manage });
    expect(list.json.items.map((item: { label: string }) => item.label)).not.toContain('same wrong password');
  });

  it('refuses requests without a key (401), a key without credentials:manage (403) and a revoked key (401)', async () => {
    const routes: [string, string][] = [
      ['POST', '/v1/credentials'],
      ['GET', '/v1/credentials'],
      ['GET', '/v1/credentials/00000000-0000-4000-8000-000000000000'],
      ['PATCH', '/v1/credentials/00000000-0000-4000-8000-000000000000'],
      ['DELETE', '/v1/credentials/00000000-0000-4000-8000-000000000000'],
      ['POST', '/v1/credentials/00000000-0000-4000-8000-000000000000/test'],
    ];
    for (const [method, path] of routes) {
      const body = method === 'POST' || method === 'PATCH' ? { label: 'x' } : undefined;
      const none = await viaGateway(method, path, { body });
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.json.type).toMatch(/unauthenticated$/);
      const readOnly = await viaGateway(method, path, { key: keys.readOnly, body });
      expect(readOnly.status, `${method} ${path}`).toBe(403);
      expect(readOnly.json.type).toMatch(/missing-scope$/);
      expect(readOnly.json.detail).toContain('credentials:manage');
      const revoked = await viaGateway(method, path, { key: keys.revoked, body });
      expect(revoked.status, `${method} ${path}`).toBe(401);
      expect(revoked.json.type).toMatch(/api-key-revoked$/);
    }
  });

  it("answers 404 for another tenant's credential on every route, and lists only the tenant's own", async () => {
    const created = await viaGateway('POST', '/v1/credentials', {
      key: keys.manage,
      body: credentialBody({ label: 'not yours' }),
    });
    expect(created.status, created.text).toBe(201);
    const id = created.json.credential.id as string;
    const attempts: [string, string, unknown][] = [
      ['GET', `/v1/credentials/${id}`, undefined],
      ['PATCH', `/v1/credentials/${id}`, { label: 'mine now' }],
      ['DELETE', `/v1/credentials/${id}`, undefined],
      ['POST', `/v1/credentials/${id}/test`, undefined],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await viaGateway(method, path, { key: keys.other, body });
      expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(404);
      expect(answer.json.type).toMatch(/not-found$/);
      expect(answer.json.instance).toBe(path);
    }
    // Not a uuid: 404 as the credentials service would say it, without asking it.
    for (const [method, path] of [
      ['GET', '/v1/credentials/not-an-id'],
      ['POST', '/v1/credentials/..%2Fleases/test'],
    ] as const) {
      const answer = await viaGateway(method, path, { key: keys.manage });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.json.detail).toBe('The credential was not found.');
    }
    const theirs = await viaGateway('GET', '/v1/credentials', { key: keys.other });
    expect(theirs.status).toBe(200);
    expect(theirs.json).toEqual({ items: [], next: null });
    expectSame(theirs, await directly('GET', INTERNAL, { tenant: otherTenantId }));
    // Still there, unchanged, for its tenant.
    const mine = await viaGateway('GET', `/v1/credentials/${id}`, { key: keys.manage });
    expect(mine.json.credential.label).toBe('not yours');
  });

  it('lists every credential of a tenant with listAll, page after page', async () => {
    const client = createCredentialsClient({ baseUrl: h.url!, signingKey: TOKEN_KEYS.gateway, pageSize: 2 });
    const { tenants } = gatewayAccounts(pool);
    const clinic = await tenants.create({ name: 'Clinica Molte', scopes: ['credentials:manage'] });
    const made: string[] = [];
    for (let n = 0; n < 5; n++) {
      const created = await send(gateway, 'POST', '/v1/credentials', {
        headers: bearer(clinic.firstKey.key),
        body: credentialBody({ label: `studio ${n}`, sendingMode: n % 2 ? 'batch' : 'realtime' }),
      });
      expect(created.status, created.text).toBe(201);
      made.push(created.json.credential.id);
    }
    const all = await client.listAll(clinic.tenant.id);
    expect(all.map((item) => item.id)).toEqual([...made].sort());
    expect(all[0]).toEqual({
      id: expect.any(String),
      label: expect.stringMatching(/^studio \d$/),
      environment: 'test',
      kind: 'basic',
      user: DOCTOR.username,
      owner: { kind: 'professional', taxCode: DOCTOR.username },
      vatNumbers: ['00265910661'],
      sendingMode: expect.stringMatching(/^(batch|realtime)$/),
      status: 'untested',
      usable: false,
    });
    expect(await client.listAll(clinic.tenant.id, { status: 'valid' })).toEqual([]);
    expect(await client.listAll('a-tenant-with-nothing')).toEqual([]);
  });

  it('answers 503 with Retry-After, and nothing of the cause, when the credentials service cannot answer', async () => {
    // Nothing listens.
    const down = await startGateway(
      createCredentialsClient({
        baseUrl: `http://127.0.0.1:${await closedPort()}`,
        signingKey: TOKEN_KEYS.gateway,
      }),
    );
    const id = '00000000-0000-4000-8000-000000000000';
    for (const [method, path, body] of [
      ['POST', '/v1/credentials?test=true', credentialBody()],
      ['GET', '/v1/credentials', undefined],
      ['GET', `/v1/credentials/${id}`, undefined],
      ['PATCH', `/v1/credentials/${id}`, { password: 'Nuova.Pw.2' }],
      ['DELETE', `/v1/credentials/${id}`, undefined],
      ['POST', `/v1/credentials/${id}/test`, undefined],
    ] as const) {
      const answer = await send(down, method, path, { headers: bearer(keys.manage), body });
      expect(answer.status, `${method} ${path}`).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.json).toMatchObject({ type: expect.stringMatching(/unavailable$/), status: 503 });
      expect(answer.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|fetch/);
    }
    // The API key is still checked first.
    expect((await send(down, 'GET', '/v1/credentials', { headers: bearer(keys.readOnly) })).status).toBe(403);

    // The credentials service answers 5xx (here 503: a replica that lacks the master key the
    // credential's data key is wrapped with): 503 from the gateway, without the service's words.
    const created = await viaGateway('POST', '/v1/credentials', {
      key: keys.manage,
      body: credentialBody({ label: 'locked away' }),
    });
    expect(created.status, created.text).toBe(201);
    const lost = h.buildApp({
      keyring: {
        activeVersion: h.keyring.activeVersion,
        versions: [],
        // The keyring's own refusal (a KeyringError) for every version: none is configured here.
        key: () => h.keyring.key('not-on-this-replica'),
      },
    });
    const lostUrl = await lost.listen({ host: '127.0.0.1', port: 0 });
    const upstreamDown = await startGateway(
      createCredentialsClient({ baseUrl: lostUrl, signingKey: TOKEN_KEYS.gateway }),
    );
    const credentialId = created.json.credential.id as string;
    const straight = await send(lostUrl, 'POST', `${INTERNAL}/${credentialId}/test`, {
      headers: direct(tenantId),
    });
    expect(straight.status).toBe(503);
    const answer = await send(upstreamDown, 'POST', `/v1/credentials/${credentialId}/test`, {
      headers: bearer(keys.manage),
    });
    expect(answer.status).toBe(503);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(answer.json.type).toMatch(/unavailable$/);
    expect(answer.json.detail).not.toBe(straight.json.detail);
    expect(answer.text).not.toContain('master');

    // The gateway's own token refused (a key the credentials service does not know): 503 too, not
    // a 401 the clinic would take for its API key.
    const unknownKey = { ...TOKEN_KEYS.gateway, id: 'not-configured', secret: randomBytes(32) };
    const misconfigured = await startGateway(
      createCredentialsClient({ baseUrl: h.url!, signingKey: unknownKey }),
    );
    const refused = await send(misconfigured, 'GET', '/v1/credentials', { headers: bearer(keys.manage) });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(logs.join('')).toContain('"credentialsUnavailable":"token-refused"');
  });

  it('without a credentials client, the gateway serves no /v1/credentials', async () => {
    const bare = await startGateway(undefined);
    const answer = await send(bare, 'GET', '/v1/credentials', { headers: bearer(keys.manage) });
    expect(answer.status).toBe(404);
  });

  it('never writes a password or a pincode to its logs', () => {
    const written = logs.join('');
    expect(written).toContain('credentials service unavailable');
    expect(written).toContain('/v1/credentials');
    for (const secret of [DOCTOR.password, DOCTOR.pincode, WRONG_PASSWORD, '1111111111', 'Nuova.Pw.2']) {
      expect(written).not.toContain(secret);
    }
  });
});

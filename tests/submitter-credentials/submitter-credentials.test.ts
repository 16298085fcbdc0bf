import { createServer } from 'node:net';
import { type Harness, MANAGE, startHarness, TOKEN_KEYS } from '@sts/credentials/testing';
import { type CredentialEvent, createRedis, type Redis } from '@sts/shared';
import {
  type CredentialsClient,
  createCredentialEventsReader,
  createCredentialProfiles,
  createCredentialsClient,
  type LeaseResult,
} from '@sts/submitter/testing';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/**
 * The submitter's client of the credentials service, against the real service over HTTP (with the
 * STS simulator behind it): leases and their refusals as the submitter reads them, the profile cache
 * without secrets, a failure report that stops the credential (and the event that says so), and the
 * service away.
 */

const account = (username: string, n: number) => ({
  username,
  password: `Giusta.${n}`,
  pincode: `${n}`.repeat(10).slice(0, 10),
});
/** One STS user per story, so no story spends another's failed-login budget. */
const DOCTOR = account('BDGLSS80A01H501V', 1);
const SPENT = account('BDGMRC81B02F205K', 2);
const REPORTED = account('BDGGNN82C03L219Y', 3);
const TENANT = 'clinic-submitter';

/** A port where nothing listens (taken from the OS, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the submitter and the credentials service', () => {
  let h: Harness;
  let client: CredentialsClient;
  let redis: Redis;
  let labels = 0;

  /** Creates a credential through the credentials service's own API; `?test=true` tests it. */
  async function credential(
    user: ReturnType<typeof account>,
    { password = user.password, test = true, tenantId = TENANT } = {},
  ): Promise<{ id: string; status: string }> {
    const response = await fetch(`${h.url}/internal/v1/credentials${test ? '?test=true' : ''}`, {
      method: 'POST',
      headers: { ...h.auth({ tenantId, scopes: MANAGE }), 'content-type': 'application/json' },
      body: JSON.stringify({
        label: `${user.username}-${++labels}`,
        environment: 'test',
        kind: 'basic',
        user: user.username,
        password,
        pincode: user.pincode,
        owner: { taxCode: user.username },
        vatNumbers: ['00265910661'],
        pacing: { maxInFlight: 1, requestsPerMinute: 20 },
      }),
    });
    const body = (await response.json()) as {
      credential: { id: string; status: string };
      test?: { status: string };
    };
    expect(response.status, JSON.stringify(body)).toBe(201);
    // With `?test=true` the status after the test is the test's.
    return { id: body.credential.id, status: body.test?.status ?? body.credential.status };
  }

  beforeAll(async () => {
    h = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      listen: true,
      simulator: {
        users: [DOCTOR, SPENT, REPORTED].map((user) => ({ ...user, kind: 'professional' as const })),
      },
    });
    client = createCredentialsClient({ baseUrl: h.url!, signingKey: TOKEN_KEYS.submitter });
    redis = createRedis(redisDatabase.url, 'submitter-credentials');
  });
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  it('leases a valid credential; the profile cache keeps what routing needs and no secret', async () => {
    const { id, status } = await credential(DOCTOR);
    expect(status).toBe('valid');

    const leased = await client.lease(id, { tenantId: TENANT, purpose: 'submitter test' });
    expect(leased.ok).toBe(true);
    if (!leased.ok) return;
    expect(leased.lease).toMatchObject({
      credentialId: id,
      environment: 'test',
      kind: 'basic',
      endpointVariant: 'standard',
      login: { user: DOCTOR.username, password: DOCTOR.password },
      status: 'valid',
      pacing: { maxInFlight: 1, requestsPerMinute: 20 },
    });
    expect(leased.lease.encryptedPincode).toMatch(/^[A-Za-z0-9+/]+=*$/);

    let leases = 0;
    let now = 1_000_000;
    const profiles = createCredentialProfiles({
      client: {
        lease: (credentialId, options) => {
          leases++;
          return client.lease(credentialId, options);
        },
      },
      ttlMs: 60_000,
      clock: () => now,
    });
    const [first, concurrent] = await Promise.all([
      profiles.profileOf(id, TENANT),
      profiles.profileOf(id, TENANT),
    ]);
    expect(leases).toBe(1);
    expect(concurrent).toBe(first);
    expect(first).toEqual({
      ok: true,
      profile: {
        credentialId: id,
        environment: 'test',
        endpointVariant: 'standard',
        kind: 'basic',
        owner: { kind: 'professional', taxCode: DOCTOR.username },
        vatNumbers: ['00265910661'],
        sendingMode: leased.lease.sendingMode,
        pacing: { maxInFlight: 1, requestsPerMinute: 20 },
        status: 'valid',
      },
    });
    const kept = JSON.stringify(first);
    expect(kept).not.toContain(DOCTOR.password);
    expect(kept).not.toContain(leased.lease.encryptedPincode);
    expect(kept).not.toMatch(/login|pincode|entratel|clientCertificate/i);

    // Kept for the TTL, leased again after it, and after `forget`.
    now += 59_000;
    await profiles.profileOf(id, TENANT);
    expect(leases).toBe(1);
    now += 2_000;
    await profiles.profileOf(id, TENANT);
    expect(leases).toBe(2);
    profiles.forget(id);
    await profiles.profileOf(id, TENANT);
    expect(leases).toBe(3);
    // Another tenant never gets this tenant's profile: it asks, and the credential is not its own.
    expect(await profiles.profileOf(id, 'another-clinic')).toMatchObject({ ok: false, reason: 'not-found' });
    expect(leases).toBe(4);
  });

  it('reads an unusable credential as `unusable` and an unknown one as `not-found`', async () => {
    const { id, status } = await credential(DOCTOR, { test: false });
    expect(status).toBe('untested');
    const refused = await client.lease(id, { tenantId: TENANT, purpose: 'submitter test' });
    expect(refused).toMatchObject({ ok: false, reason: 'unusable' });
    if (!refused.ok) expect(refused.detail).toContain('untested');
    expect(
      await client.lease('00000000-0000-4000-8000-000000000000', {
        tenantId: TENANT,
        purpose: 'submitter test',
      }),
    ).toMatchObject({ ok: false, reason: 'not-found' });
  });

  it('reads a spent failed-login budget as `budget-spent`', async () => {
    const good = await credential(SPENT);
    expect(good.status).toBe('valid');
    // Three wrong passwords (the default budget), each in a credential of its own sharing the login.
    for (const password of ['Sbagliata.1', 'Sbagliata.2', 'Sbagliata.3']) {
      expect((await credential(SPENT, { password })).status).toBe('invalid');
    }
    const refused = await client.lease(good.id, { tenantId: TENANT, purpose: 'submitter test' });
    expect(refused).toMatchObject({ ok: false, reason: 'budget-spent' });
    if (!refused.ok) expect(refused.detail).not.toContain(SPENT.password);
  });

  it('reports an authentication failure: the credential turns invalid, leases stop, an event says so', async () => {
    const events: CredentialEvent[] = [];
    const reader = createCredentialEventsReader({
      redis,
      logger: { warn: () => undefined, error: () => undefined },
      consumer: 'submitter-test',
      onEvent: (event) => {
        events.push(event);
      },
    });
    await reader.ensureGroup();
    const { id, status } = await credential(REPORTED);
    expect(status).toBe('valid');
    // Another clinic holds the same login with the same password, not tested yet.
    const twin = await credential(REPORTED, { test: false, tenantId: 'clinic-twin' });
    const leased = await client.lease(id, { tenantId: TENANT, purpose: 'submitter test' });
    if (!leased.ok) throw new Error(`no lease: ${leased.detail}`);

    const reported = await client.reportFailure(id, {
      tenantId: TENANT,
      leaseId: leased.lease.leaseId,
      // As the STS client returns it (its explanation is not sent).
      failure: {
        kind: 'authentication',
        reason: 'authentication',
        faultString: 'Errore generico di autenticazione',
        explanation: { it: '…', en: '…' },
      } as Parameters<CredentialsClient['reportFailure']>[1]['failure'],
    });
    expect(reported).toEqual({ ok: true, applied: true, status: 'invalid', usable: false });
    expect(await client.lease(id, { tenantId: TENANT, purpose: 'submitter test' })).toMatchObject({
      ok: false,
      reason: 'unusable',
    });

    // The twin turned usable (as by a test) still holds a password the STS refused for the login.
    await h.pool.query(`update credentials.credentials set status = 'valid' where id = $1`, [twin.id]);
    expect(await client.lease(twin.id, { tenantId: 'clinic-twin', purpose: 'submitter test' })).toMatchObject(
      {
        ok: false,
        reason: 'password-known-to-fail',
      },
    );

    await vi.waitFor(async () => {
      await reader.pass();
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'credential.status-changed', credentialId: id, usable: false }),
      );
    });

    // A report on an unknown lease is refused, not retried.
    expect(
      await client.reportFailure(id, {
        tenantId: TENANT,
        leaseId: '00000000-0000-4000-8000-000000000000',
        failure: { kind: 'credential', code: '104', description: 'Pincode errato' },
      }),
    ).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('reads the credentials service away as `unavailable`, without secrets, and retries a report', async () => {
    const down = createCredentialsClient({
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      signingKey: TOKEN_KEYS.submitter,
      reportAttempts: 3,
      reportBackoffMs: 1,
      defaultRetryAfterMs: 2_000,
    });
    const refused: LeaseResult = await down.lease('00000000-0000-4000-8000-000000000000', {
      tenantId: TENANT,
      purpose: 'submitter test',
    });
    expect(refused).toEqual({
      ok: false,
      reason: 'unavailable',
      retryAfterMs: 2_000,
      detail: 'credentials service unreachable (ECONNREFUSED)',
    });
    const report = await down.reportFailure('00000000-0000-4000-8000-000000000000', {
      tenantId: TENANT,
      leaseId: '00000000-0000-4000-8000-000000000000',
      failure: { kind: 'authentication', reason: 'authentication', faultString: 'x' },
    });
    expect(report).toMatchObject({ ok: false, reason: 'unavailable', retryAfterMs: 2_000 });
    if (!report.ok) expect(report.detail).toContain('after 3 attempts');
  });
});

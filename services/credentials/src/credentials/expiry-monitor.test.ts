import { createLogger } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, createPkcs12 } from '../../test-support/certificates.ts';
import { type Harness, LEASE, MANAGE, startHarness, testClock } from '../../test-support/harness.ts';
import { createCredentialEvents, readCredentialEvents } from '../events/credential-events.ts';
import { createExpiryMonitor } from './expiry-monitor.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();
const DAY = 86_400_000;

describe('expiry monitoring', () => {
  const clock = testClock('2026-05-01T08:00:00Z');
  let h: Harness;
  let monitor: ReturnType<typeof createExpiryMonitor>;
  beforeAll(async () => {
    h = await startHarness({ databaseUrl: database.url, redisUrl: redisDatabase.url, clock });
    const logger = createLogger({ name: 'monitor-test', level: 'silent' });
    monitor = createExpiryMonitor({
      db: h.db,
      logger,
      clock,
      events: createCredentialEvents({ redis: h.redis, logger }),
      metrics: h.metrics,
      warningDays: [14, 7, 3],
    });
  });
  afterAll(() => h.close());

  const manage = () => h.auth({ tenantId: 'clinic', scopes: MANAGE });

  it('warns once per threshold before the expected password expiry, and marks it password_expiring', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: {
        label: 'expiring',
        environment: 'production',
        kind: 'basic',
        user: 'RSSMRA85T10A562S',
        password: 'Expiring.1',
        pincode: '9191919191',
        owner: { taxCode: 'RSSMRA85T10A562S' },
        vatNumbers: ['12345678903'],
        passwordChangedAt: '2026-02-10',
        passwordValidityDays: 90,
      },
    });
    const credential = created.json().credential;
    expect(credential.password).toEqual({
      changedAt: '2026-02-10T00:00:00.000Z',
      validityDays: 90,
      expectedExpiry: '2026-05-11T00:00:00.000Z',
    });
    await h.pool.query(`update credentials.credentials set status = 'valid' where id = $1`, [credential.id]);

    expect(await monitor.runOnce()).toEqual({ passwordWarnings: 1, certificateWarnings: 0 });
    expect(await monitor.runOnce()).toEqual({ passwordWarnings: 0, certificateWarnings: 0 });
    const events = (await readCredentialEvents(h.redis)).filter((e) => e.credentialId === credential.id);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'credential.password-expiring',
          daysLeft: '10',
          expiresAt: '2026-05-11T00:00:00.000Z',
        }),
        expect.objectContaining({
          type: 'credential.status-changed',
          status: 'password_expiring',
          usable: 'true',
        }),
      ]),
    );
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    // prom-client adds the registry's service label after the metric's own.
    expect(metrics.body).toContain(
      'credentials_expiry_warnings_total{days="14",what="password",service="credentials"} 1',
    );
    expect(metrics.body).toContain('credentials_password_min_days_left{service="credentials"} 9');

    // Still usable while expiring: senders keep going.
    const lease = await h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${credential.id}/leases`,
      headers: h.auth({ tenantId: 'clinic', scopes: LEASE, issuer: 'submitter' }),
      payload: { purpose: 'monitor test' },
    });
    expect(lease.statusCode).toBe(201);

    clock.advance(4 * DAY);
    expect((await monitor.runOnce()).passwordWarnings).toBe(1);
    clock.advance(7 * DAY);
    expect((await monitor.runOnce()).passwordWarnings).toBe(1);
    const warnings = await h.pool.query(
      `select details->>'threshold' as threshold from credentials.audit_log where credential_id = $1 and action = 'credential.password-expiring' order by id`,
      [credential.id],
    );
    expect(warnings.rows.map((row) => row.threshold)).toEqual(['14', '7', '0']);

    // A new password starts the count again and clears the warnings.
    const changed = await h.app.inject({
      method: 'PATCH',
      url: `/internal/v1/credentials/${credential.id}`,
      headers: manage(),
      payload: { password: 'Renewed.2' },
    });
    expect(changed.json().credential.password.expectedExpiry).toBe(
      new Date(clock().getTime() + 90 * DAY).toISOString(),
    );
    expect((await monitor.runOnce()).passwordWarnings).toBe(0);
  });

  it('reads client certificates from PKCS#12, shows subject and expiry, warns, and stops the credential when it expires', async () => {
    const ca = createCa('Sogei Test');
    const pkcs12 = createPkcs12({
      ca,
      commonName: 'Regione Test - invio 730',
      passphrase: 'p12-pass',
      notAfter: new Date(clock().getTime() + 5 * DAY),
    });
    const body = {
      label: 'region',
      environment: 'production',
      kind: 'client-certificate',
      pincode: '5151515151',
      owner: { regionCode: '130', aslCode: '000', ssaCode: '00000' },
      vatNumbers: ['12345678903'],
      clientCertificate: { pkcs12: pkcs12.toString('base64'), passphrase: 'p12-pass' },
    };
    const wrongPassphrase = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: { ...body, clientCertificate: { pkcs12: pkcs12.toString('base64'), passphrase: 'nope' } },
    });
    expect(wrongPassphrase.statusCode).toBe(400);
    expect(wrongPassphrase.json().errors[0]).toMatchObject({ field: 'clientCertificate.passphrase' });
    const garbage = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: {
        ...body,
        clientCertificate: { pkcs12: Buffer.from('not a bundle').toString('base64'), passphrase: 'x' },
      },
    });
    expect(garbage.json().errors[0]).toMatchObject({ field: 'clientCertificate.pkcs12', rule: 'pkcs12' });

    const created = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: body,
    });
    expect(created.statusCode).toBe(201);
    const credential = created.json().credential;
    expect(credential.clientCertificate).toMatchObject({
      subject: expect.stringContaining('CN=Regione Test - invio 730'),
      issuer: expect.stringContaining('Sogei Test'),
      notAfter: expect.any(String),
    });
    expect(created.body).not.toContain('p12-pass');
    await h.pool.query(`update credentials.credentials set status = 'valid' where id = $1`, [credential.id]);

    // The lease carries the key material for the TLS agent, as PEM.
    const lease = await h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${credential.id}/leases`,
      headers: h.auth({ tenantId: 'clinic', scopes: LEASE, issuer: 'submitter' }),
      payload: { purpose: 'enti upload' },
    });
    expect(lease.json()).toMatchObject({
      endpointVariant: 'enti',
      login: null,
      clientCertificate: {
        certificatePem: expect.stringContaining('BEGIN CERTIFICATE'),
        privateKeyPem: expect.stringContaining('PRIVATE KEY'),
        chainPem: [expect.stringContaining('BEGIN CERTIFICATE')],
      },
    });

    expect((await monitor.runOnce()).certificateWarnings).toBe(1);
    clock.advance(6 * DAY);
    expect((await monitor.runOnce()).certificateWarnings).toBe(1);
    const after = await h.app.inject({
      method: 'GET',
      url: `/internal/v1/credentials/${credential.id}`,
      headers: manage(),
    });
    expect(after.json().credential).toMatchObject({
      status: 'invalid',
      statusReason: 'certificate-expired',
      usable: false,
    });
  });
});

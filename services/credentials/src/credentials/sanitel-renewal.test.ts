import { Writable } from 'node:stream';
import { createLogger } from '@sts/shared';
import {
  createSanitelCertificateSet,
  createSanitelEncryptor,
  createStsClient,
  parseSanitelCertificate,
  type SanitelCertificateSet,
} from '@sts/sts';
import { decryptsWith, sanitelRenewalStandIns } from '@sts/sts/testing';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, LEASE, MANAGE, startHarness, testClock } from '../../test-support/harness.ts';
import { createCredentialMetrics } from '../health/credential-metrics.ts';
import { createSanitelCertificateMonitor } from './sanitel-certificate-monitor.ts';

/** A SanitelCF renewal seen from the credentials service: the old stand-in expires 2027-01-23 15:27:17 UTC. */
const { old: OLD, next: NEW } = sanitelRenewalStandIns();
const serialOf = (pair: { certificatePem: string }) =>
  parseSanitelCertificate(pair.certificatePem).serialNumber;

function setOf(pairs: { certificatePem: string }[], clock: () => Date): SanitelCertificateSet {
  return createSanitelCertificateSet(
    pairs.map((pair) => parseSanitelCertificate(pair.certificatePem, { clock })),
    { clock },
  );
}

function capturedLogger() {
  const lines: { level: string; msg: string; sanitelCertificate?: Record<string, unknown> }[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'sanitel-test', level: 'debug', destination }) };
}
const WARN = 'warn';

describe('the SanitelCF certificate monitor', () => {
  it('warns once per threshold before expiry, naming the date and what to do, then daily once expired', async () => {
    const clock = testClock('2026-12-01T00:00:00Z');
    const { lines, logger } = capturedLogger();
    const metrics = createCredentialMetrics();
    const sets = { production: setOf([OLD], clock) };
    metrics.watchSanitelCertificates(sets, clock);
    const monitor = createSanitelCertificateMonitor({
      logger,
      clock,
      metrics,
      config: { sets, warningDays: [30, 7], configuration: { production: 'SANITEL_CERTIFICATE_FILES' } },
    });

    expect(monitor.runOnce()).toBe(0);
    expect(lines.at(-1)).toMatchObject({
      msg: expect.stringContaining(`encrypting with serial ${serialOf(OLD)}`),
      sanitelCertificate: { environment: 'production', basis: 'valid', daysLeft: 53 },
    });

    clock.set('2026-12-24T15:27:17Z');
    expect(monitor.runOnce()).toBe(1);
    const warning = lines.at(-1)!;
    expect(warning.level).toBe(WARN);
    expect(warning.msg).toContain('expires on 2027-01-23 15:27:17 UTC, in 30 days');
    expect(warning.msg).toContain('Download the new SanitelCF.cer');
    expect(warning.msg).toContain('sistemats.it');
    expect(warning.msg).toContain('add it to SANITEL_CERTIFICATE_FILES beside the current one and restart');
    expect(warning.msg).toContain('Do not stop sending');
    clock.set('2026-12-25T00:00:00Z');
    expect(monitor.runOnce()).toBe(0);
    clock.set('2027-01-17T00:00:00Z');
    expect(monitor.runOnce()).toBe(1);
    expect(lines.at(-1)!.msg).toContain('in 6 days');

    // Expired and nothing newer: still encrypting with it, said so once a day.
    clock.set('2027-02-01T10:00:00Z');
    expect(monitor.runOnce()).toBe(1);
    expect(lines.at(-1)!.msg).toContain('expired on 2027-01-23 15:27:17 UTC');
    expect(lines.at(-1)!.msg).toContain('still encrypting with it');
    clock.set('2027-02-01T11:00:00Z');
    expect(monitor.runOnce()).toBe(0);
    clock.set('2027-02-02T11:00:00Z');
    expect(monitor.runOnce()).toBe(1);

    const exposition = await metrics.registry.metrics();
    expect(exposition).toContain(
      'credentials_expiry_warnings_total{days="30",what="sanitel-certificate",service="credentials"} 1',
    );
    expect(exposition).toContain(
      'credentials_expiry_warnings_total{days="0",what="sanitel-certificate",service="credentials"} 2',
    );
    expect(exposition).toContain(
      `credentials_sanitel_certificate_days_left{basis="expired",environment="production",serial="${serialOf(OLD)}",service="credentials"} -10`,
    );
  });

  it('with the successor configured ahead: no warning, and the switch is logged when it happens', async () => {
    const clock = testClock('2026-12-24T00:00:00Z');
    const { lines, logger } = capturedLogger();
    const metrics = createCredentialMetrics();
    const sets = { production: setOf([OLD, NEW], clock), test: setOf([OLD, NEW], clock) };
    metrics.watchSanitelCertificates(sets, clock);
    const monitor = createSanitelCertificateMonitor({ logger, clock, metrics, config: { sets } });

    expect(monitor.runOnce()).toBe(0);
    expect(lines.filter((line) => line.level === WARN)).toEqual([]);
    expect(lines.at(-1)).toMatchObject({
      sanitelCertificate: {
        serialNumber: serialOf(OLD),
        successor: { serialNumber: serialOf(NEW), sameKey: false },
      },
    });
    expect(await metrics.registry.metrics()).toContain(
      `credentials_sanitel_certificate_days_left{basis="valid",environment="test",serial="${serialOf(OLD)}",service="credentials"} 30`,
    );

    clock.set('2027-01-02T10:00:00Z');
    const logged = lines.length;
    expect(monitor.runOnce()).toBe(0);
    expect(lines.slice(logged).map((line) => line.msg)).toEqual([
      expect.stringContaining(`SanitelCF (production): encrypting with serial ${serialOf(NEW)}`),
      expect.stringContaining(`SanitelCF (test): encrypting with serial ${serialOf(NEW)}`),
    ]);
    expect(monitor.runOnce()).toBe(0);
    expect(lines).toHaveLength(logged + 2);
    expect(await metrics.registry.metrics()).toContain(
      `credentials_sanitel_certificate_days_left{basis="valid",environment="production",serial="${serialOf(NEW)}",service="credentials"} 1095`,
    );
  });
});

const database = useTestDatabase();
const redisDatabase = useTestRedis();
const DOCTOR = { username: 'CSTFNC80A01H501K', password: 'Renewal.Test.1', pincode: '4812162342' };

describe('leases across the renewal, against a simulator holding both keys', () => {
  const clock = testClock('2026-12-20T10:00:00Z');
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      clock,
      simulator: { keyPair: OLD, moreKeyPairs: [NEW], users: [{ ...DOCTOR, kind: 'professional' }] },
    });
  });
  afterAll(() => h.close());

  it('encrypts each lease with the newest valid certificate by the injected clock, and every lease works', async () => {
    const set = setOf([OLD, NEW], clock);
    const encryptor = createSanitelEncryptor(set);
    const app = h.buildApp({
      sanitel: { test: encryptor, production: encryptor },
      sanitelCertificates: { sets: { test: set, production: set } },
    });
    const created = await app.inject({
      method: 'POST',
      url: '/internal/v1/credentials?test=true',
      headers: h.auth({ tenantId: 'clinic', scopes: MANAGE }),
      payload: {
        label: 'renewal',
        environment: 'test',
        kind: 'basic',
        user: DOCTOR.username,
        password: DOCTOR.password,
        pincode: DOCTOR.pincode,
        owner: { taxCode: DOCTOR.username },
        vatNumbers: ['01234567897'],
      },
    });
    expect(created.json().test?.outcome, created.body).toBe('valid');
    const id = created.json().credential.id;
    const lease = async () => {
      const response = await app.inject({
        method: 'POST',
        url: `/internal/v1/credentials/${id}/leases`,
        headers: h.auth({ tenantId: 'clinic', scopes: LEASE, issuer: 'submitter' }),
        payload: { purpose: 'renewal test' },
      });
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as { encryptedPincode: string; login: { user: string; password: string } };
    };
    const decrypts = (pair: { privateKeyPem: string }, ciphertext: string) =>
      decryptsWith(pair)(ciphertext) === DOCTOR.pincode;
    const works = async (leased: Awaited<ReturnType<typeof lease>>) => {
      const sts = createStsClient({ baseUrl: h.simulator!.url, auth: leased.login });
      const answer = await sts.getOutcomes({
        encryptedPincode: leased.encryptedPincode,
        from: '2026-01-01',
        to: '2026-01-02',
      });
      sts.close();
      return answer.ok && answer.value.notices.map((notice) => notice.code);
    };

    const before = await lease();
    expect([decrypts(OLD, before.encryptedPincode), decrypts(NEW, before.encryptedPincode)]).toEqual([
      true,
      false,
    ]);
    clock.set('2027-01-10T00:00:00Z');
    const during = await lease();
    expect(decrypts(NEW, during.encryptedPincode)).toBe(true);
    clock.set('2027-02-01T00:00:00Z');
    const after = await lease();
    expect(decrypts(NEW, after.encryptedPincode)).toBe(true);

    // The one leased before the switch, used after it, still works: the simulator holds both keys.
    for (const leased of [before, during, after]) expect(await works(leased)).toEqual(['WS96']);
    await app.close();
  });
});

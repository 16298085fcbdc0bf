import { credentialLeaseSchema } from '@sts/shared';
import { createStsClient } from '@sts/sts';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  KIT_ENTRATEL_CREDENTIAL,
  LEASE,
  MANAGE,
  REPORT,
  startHarness,
} from '../../test-support/harness.ts';
import { DEFAULT_POLICY } from '../app.ts';
import { createCredentialService } from '../credentials/credential-service.ts';
import { createCredentialEvents, readCredentialEvents } from '../events/credential-events.ts';
import { createEnvelopeEncryption } from '../vault/envelope-encryption.ts';
import { createSecretVault } from '../vault/secret-vault.ts';
import { createLeaseService } from './lease-service.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

const DOCTOR = { username: 'CSTFNC80A01H501K', password: 'Lease.Test.1', pincode: '4812162342' };

describe('leases and failure reports', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      simulator: { users: [{ ...DOCTOR, kind: 'professional' }] },
    });
  });
  afterAll(() => h.close());
  // A reported failed login counts against the login's budget and marks its password as failed
  // (src/logins/login-budget.ts). These reports pretend that the doctor's right password failed, so
  // each story starts from a clean login, as after an administrator's reset that forgets them.
  const forgetLogin = () => h.pool.query('delete from credentials.login_budgets');
  afterEach(forgetLogin);

  const manage = () => h.auth({ tenantId: 'clinic', scopes: MANAGE });
  const submitter = (scopes = [...LEASE, ...REPORT]) =>
    h.auth({ tenantId: 'clinic', scopes, issuer: 'submitter', subject: 'worker-1' });

  async function testedCredential(label: string, body: Record<string, unknown> = {}): Promise<string> {
    const created = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials?test=true',
      headers: manage(),
      payload: {
        label,
        environment: 'test',
        kind: 'basic',
        user: DOCTOR.username,
        password: DOCTOR.password,
        pincode: DOCTOR.pincode,
        owner: { taxCode: DOCTOR.username },
        vatNumbers: ['00265910661'],
        ...body,
      },
    });
    expect(created.json().test?.outcome, created.body).toBe('valid');
    return created.json().credential.id;
  }
  const lease = (id: string, purpose = 'upload batch 7') =>
    h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/leases`,
      headers: submitter(),
      payload: { purpose },
    });
  const report = (id: string, payload: unknown) =>
    h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/authentication-failures`,
      headers: submitter(),
      payload: payload as object,
    });

  it('hands the submitter the login and the pincode already encrypted for the STS, never the plain pincode', async () => {
    const id = await testedCredential('leased');
    const response = await lease(id);
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    // What the submitter will parse the answer with (packages/shared contracts).
    expect(credentialLeaseSchema.safeParse(body).error).toBeUndefined();
    expect(body).toMatchObject({
      credentialId: id,
      secretsVersion: 1,
      environment: 'test',
      kind: 'basic',
      endpointVariant: 'standard',
      login: { user: DOCTOR.username, password: DOCTOR.password },
      owner: { kind: 'professional', taxCode: DOCTOR.username },
      vatNumbers: ['00265910661'],
      status: 'valid',
    });
    expect(response.body).not.toContain(DOCTOR.pincode);
    expect(body.encryptedPincode).toHaveLength(172);
    expect(h.sanitelDecryptor.decrypt(body.encryptedPincode)).toBe(DOCTOR.pincode);

    // The lease works against the STS as it is.
    const sts = createStsClient({ baseUrl: h.simulator!.url, auth: body.login });
    const answer = await sts.getOutcomes({
      encryptedPincode: body.encryptedPincode,
      from: '2026-01-01',
      to: '2026-01-02',
    });
    sts.close();
    expect(answer.ok && answer.value.notices.map((n) => n.code)).toEqual(['WS96']);

    const audit = await h.pool.query(
      `select action, actor_kind, actor, reason, details from credentials.audit_log where credential_id = $1 and action = 'credential.leased'`,
      [id],
    );
    expect(audit.rows).toEqual([
      {
        action: 'credential.leased',
        actor_kind: 'service',
        actor: 'submitter:worker-1',
        reason: 'upload batch 7',
        details: { leaseId: body.leaseId, secretsVersion: 1 },
      },
    ]);
  });

  it('refuses a lease for a credential that is not usable, and says so in the audit log', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: {
        label: 'untested',
        environment: 'test',
        kind: 'basic',
        user: DOCTOR.username,
        password: DOCTOR.password,
        pincode: DOCTOR.pincode,
        owner: { taxCode: DOCTOR.username },
        vatNumbers: ['00265910661'],
      },
    });
    const id = created.json().credential.id;
    const response = await lease(id);
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      type: expect.stringContaining('credential-unusable'),
      detail: expect.stringContaining('untested'),
    });
    const refused = await h.pool.query(
      `select 1 from credentials.audit_log where credential_id = $1 and action = 'credential.lease-refused'`,
      [id],
    );
    expect(refused.rowCount).toBe(1);
    const missing = await h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/leases`,
      headers: submitter(),
      payload: {},
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors[0].field).toBe('purpose');
  });

  it('a reported authentication failure stops the credential at once: status, event, no more leases', async () => {
    const id = await testedCredential('reported');
    const leaseId = (await lease(id)).json().leaseId;
    const response = await report(id, {
      leaseId,
      failure: { kind: 'authentication', reason: 'password-expired', faultString: 'Password scaduta' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      applied: true,
      outcome: 'wrong-or-expired-password',
      status: 'expired',
      usable: false,
      remedy: { it: expect.stringContaining('scaduta') },
    });
    const events = await readCredentialEvents(h.redis);
    expect(events.at(-1)).toMatchObject({
      type: 'credential.status-changed',
      credentialId: id,
      status: 'expired',
      usable: 'false',
    });
    expect((await lease(id)).statusCode).toBe(409);
    const test = await h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/test`,
      headers: manage(),
    });
    expect(test.statusCode).toBe(409);
  });

  it('takes any login-failure reason: a bare HTTP 401 or one it does not know is a wrong password', async () => {
    for (const reason of ['http-401', 'http-403', 'some-future-fault']) {
      await forgetLogin();
      const id = await testedCredential(`auth-${reason}`);
      const leaseId = (await lease(id)).json().leaseId;
      const response = await report(id, {
        leaseId,
        failure: { kind: 'authentication', reason, faultString: `HTTP ${reason}` },
      });
      expect(response.statusCode, reason).toBe(200);
      expect(response.json(), reason).toMatchObject({
        applied: true,
        outcome: 'wrong-or-expired-password',
        status: 'invalid',
        usable: false,
      });
    }
    await forgetLogin();
    const id = await testedCredential('auth-locked');
    const leaseId = (await lease(id)).json().leaseId;
    const locked = await report(id, {
      leaseId,
      failure: { kind: 'authentication', reason: 'account-locked', faultString: 'utenza bloccata' },
    });
    expect(locked.json()).toMatchObject({ applied: true, outcome: 'account-locked', status: 'invalid' });
  });

  it('maps reported STS codes: 104 is a wrong pincode', async () => {
    const id = await testedCredential('pincode-report');
    const leaseId = (await lease(id)).json().leaseId;
    const response = await report(id, {
      leaseId,
      failure: { kind: 'credential', code: '104', description: 'PINCODE ERRATO' },
    });
    expect(response.json()).toMatchObject({ applied: true, outcome: 'wrong-pincode', status: 'invalid' });
    const credential = await h.app.inject({
      method: 'GET',
      url: `/internal/v1/credentials/${id}`,
      headers: manage(),
    });
    expect(credential.json().credential).toMatchObject({ status: 'invalid', statusReason: 'wrong-pincode' });
  });

  /** Waits until `work` has finished or another session of this database waits for a row lock. */
  async function finishedOrBlocked(work: Promise<unknown>) {
    let finished = false;
    void work.then(() => (finished = true));
    for (let i = 0; i < 1000 && !finished; i++) {
      const waiting = await h.pool.query(
        `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
      );
      if (waiting.rowCount) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (!finished) throw new Error('the concurrent change neither finished nor waited for a lock');
  }

  it('hands out exactly the secrets of the version it names, though a password change comes in between', async () => {
    const id = await testedCredential('interleaved-change');
    const newPassword = 'Lease.Test.2';
    const { logger, stsClientFactory, sanitel } = h.deps;
    const credentials = createCredentialService({
      db: h.db,
      redis: h.redis,
      logger,
      clock: h.clock,
      vault: createSecretVault(createEnvelopeEncryption(h.keyring)),
      keyring: h.keyring,
      events: createCredentialEvents({ redis: h.redis, logger }),
      metrics: h.metrics,
      stsClientFactory,
      sanitel,
      policy: DEFAULT_POLICY,
    });
    let change: Promise<{ statusCode: number }> | undefined;
    const leases = createLeaseService({
      db: h.db,
      clock: h.clock,
      metrics: h.metrics,
      sanitel,
      leaseTtlMs: 60_000,
      credentials: {
        ...credentials,
        // The clinic saves a new password just as the lease reads the secrets.
        async readSecretsIn(...args) {
          change = h.app.inject({
            method: 'PATCH',
            url: `/internal/v1/credentials/${id}`,
            headers: manage(),
            payload: { password: newPassword },
          });
          await finishedOrBlocked(change);
          return credentials.readSecretsIn(...args);
        },
      },
    });
    const leased = await leases.lease(
      { scope: { kind: 'tenant', tenantId: 'clinic' }, actor: { kind: 'service', id: 'submitter:race' } },
      id,
      { purpose: 'interleaved change' },
    );
    expect((await change!).statusCode).toBe(200);
    // Version 1 with version 1's password: a failure reported on it is judged against the right secrets.
    expect({ version: leased.secretsVersion, password: leased.login?.password }).toEqual({
      version: 1,
      password: DOCTOR.password,
    });
    const version = await h.pool.query('select secrets_version from credentials.credentials where id = $1', [
      id,
    ]);
    expect(version.rows[0].secrets_version).toBe(2);
  });

  it('ignores a failure reported on a lease of secrets that have since changed', async () => {
    const id = await testedCredential('stale');
    const oldLease = (await lease(id)).json().leaseId;
    await h.app.inject({
      method: 'PATCH',
      url: `/internal/v1/credentials/${id}?test=true`,
      headers: manage(),
      payload: { password: DOCTOR.password },
    });
    const response = await report(id, {
      leaseId: oldLease,
      failure: {
        kind: 'authentication',
        reason: 'authentication',
        faultString: 'Errore generico di autenticazione',
      },
    });
    expect(response.json()).toMatchObject({ applied: false, status: 'valid', usable: true });
    const fresh = await lease(id);
    expect(fresh.json().secretsVersion).toBe(2);
  });

  it('refuses reports without a known lease or about transient failures', async () => {
    const id = await testedCredential('bad-reports');
    const unknown = await report(id, { leaseId: id, failure: { kind: 'credential', code: '104' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0]).toMatchObject({ field: 'leaseId', rule: 'unknown-lease' });
    const leaseId = (await lease(id)).json().leaseId;
    const transient = await report(id, { leaseId, failure: { kind: 'transient', reason: 'network' } });
    expect(transient.statusCode).toBe(400);
    expect(transient.json().errors[0].field).toBe('failure');
    const leaseOnly = await h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/authentication-failures`,
      headers: submitter(LEASE),
      payload: { leaseId, failure: { kind: 'credential', code: '104' } },
    });
    expect(leaseOnly.statusCode).toBe(403);
  });

  it('leases an Entratel credential with its PIN in clear (as the STS wants it) and the codice fiscale-sede', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: KIT_ENTRATEL_CREDENTIAL,
    });
    const id = created.json().credential.id;
    await h.pool.query(`update credentials.credentials set status = 'valid' where id = $1`, [id]);
    const body = (await lease(id)).json();
    expect(credentialLeaseSchema.safeParse(body).error).toBeUndefined();
    expect(body).toMatchObject({
      kind: 'entratel',
      endpointVariant: 'entrate',
      login: { user: 'MSSSMN78C13C773M', password: 'sotcat00' },
      entratel: { pin: '4B64AA1D', siteCode: '07874631000-000' },
    });
    expect(body.encryptedPincode).toBeUndefined();
  });
});

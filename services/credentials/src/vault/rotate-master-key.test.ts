import { createLogger } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, LEASE, MANAGE, newMasterKey, startHarness } from '../../test-support/harness.ts';
import { createCredentialMetrics } from '../health/credential-metrics.ts';
import { createEnvelopeEncryption } from './envelope-encryption.ts';
import { createKeyring } from './keyring.ts';
import { rotateMasterKey } from './rotate-master-key.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

const v1 = newMasterKey();
const v2 = newMasterKey();
const silent = createLogger({ name: 'rotation-test', level: 'silent' });
const CREDENTIALS = 40;

const secretsOf = (i: number) => ({ password: `Rotate.Pw.${i}`, pincode: String(7_000_000_000 + i) });

describe('master key rotation and ciphertext integrity', () => {
  let h: Harness;
  const ids: string[] = [];
  beforeAll(async () => {
    h = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      keyring: createKeyring(new Map([['v1', v1]]), 'v1'),
    });
    for (let i = 0; i < CREDENTIALS; i++) {
      const response = await h.app.inject({
        method: 'POST',
        url: '/internal/v1/credentials',
        headers: h.auth({ tenantId: 'clinic', scopes: MANAGE }),
        payload: {
          label: `doctor ${i}`,
          environment: 'test',
          kind: 'basic',
          user: 'PROVAX00X00X000Y',
          ...secretsOf(i),
          owner: { taxCode: 'PROVAX00X00X000Y' },
          vatNumbers: ['00265910661'],
        },
      });
      ids.push(response.json().credential.id);
    }
    // Usable without calling the STS: this suite is about the vault.
    await h.pool.query(`update credentials.credentials set status = 'valid'`);
  });
  afterAll(() => h.close());

  const leaseWith = (app: Harness['app'], id: string) =>
    app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/leases`,
      headers: h.auth({ tenantId: 'clinic', scopes: LEASE, issuer: 'submitter' }),
      payload: { purpose: 'rotation test' },
    });

  it('re-wraps every data key while leases are served, without a single failure', async () => {
    const both = createKeyring(
      new Map([
        ['v1', v1],
        ['v2', v2],
      ]),
      'v2',
    );
    // Every replica gets the new keyring (both keys, v2 active) before the rotation starts.
    const app = h.buildApp({ keyring: both });

    let stop = false;
    let rotating = true;
    const failures: string[] = [];
    let servedDuringRotation = 0;
    // Each batch of the rotation starts only after one more lease was served: leases and batches
    // interleave on any machine, however fast either side is.
    let leaseServed: () => void = () => {};
    let nextLease = new Promise<void>((resolve) => {
      leaseServed = resolve;
    });
    const interleaved = new Proxy(h.db, {
      get(target, property, receiver) {
        if (property !== 'transaction') return Reflect.get(target, property, receiver);
        return async (...args: Parameters<typeof target.transaction>) => {
          await nextLease;
          return target.transaction(...args);
        };
      },
    });
    const leaseLoop = async (worker: number) => {
      for (let n = 0; !stop; n++) {
        const i = (worker * 7 + n) % CREDENTIALS;
        const response = await leaseWith(app, ids[i]!);
        if (response.statusCode !== 201) failures.push(`${response.statusCode} ${response.body}`);
        else if (response.json().login.password !== secretsOf(i).password)
          failures.push(`wrong password for ${i}`);
        else if (rotating) {
          servedDuringRotation++;
          leaseServed();
          nextLease = new Promise<void>((resolve) => {
            leaseServed = resolve;
          });
        }
      }
    };
    const loops = [0, 1, 2, 3].map(leaseLoop);
    const report = await rotateMasterKey({
      db: interleaved,
      keyring: both,
      envelope: createEnvelopeEncryption(both),
      logger: silent,
      batchSize: 3,
    });
    rotating = false;
    // Keep leasing a moment after the last batch too.
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop = true;
    await Promise.all(loops);

    expect(failures).toEqual([]);
    // At least one lease was served before each of the 14 batches.
    expect(servedDuringRotation).toBeGreaterThanOrEqual(Math.ceil(CREDENTIALS / 3));
    expect(report).toMatchObject({
      activeVersion: 'v2',
      rewrapped: CREDENTIALS,
      remaining: { v2: CREDENTIALS },
    });

    // v1 can now leave the configuration: a replica with v2 alone decrypts every credential.
    const v2Only = h.buildApp({ keyring: createKeyring(new Map([['v2', v2]]), 'v2') });
    for (const [i, id] of ids.entries()) {
      const body = (await leaseWith(v2Only, id)).json();
      expect(body.login.password).toBe(secretsOf(i).password);
      expect(h.sanitelDecryptor.decrypt(body.encryptedPincode)).toBe(secretsOf(i).pincode);
    }
    const audit = await h.pool.query(
      `select details from credentials.audit_log where action = 'vault.master-key-rotated'`,
    );
    expect(audit.rows[0].details).toMatchObject({ activeVersion: 'v2', rewrapped: CREDENTIALS });

    // A second run finds nothing to do.
    const again = await rotateMasterKey({
      db: h.db,
      keyring: both,
      envelope: createEnvelopeEncryption(both),
      logger: silent,
    });
    expect(again.rewrapped).toBe(0);
  });

  describe('a ciphertext moved to another place does not decrypt', () => {
    const v2Only = () => h.buildApp({ keyring: createKeyring(new Map([['v2', v2]]), 'v2') });

    it("another credential's password copied onto this one", async () => {
      const [source, target] = [ids[10]!, ids[11]!];
      await h.pool.query(
        `update credentials.credential_secrets t set ciphertext = s.ciphertext
           from credentials.credential_secrets s
          where s.credential_id = $1 and s.field = 'password' and t.credential_id = $2 and t.field = 'password'`,
        [source, target],
      );
      const response = await leaseWith(v2Only(), target);
      expect(response.statusCode).toBe(500);
      expect(response.json()).toMatchObject({ type: expect.stringContaining('secret-integrity') });
      expect(response.body).not.toContain(secretsOf(10).password);
      const audit = await h.pool.query(
        `select 1 from credentials.audit_log where credential_id = $1 and action = 'credential.secret-integrity-failure'`,
        [target],
      );
      expect(audit.rowCount).toBe(1);
      // The source still decrypts.
      expect((await leaseWith(v2Only(), source)).statusCode).toBe(201);
    });

    it("another credential's data key and secrets copied wholesale", async () => {
      const [source, target] = [ids[12]!, ids[13]!];
      await h.pool.query(
        `update credentials.data_keys t set wrapped_key = s.wrapped_key, master_key_version = s.master_key_version
           from credentials.data_keys s where s.credential_id = $1 and t.credential_id = $2`,
        [source, target],
      );
      await h.pool.query(
        `update credentials.credential_secrets t set ciphertext = s.ciphertext
           from credentials.credential_secrets s
          where s.credential_id = $1 and t.credential_id = $2 and s.field = t.field`,
        [source, target],
      );
      expect((await leaseWith(v2Only(), target)).statusCode).toBe(500);
    });

    it("one field's ciphertext put in another field of the same credential", async () => {
      const id = ids[14]!;
      await h.pool.query(
        `update credentials.credential_secrets t set ciphertext = s.ciphertext
           from credentials.credential_secrets s
          where s.credential_id = $1 and t.credential_id = $1 and s.field = 'password' and t.field = 'pincode'`,
        [id],
      );
      expect((await leaseWith(v2Only(), id)).statusCode).toBe(500);
    });
  });

  it('a replica without the master key of a data key answers 503 problem+json, audited and counted', async () => {
    // An old replica of a rolling deploy: it knows v1 only, while the data key is wrapped with v2.
    const metrics = createCredentialMetrics();
    const v1Only = h.buildApp({ keyring: createKeyring(new Map([['v1', v1]]), 'v1'), metrics });
    const [leased, changed] = [ids[20]!, ids[21]!];
    const lease = await leaseWith(v1Only, leased);
    expect(lease.statusCode).toBe(503);
    expect(lease.headers['content-type']).toContain('application/problem+json');
    expect(lease.json()).toMatchObject({ type: expect.stringContaining('master-key-unavailable') });
    expect(lease.body).not.toContain(secretsOf(20).password);
    const patch = await v1Only.inject({
      method: 'PATCH',
      url: `/internal/v1/credentials/${changed}`,
      headers: h.auth({ tenantId: 'clinic', scopes: MANAGE }),
      payload: { password: 'Rotate.New.21' },
    });
    expect(patch.statusCode).toBe(503);
    expect(patch.body).not.toContain('Rotate.New.21');
    const audit = await h.pool.query(
      `select credential_id, details from credentials.audit_log where action = 'credential.master-key-missing' order by id`,
    );
    expect(audit.rows.map((row) => row.credential_id)).toEqual([leased, changed]);
    expect(audit.rows[0].details.problem).toMatch(/master key v2 is not configured/);
    const counted = await v1Only.inject({ method: 'GET', url: '/metrics' });
    expect(counted.body).toContain('credentials_master_key_missing_total{service="credentials"} 2');
    // Nothing was changed by the refused update: the new replica still reads the old password.
    const both = h.buildApp({
      keyring: createKeyring(
        new Map([
          ['v1', v1],
          ['v2', v2],
        ]),
        'v1',
      ),
    });
    expect((await leaseWith(both, changed)).json().login.password).toBe(secretsOf(21).password);
  });
});

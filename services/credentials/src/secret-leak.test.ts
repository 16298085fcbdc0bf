import { useTestDatabase, useTestRedis } from '@sts/testkit';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  KIT_ENTRATEL_CREDENTIAL,
  LEASE,
  MANAGE,
  REPORT,
  simulatorAdmin,
  startHarness,
} from '../test-support/harness.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/** Distinctive values: if any of them shows up outside the ciphertext columns, a secret leaked. */
const USER = 'CNRLEA77M11F205I';
const FIRST = { password: 'Qz7.Canary.Pw.Alpha', pincode: '8675309421' };
const SECOND = { password: 'Wx4.Canary.Pw.Bravo', pincode: '7326159480' };
const ENTRATEL_PIN = 'ZK7Q3XW9';
const CERT_PASSPHRASE = 'Canary-P12-Passphrase';
const SECRETS = [
  FIRST.password,
  FIRST.pincode,
  SECOND.password,
  SECOND.pincode,
  ENTRATEL_PIN,
  CERT_PASSPHRASE,
];
/** The forms a secret could take on its way out: as is, and base64 (Basic auth headers). */
const FORMS = SECRETS.flatMap((secret) => [
  secret,
  Buffer.from(secret).toString('base64'),
  Buffer.from(`${USER}:${secret}`).toString('base64'),
]);

/** Columns that hold ciphertext by design: everything else is searched. */
const CIPHERTEXT_COLUMNS = new Set(['credential_secrets.ciphertext', 'data_keys.wrapped_key']);

describe('no secret leaks through logs, tables, Redis or error bodies', () => {
  let h: Harness;
  const bodies: string[] = [];
  beforeAll(async () => {
    h = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      simulator: {
        users: [{ username: USER, password: FIRST.password, pincode: FIRST.pincode, kind: 'professional' }],
      },
    });
  });
  afterAll(() => h.close());

  const call = async (request: InjectOptions) => {
    const response = await h.app.inject(request);
    bodies.push(`${response.statusCode} ${JSON.stringify(response.headers)} ${response.body}`);
    return response;
  };

  it('runs a full create–test–lease–update cycle, with every failure path on the way', async () => {
    const manage = h.auth({ tenantId: 'clinic', scopes: MANAGE });
    const submitter = h.auth({ tenantId: 'clinic', scopes: [...LEASE, ...REPORT], issuer: 'submitter' });
    const base = {
      environment: 'production',
      kind: 'basic',
      user: USER,
      owner: { taxCode: USER },
      vatNumbers: ['12345678903'],
    };

    // Bad input that carries the secrets: the errors must not repeat them.
    const bad = await call({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage,
      payload: {
        ...base,
        label: 'bad',
        password: `${FIRST.password}\n`,
        pincode: FIRST.password,
        extra: FIRST.pincode,
      },
    });
    expect(bad.statusCode).toBe(400);

    const created = await call({
      method: 'POST',
      url: '/internal/v1/credentials?test=true',
      headers: manage,
      payload: { ...base, label: 'canary', ...FIRST },
    });
    expect(created.json().test.outcome).toBe('valid');
    const id = created.json().credential.id;

    const lease = await call({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/leases`,
      headers: submitter,
      payload: { purpose: 'upload' },
    });
    expect(lease.statusCode).toBe(201);
    // The lease is the one place a password goes out (and the pincode only encrypted).
    expect(lease.body).toContain(FIRST.password);
    expect(lease.body).not.toContain(FIRST.pincode);
    bodies.pop();

    // The doctor changes password and pincode on the portal; the clinic updates them here.
    await simulatorAdmin(h.simulator!, 'POST', `/users/${USER}/password`, { password: SECOND.password });
    const failedFirst = await call({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/authentication-failures`,
      headers: submitter,
      payload: {
        leaseId: lease.json().leaseId,
        failure: {
          kind: 'authentication',
          reason: 'authentication',
          faultString: 'Errore generico di autenticazione',
        },
      },
    });
    expect(failedFirst.json().status).toBe('invalid');
    const paused = await call({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/test`,
      headers: manage,
    });
    expect(paused.statusCode).toBe(409);
    const updated = await call({
      method: 'PATCH',
      url: `/internal/v1/credentials/${id}?test=true`,
      headers: manage,
      payload: { password: SECOND.password, pincode: SECOND.pincode },
    });
    // The simulator still holds the first pincode: the test says so, without the pincode.
    expect(updated.json().test.outcome).toBe('wrong-pincode');
    const fixed = await call({
      method: 'PATCH',
      url: `/internal/v1/credentials/${id}`,
      headers: manage,
      payload: { pincode: FIRST.pincode },
    });
    expect(fixed.statusCode).toBe(200);
    h.clock.advance(7 * 3_600_000);
    const retested = await call({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/test`,
      headers: manage,
    });
    expect(retested.json().outcome).toBe('valid');
    const second = await call({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/leases`,
      headers: submitter,
      payload: { purpose: 'upload 2' },
    });
    expect(second.json().login.password).toBe(SECOND.password);
    bodies.pop();

    // The other kinds' secrets take the same paths.
    const entratel = await call({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage,
      payload: {
        ...KIT_ENTRATEL_CREDENTIAL,
        label: 'entratel canary',
        password: SECOND.password,
        entratelPin: ENTRATEL_PIN,
      },
    });
    expect(entratel.statusCode).toBe(201);
    const wrongP12 = await call({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage,
      payload: {
        label: 'p12 canary',
        environment: 'production',
        kind: 'client-certificate',
        pincode: SECOND.pincode,
        owner: { regionCode: '130', aslCode: '000', ssaCode: '00000' },
        vatNumbers: ['12345678903'],
        clientCertificate: { pkcs12: Buffer.from('garbage').toString('base64'), passphrase: CERT_PASSPHRASE },
      },
    });
    expect(wrongP12.statusCode).toBe(400);
    const list = await call({ method: 'GET', url: '/internal/v1/credentials', headers: manage });
    expect(list.json().items).toHaveLength(2);
    await call({ method: 'GET', url: '/metrics' });
  });

  it('finds none of the secrets in the logs', () => {
    const text = h.logs.join('');
    expect(text.length).toBeGreaterThan(1000);
    for (const form of FORMS) expect(text).not.toContain(form);
  });

  it('finds none of them in any table outside the ciphertext columns', async () => {
    const { rows: columns } = await h.pool.query<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns where table_schema = 'credentials'`,
    );
    const tables = [...new Set(columns.map((c) => c.table_name))];
    expect(tables).toEqual(
      expect.arrayContaining(['credentials', 'credential_secrets', 'data_keys', 'audit_log', 'leases']),
    );
    let searched = 0;
    for (const column of columns) {
      if (CIPHERTEXT_COLUMNS.has(`${column.table_name}.${column.column_name}`)) continue;
      const { rows } = await h.pool.query(
        `select "${column.column_name}"::text as value from credentials."${column.table_name}"`,
      );
      for (const row of rows) {
        searched++;
        for (const form of FORMS)
          expect(String(row.value), `${column.table_name}.${column.column_name}`).not.toContain(form);
      }
    }
    expect(searched).toBeGreaterThan(100);
    // The ciphertext columns are not the plaintext either.
    const { rows } = await h.pool.query(
      `select encode(ciphertext, 'escape') as value from credentials.credential_secrets`,
    );
    for (const row of rows) for (const secret of SECRETS) expect(row.value).not.toContain(secret);
  });

  it('finds none of them in Redis', async () => {
    const keys = await h.redis.keys('*');
    expect(keys.length).toBeGreaterThan(0);
    let dump = '';
    for (const key of keys) {
      const type = await h.redis.type(key);
      if (type === 'stream') dump += JSON.stringify(await h.redis.xrange(key, '-', '+'));
      else if (type === 'string') dump += await h.redis.get(key);
      else if (type === 'hash') dump += JSON.stringify(await h.redis.hgetall(key));
      else if (type === 'list') dump += JSON.stringify(await h.redis.lrange(key, 0, -1));
      else if (type === 'set') dump += JSON.stringify(await h.redis.smembers(key));
      else if (type === 'zset') dump += JSON.stringify(await h.redis.zrange(key, '0', '-1'));
      dump += key;
    }
    expect(dump).toContain('credential.status-changed');
    for (const form of FORMS) expect(dump).not.toContain(form);
  });

  it('finds none of them in any answer but the leases', () => {
    expect(bodies.length).toBeGreaterThan(8);
    const text = bodies.join('\n');
    for (const form of FORMS) expect(text).not.toContain(form);
  });
});

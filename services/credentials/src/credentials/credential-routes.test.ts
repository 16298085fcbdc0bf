import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  KIT_ENTRATEL_CREDENTIAL,
  LEASE,
  MANAGE,
  REPORT,
  startHarness,
  TOKEN_KEYS,
} from '../../test-support/harness.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

const PRODUCTION_DOCTOR = {
  label: 'Dr Rossi',
  environment: 'production',
  kind: 'basic',
  user: 'RSSMRA85T10A562S',
  password: 'Segreta.2026',
  pincode: '5550123987',
  owner: { taxCode: 'RSSMRA85T10A562S' },
  vatNumbers: ['12345678903'],
};

describe('credential routes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ databaseUrl: database.url, redisUrl: redisDatabase.url });
  });
  afterAll(() => h.close());

  const create = (tenantId: string, body: unknown) =>
    h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: h.auth({ tenantId, scopes: MANAGE }),
      payload: body as object,
    });

  it('creates a credential and shows metadata with masked hints, never a secret', async () => {
    const response = await create('tenant-a', { ...PRODUCTION_DOCTOR, label: 'shown' });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(response.headers.location).toBe(`/internal/v1/credentials/${body.credential.id}`);
    expect(body.credential).toMatchObject({
      label: 'shown',
      environment: 'production',
      kind: 'basic',
      user: 'RSSMRA85T10A562S',
      owner: { kind: 'professional', taxCode: 'RSSMRA85T10A562S' },
      vatNumbers: ['12345678903'],
      sendingMode: 'auto',
      pacing: { maxInFlight: 1, requestsPerMinute: 30 },
      status: 'untested',
      usable: false,
      secrets: { password: { set: true }, pincode: { set: true, hint: '••••••••87' } },
    });
    expect(body.warnings).toEqual([]);
    expect(response.body).not.toContain('Segreta.2026');
    expect(response.body).not.toContain('5550123987');
    const stored = await h.pool.query('select secret_hints from credentials.credentials where id = $1', [
      body.credential.id,
    ]);
    expect(stored.rows[0].secret_hints.password).toEqual({ set: true });
    const expected = new Date(new Date(body.credential.password.changedAt).getTime() + 90 * 86_400_000);
    expect(body.credential.password.expectedExpiry).toBe(expected.toISOString());

    const fetched = await h.app.inject({
      method: 'GET',
      url: `/internal/v1/credentials/${body.credential.id}`,
      headers: h.auth({ tenantId: 'tenant-a', scopes: MANAGE }),
    });
    // One shape: every answer about one credential wraps it the same way.
    expect(fetched.json()).toEqual({ credential: body.credential });
  });

  it('answers bad input with every field named, a rule and a hint, and stores nothing', async () => {
    const response = await create('tenant-a', {
      ...PRODUCTION_DOCTOR,
      label: 'bad',
      user: 'RSSMRA85T10A562T',
      pincode: '12345',
      vatNumbers: ['12345678904', '12345678903', '12345678903'],
      owner: { taxCode: 'RSSMRA85T10A562S', regionCode: '13' },
      pinCode: '1234567890',
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    const errors = response.json().errors as { field: string; rule: string; message: string }[];
    const byField = Object.fromEntries(errors.map((e) => [e.field, e]));
    expect(byField.user?.rule).toBe('tax-code.check-character');
    expect(byField.pincode).toEqual({
      field: 'pincode',
      rule: 'pincode.format',
      message: expect.stringContaining('Profilo utente → Stampa pincode'),
    });
    expect(byField['vatNumbers[0]']?.rule).toBe('vat-number.check-digit');
    expect(byField['vatNumbers[2]']?.rule).toBe('duplicate');
    expect(byField['owner.regionCode']?.rule).toBe('regionCode.format');
    expect(byField['owner.aslCode']?.rule).toBe('aslCode.format');
    expect(byField.pinCode).toMatchObject({
      rule: 'unknown-field',
      message: expect.stringContaining('"pincode"'),
    });
    expect(response.body).not.toContain('RSSMRA85T10A562T');
    const list = await h.app.inject({
      method: 'GET',
      url: '/internal/v1/credentials',
      headers: h.auth({ tenantId: 'tenant-a', scopes: MANAGE }),
    });
    expect(list.json().items.map((c: { label: string }) => c.label)).not.toContain('bad');
  });

  it('accepts the kit test identifiers in the test environment only, and warns about risky passwords', async () => {
    const kit = {
      label: 'kit doctor',
      kind: 'basic',
      user: 'PROVAX00X00X000Y',
      password: 'Salve 123!',
      pincode: '1234567890',
      owner: { taxCode: 'PROVAX00X00X000Y' },
      vatNumbers: ['00265910661', '01201200121'],
    };
    const production = await create('tenant-a', { ...kit, environment: 'production' });
    expect(production.statusCode).toBe(400);
    expect(
      production
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['owner.taxCode', 'user', 'vatNumbers[1]']);
    const test = await create('tenant-a', { ...kit, environment: 'test' });
    expect(test.statusCode).toBe(201);
    expect(test.json().warnings).toEqual([
      {
        field: 'password',
        rule: 'sts-unsafe-characters',
        message: expect.stringContaining('letters, digits and ".".'),
      },
    ]);
  });

  it('checks structures, Entratel intermediaries and their own fields', async () => {
    const structure = await create('tenant-a', {
      label: 'pharmacy',
      environment: 'test',
      kind: 'basic',
      user: 'UV386Q5B',
      password: 'SALVE',
      pincode: '1729594276',
      owner: { regionCode: '130', aslCode: '204', ssaCode: '78909', taxCode: 'BBTMRZ54L19H501T' },
      vatNumbers: ['01201200121'],
      sendingMode: 'batch',
      pacing: { maxInFlight: 2 },
    });
    expect(structure.statusCode).toBe(201);
    expect(structure.json().credential.owner).toEqual({
      kind: 'structure',
      regionCode: '130',
      aslCode: '204',
      ssaCode: '78909',
      taxCode: 'BBTMRZ54L19H501T',
    });
    expect(structure.json().warnings.map((w: { rule: string }) => w.rule)).toEqual(['concurrency']);

    const entratelBody = { ...KIT_ENTRATEL_CREDENTIAL, label: 'intermediary' };
    const entratel = await create('tenant-a', entratelBody);
    expect(entratel.statusCode).toBe(201);
    expect(entratel.json().credential).toMatchObject({
      entratelSiteCode: '07874631000-000',
      secrets: { entratelPin: { set: true, hint: '••••••1D' } },
    });
    const wrong = await create('tenant-a', {
      ...entratelBody,
      label: 'x',
      pincode: '1234567890',
      entratelPin: '4B64',
    });
    expect(wrong.json().errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: 'pincode',
          rule: 'unknown-field',
          message: expect.stringContaining('entratelPin'),
        }),
        expect.objectContaining({
          field: 'entratelPin',
          rule: 'entratel-pin.format',
          message: expect.stringContaining('odd positions'),
        }),
      ]),
    );
  });

  it('refuses a label used twice in one tenant with 409', async () => {
    expect((await create('tenant-a', { ...PRODUCTION_DOCTOR, label: 'twice' })).statusCode).toBe(201);
    const second = await create('tenant-a', { ...PRODUCTION_DOCTOR, label: 'twice' });
    expect(second.statusCode).toBe(409);
    expect(second.json().type).toContain('label-taken');
    expect((await create('tenant-b', { ...PRODUCTION_DOCTOR, label: 'twice' })).statusCode).toBe(201);
  });

  it("isolates tenants: another tenant's credential id answers 404 on every route", async () => {
    const id = (await create('tenant-a', { ...PRODUCTION_DOCTOR, label: 'isolated' })).json().credential.id;
    const otherGateway = h.auth({ tenantId: 'tenant-b', scopes: MANAGE });
    const otherSubmitter = h.auth({
      tenantId: 'tenant-b',
      scopes: [...LEASE, ...REPORT],
      issuer: 'submitter',
    });
    const calls = [
      { method: 'GET', url: `/internal/v1/credentials/${id}` },
      { method: 'PATCH', url: `/internal/v1/credentials/${id}`, payload: { label: 'stolen' } },
      { method: 'DELETE', url: `/internal/v1/credentials/${id}` },
      { method: 'POST', url: `/internal/v1/credentials/${id}/test` },
      { method: 'POST', url: `/internal/v1/credentials/${id}/leases`, payload: { purpose: 'x' } },
      {
        method: 'POST',
        url: `/internal/v1/credentials/${id}/authentication-failures`,
        payload: { leaseId: id, failure: { kind: 'credential', code: '104' } },
      },
    ] as const;
    for (const call of calls) {
      const headers = /leases|authentication-failures/.test(call.url) ? otherSubmitter : otherGateway;
      const response = await h.app.inject({ ...call, headers });
      expect(response.statusCode, `${call.method} ${call.url}`).toBe(404);
    }
    const other = otherGateway;
    const list = await h.app.inject({ method: 'GET', url: '/internal/v1/credentials', headers: other });
    expect(list.json().items.map((c: { id: string }) => c.id)).not.toContain(id);
    const mine = await h.app.inject({
      method: 'GET',
      url: `/internal/v1/credentials/${id}`,
      headers: h.auth({ tenantId: 'tenant-a', scopes: MANAGE }),
    });
    expect(mine.json().credential.label).toBe('isolated');
    expect(
      (await h.app.inject({ method: 'GET', url: '/internal/v1/credentials/not-a-uuid', headers: other }))
        .statusCode,
    ).toBe(404);
  });

  it('answers 401 without a valid token and 403 without the scope', async () => {
    const noToken = await h.app.inject({ method: 'GET', url: '/internal/v1/credentials' });
    expect(noToken.statusCode).toBe(401);
    expect(noToken.json().type).toContain('unauthenticated');
    const garbage = await h.app.inject({
      method: 'GET',
      url: '/internal/v1/credentials',
      headers: { authorization: 'Bearer abc.def.ghi' },
    });
    expect(garbage.statusCode).toBe(401);
    const leaseOnly = h.auth({ tenantId: 'tenant-a', scopes: LEASE, issuer: 'submitter' });
    expect(
      (await h.app.inject({ method: 'GET', url: '/internal/v1/credentials', headers: leaseOnly })).statusCode,
    ).toBe(403);
    const id = (await create('tenant-a', { ...PRODUCTION_DOCTOR, label: 'scoped' })).json().credential.id;
    const manageOnly = h.auth({ tenantId: 'tenant-a', scopes: MANAGE });
    const lease = await h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/leases`,
      headers: manageOnly,
      payload: { purpose: 'x' },
    });
    expect(lease.statusCode).toBe(403);
    const untrusted = h.auth({ tenantId: 'tenant-a', scopes: MANAGE, issuer: 'somebody-else' });
    expect(
      (await h.app.inject({ method: 'GET', url: '/internal/v1/credentials', headers: untrusted })).statusCode,
    ).toBe(401);
  });

  it("refuses a lease token made with the gateway's key, whatever issuer it claims", async () => {
    const id = (await create('tenant-a', { ...PRODUCTION_DOCTOR, label: 'forged-lease' })).json().credential
      .id;
    await h.pool.query(`update credentials.credentials set status = 'valid' where id = $1`, [id]);
    const leaseWith = (headers: { authorization: string }) =>
      h.app.inject({
        method: 'POST',
        url: `/internal/v1/credentials/${id}/leases`,
        headers,
        payload: { purpose: 'forged' },
      });
    for (const iss of ['submitter', 'gateway']) {
      const forged = h.handMadeAuth(TOKEN_KEYS.gateway, { iss, scope: 'credentials:lease', tid: 'tenant-a' });
      const response = await leaseWith(forged);
      expect(response.statusCode, iss).toBe(401);
      expect(response.body).not.toContain('Segreta.2026');
    }
    // The same claims signed with the submitter's own key are a lease.
    const genuine = h.handMadeAuth(TOKEN_KEYS.submitter, {
      iss: 'submitter',
      scope: 'credentials:lease',
      tid: 'tenant-a',
    });
    expect((await leaseWith(genuine)).statusCode).toBe(201);
  });

  it('updates: a new pincode makes it untested again, kind and environment stay', async () => {
    const created = (await create('tenant-a', { ...PRODUCTION_DOCTOR, label: 'to-update' })).json()
      .credential;
    const manage = h.auth({ tenantId: 'tenant-a', scopes: MANAGE });
    const patch = (payload: object) =>
      h.app.inject({
        method: 'PATCH',
        url: `/internal/v1/credentials/${created.id}`,
        headers: manage,
        payload,
      });
    const renamed = await patch({
      label: 'renamed',
      pacing: { requestsPerMinute: 12 },
      sendingMode: 'realtime',
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().credential).toMatchObject({
      label: 'renamed',
      pacing: { maxInFlight: 1, requestsPerMinute: 12 },
      sendingMode: 'realtime',
    });
    const immutable = await patch({ environment: 'test', kind: 'entratel' });
    expect(immutable.statusCode).toBe(400);
    expect(immutable.json().errors.map((e: { rule: string }) => e.rule)).toContain('immutable');

    await h.pool.query(
      `update credentials.credentials set status = 'invalid', status_reason = 'wrong-pincode', tests_paused = 'timed', tests_paused_until = now() + interval '1 day' where id = $1`,
      [created.id],
    );
    const fixed = await patch({ pincode: '0987654321' });
    expect(fixed.json().credential).toMatchObject({
      status: 'untested',
      statusReason: null,
      secrets: { pincode: { hint: '••••••••21' } },
      tests: { pausedUntil: null, pausedReason: null },
    });
  });

  it('deletes a credential and destroys its data key', async () => {
    const id = (await create('tenant-a', { ...PRODUCTION_DOCTOR, label: 'to-delete' })).json().credential.id;
    const manage = h.auth({ tenantId: 'tenant-a', scopes: MANAGE });
    const before = await h.pool.query(
      'select count(*)::int as n from credentials.data_keys where credential_id = $1',
      [id],
    );
    expect(before.rows[0].n).toBe(1);
    const deleted = await h.app.inject({
      method: 'DELETE',
      url: `/internal/v1/credentials/${id}`,
      headers: manage,
    });
    expect(deleted.statusCode).toBe(204);
    for (const table of ['data_keys', 'credential_secrets', 'credentials']) {
      const column = table === 'credentials' ? 'id' : 'credential_id';
      const rows = await h.pool.query(`select 1 from credentials.${table} where ${column} = $1`, [id]);
      expect(rows.rowCount, table).toBe(0);
    }
    expect(
      (await h.app.inject({ method: 'GET', url: `/internal/v1/credentials/${id}`, headers: manage }))
        .statusCode,
    ).toBe(404);
    const audit = await h.pool.query(
      'select action, actor from credentials.audit_log where credential_id = $1 order by id',
      [id],
    );
    expect(audit.rows).toEqual([
      { action: 'credential.created', actor: 'gateway:api-key:test' },
      { action: 'credential.deleted', actor: 'gateway:api-key:test' },
    ]);
  });

  it("lists a tenant's credentials by status, in pages", async () => {
    const manage = h.auth({ tenantId: 'tenant-c', scopes: MANAGE });
    for (const label of ['one', 'two', 'three']) await create('tenant-c', { ...PRODUCTION_DOCTOR, label });
    const first = await h.app.inject({
      method: 'GET',
      url: '/internal/v1/credentials?limit=2&status=untested',
      headers: manage,
    });
    expect(first.json().items).toHaveLength(2);
    const next = first.json().next;
    const second = await h.app.inject({
      method: 'GET',
      url: `/internal/v1/credentials?limit=2&after=${next}`,
      headers: manage,
    });
    expect(second.json().items).toHaveLength(1);
    expect(second.json().next).toBeNull();
    const bad = await h.app.inject({
      method: 'GET',
      url: '/internal/v1/credentials?status=broken',
      headers: manage,
    });
    expect(bad.statusCode).toBe(400);
  });
});

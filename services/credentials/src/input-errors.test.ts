import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, LEASE, MANAGE, REPORT, startHarness, TOKEN_KEYS } from '../test-support/harness.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

// Input that once reached Postgres and came back as a 500 (issue 9): a label another credential
// has, NUL in free text, a date Postgres cannot store. Each is a 4xx problem naming the field now,
// and nothing the caller sent reaches a log line.
const DOCTOR = {
  environment: 'production',
  kind: 'basic',
  user: 'RSSMRA85T10A562S',
  password: 'Segreta.2026',
  pincode: '5550123987',
  owner: { taxCode: 'RSSMRA85T10A562S' },
  vatNumbers: ['12345678903'],
};

const REPORTER = { username: 'CSTFNC80A01H501K', password: 'Report.Test.1', pincode: '4812162342' };

describe('credentials: input never ends in a 500', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ databaseUrl: database.url, redisUrl: redisDatabase.url });
  });
  afterAll(() => h.close());

  const manage = () => h.auth({ tenantId: 'input-clinic', scopes: MANAGE });
  const create = async (label: string) => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: { ...DOCTOR, label },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json().credential.id as string;
  };
  const patch = (id: string, payload: unknown) =>
    h.app.inject({
      method: 'PATCH',
      url: `/internal/v1/credentials/${id}`,
      headers: manage(),
      payload: payload as object,
    });
  const expectProblem = (
    response: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
    status: number,
    field?: string,
    rule?: string,
  ) => {
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toContain('application/problem+json');
    const problem = response.json() as { status: number; errors?: { field: string; rule: string }[] };
    expect(problem.status).toBe(status);
    if (field)
      expect(problem.errors).toContainEqual(expect.objectContaining({ field, ...(rule ? { rule } : {}) }));
  };

  it('answers 409 to a change of label to one another credential of the tenant has', async () => {
    await create('front desk');
    const other = await create('back office');
    const response = await patch(other, { label: 'front desk' });
    expectProblem(response, 409);
    expect(response.json()).toMatchObject({ type: expect.stringContaining('label-taken') });
  });

  it('refuses control characters in a label, naming the field and the rule', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: { ...DOCTOR, label: 'nul\u0000here' },
    });
    expectProblem(response, 400, 'label', 'characters');
    const id = await create('patched with nul');
    expectProblem(await patch(id, { label: 'a\u0000b' }), 400, 'label', 'characters');
    expectProblem(await patch(id, { label: 'line\nbreak' }), 400, 'label', 'characters');
  });

  it('refuses control characters in a lease purpose', async () => {
    const id = await create('leased with nul');
    const response = await h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/leases`,
      headers: h.auth({ tenantId: 'input-clinic', scopes: LEASE, issuer: 'submitter', subject: 'w' }),
      payload: { purpose: 'batch\u00007' },
    });
    expectProblem(response, 400, 'purpose', 'characters');
  });

  it('refuses control characters in the audit reason header', async () => {
    const id = await create('audited with nul');
    const response = await h.app.inject({
      method: 'PATCH',
      url: `/internal/v1/credentials/${id}`,
      headers: { ...manage(), 'x-audit-reason': 'ticket\u00007' },
      payload: { label: 'audited' },
    });
    expectProblem(response, 400, 'x-audit-reason', 'characters');
  });

  it('refuses a correctly signed token whose tenant or subject holds a control character', async () => {
    for (const claims of [
      { iss: 'gateway', scope: 'credentials:manage', tid: 'input\u0000clinic' },
      { iss: 'gateway', scope: 'credentials:manage', tid: 'x'.repeat(257) },
    ]) {
      const response = await h.app.inject({
        method: 'GET',
        url: '/internal/v1/credentials',
        headers: h.handMadeAuth(TOKEN_KEYS.gateway, claims),
      });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('keeps what the STS said in a failure report storable, and refuses codes that are not plain', async () => {
    const h2 = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      simulator: { users: [{ ...REPORTER, kind: 'professional' }] },
    });
    try {
      const created = await h2.app.inject({
        method: 'POST',
        url: '/internal/v1/credentials?test=true',
        headers: h2.auth({ tenantId: 'reporting-clinic', scopes: MANAGE }),
        payload: {
          label: 'reported',
          environment: 'test',
          kind: 'basic',
          user: REPORTER.username,
          password: REPORTER.password,
          pincode: REPORTER.pincode,
          owner: { taxCode: REPORTER.username },
          vatNumbers: ['00265910661'],
        },
      });
      expect(created.json().test?.outcome, created.body).toBe('valid');
      const id = created.json().credential.id as string;
      const submitter = () =>
        h2.auth({
          tenantId: 'reporting-clinic',
          scopes: [...LEASE, ...REPORT],
          issuer: 'submitter',
          subject: 'w',
        });
      const report = async (failure: Record<string, unknown>) => {
        const lease = await h2.app.inject({
          method: 'POST',
          url: `/internal/v1/credentials/${id}/leases`,
          headers: submitter(),
          payload: { purpose: 'report probe' },
        });
        return h2.app.inject({
          method: 'POST',
          url: `/internal/v1/credentials/${id}/authentication-failures`,
          headers: submitter(),
          payload: { leaseId: lease.json().leaseId, failure },
        });
      };
      expectProblem(
        await report({ kind: 'credential', code: '104\u0000', description: 'x' }),
        400,
        'failure.code',
        'characters',
      );
      expectProblem(
        await report({ kind: 'credential', code: '1'.repeat(65) }),
        400,
        'failure.code',
        'length',
      );
      expectProblem(
        await report({ kind: 'authentication', reason: 'wrong\npassword' }),
        400,
        'failure.reason',
        'characters',
      );
      const relayed = await report({
        kind: 'credential',
        code: '104',
        description: 'Pincode\u0000 errato\r\nriprovare',
      });
      expect(relayed.statusCode, relayed.body).toBe(200);
    } finally {
      await h2.close();
    }
  });

  it('refuses a password change date outside what can be a real one', async () => {
    const id = await create('dated');
    for (const date of ['0000-01-01', '0001-01-01', '1899-12-31', '9999-12-31T00:00:00Z', '+275760-09-13']) {
      expectProblem(await patch(id, { passwordChangedAt: date }), 400, 'passwordChangedAt');
    }
    const response = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: { ...DOCTOR, label: 'ancient', passwordChangedAt: '0000-01-01' },
    });
    expectProblem(response, 400, 'passwordChangedAt', 'range');
  });

  it('keeps an unexpected database error out of the answer and its parameters out of the logs', async () => {
    const id = await create('logged');
    // A constraint the service does not know about refuses the update inside Postgres, whose
    // statement carries the label, the owner's codice fiscale and the VAT numbers as parameters.
    await h.pool.query(
      `ALTER TABLE credentials.credentials ADD CONSTRAINT input_errors_probe CHECK (label <> 'Dr Bianchi private label') NOT VALID`,
    );
    try {
      const before = h.logs.length;
      const response = await patch(id, {
        label: 'Dr Bianchi private label',
        owner: { taxCode: 'BNCLRA80A41H501D' },
      });
      expect(response.statusCode).toBe(500);
      expect(response.body).not.toContain('Bianchi');
      const lines = h.logs.slice(before).join('\n');
      expect(lines).toContain('"code":"23514"');
      expect(lines).toContain('"constraint":"input_errors_probe"');
      expect(lines).not.toContain('Dr Bianchi private label');
      expect(lines).not.toContain('BNCLRA80A41H501D');
      expect(lines).not.toContain('12345678903');
      expect(lines).not.toMatch(/"params"/);
    } finally {
      await h.pool.query('ALTER TABLE credentials.credentials DROP CONSTRAINT input_errors_probe');
    }
  });
});

import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, createCnsCertificate, createServerCertificate } from '../../test-support/certificates.ts';
import {
  type Harness,
  LEASE,
  MANAGE,
  newMasterKey,
  REPORT,
  simulatorAdmin,
  startHarness,
} from '../../test-support/harness.ts';
import { httpsClient } from '../../test-support/https-client.ts';
import { credentialsConfigSchema } from '../config.ts';
import { createDatabase } from '../db/database.ts';
import { createKeyring } from '../vault/keyring.ts';
import { createLoginBudget } from './login-budget.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/** One STS user per story on the simulator (which locks at 8), so no story disturbs another's counters. */
const account = (username: string, n: number) => ({
  username,
  password: `Giusta.${n}`,
  pincode: `${n}`.repeat(10).slice(0, 10),
});
const SAME_PASSWORD = account('BDGLSS80A01H501V', 1);
const NEW_PASSWORDS = account('BDGMRC81B02F205K', 2);
const NINE = account('BDGGNN82C03L219Y', 3);
const QUERY = account('BDGPLA83D04A944F', 4);
const KNOWN = account('BDGFRN84E05G273K', 5);
const SUCCESS = account('BDGLCA85H06D612K', 6);
const RACE = account('BDGSRA86L07C351A', 7);
const LEASED = account('BDGTMS87M08B157D', 8);
const ADMIN = account('BDGVLR88P09E506N', 9);
/** Never called on the simulator: these stories work on the budget alone. */
const ACCOUNT_ROTATED = account('RSSMRA85T10A562S', 0);
const DIES = account('RSSMRA85T10A562S', 0);
const METRICS = account('BDGNNA90A41H501T', 10);
/** Never called on the simulator: its STS client cannot even be built. */
const THROWS = account('BDGPTR91B12H501I', 11);
/** A login of its own for a story on the budget alone (nothing is sent, no credential needed). */
let logins = 0;
const bareLogin = () => ({
  id: null,
  tenantId: 'clinic',
  environment: 'test',
  stsUser: `BARE-LOGIN-${++logins}`,
});
type Account = typeof SAME_PASSWORD;

describe('the failed-login budget of an STS login', () => {
  const cardsCa = createCa('TS-CNS Test');
  const serverCa = createCa('Credentials Service');
  const server = createServerCertificate(serverCa);
  let h: Harness;
  const operator = httpsClient({ baseUrl: () => h.url!, serverCa });

  beforeAll(async () => {
    h = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      simulator: {
        users: [SAME_PASSWORD, NEW_PASSWORDS, NINE, QUERY, KNOWN, SUCCESS, RACE, LEASED, ADMIN, METRICS].map(
          (user) => ({ ...user, kind: 'professional' as const }),
        ),
      },
      listen: true,
      operatorTls: {
        cert: server.certificatePem,
        key: server.privateKeyPem,
        clientCa: cardsCa.certificatePem,
      },
    });
  });
  afterAll(() => h.close());

  let labels = 0;
  const manage = (tenantId: string) => h.auth({ tenantId, scopes: MANAGE });
  const create = (tenantId: string, user: Account, password: string, query = '') =>
    h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials${query}`,
      headers: manage(tenantId),
      payload: {
        label: `${user.username}-${++labels}`,
        environment: 'test',
        kind: 'basic',
        user: user.username,
        password,
        pincode: user.pincode,
        owner: { taxCode: user.username },
        vatNumbers: ['00265910661'],
      },
    });
  async function credential(tenantId: string, user: Account, password = user.password): Promise<string> {
    const created = await create(tenantId, user, password);
    expect(created.statusCode, created.body).toBe(201);
    return created.json().credential.id;
  }
  const patch = (tenantId: string, id: string, payload: object, query = '') =>
    h.app.inject({
      method: 'PATCH',
      url: `/internal/v1/credentials/${id}${query}`,
      headers: manage(tenantId),
      payload,
    });
  const test = (tenantId: string, id: string) =>
    h.app.inject({ method: 'POST', url: `/internal/v1/credentials/${id}/test`, headers: manage(tenantId) });
  const get = async (tenantId: string, id: string) =>
    (
      await h.app.inject({ method: 'GET', url: `/internal/v1/credentials/${id}`, headers: manage(tenantId) })
    ).json().credential;
  /** What the simulator knows of the user: consecutive failed logins it received, and whether it locked it. */
  const stsUser = async (user: Account) => {
    const { json } = await simulatorAdmin(h.simulator!, 'GET', `/users/${user.username}`);
    return { failedAttempts: json.failedAttempts, locked: json.locked };
  };
  /** `outcome` of a test that ran, or the problem type of one refused. */
  /** What `?test=true` on a create or change reports: the test's outcome, or why it did not run. */
  const afterChange = (body: {
    test?: { outcome: string };
    testRefused?: { status: number; type: string };
  }) =>
    body.test
      ? body.test.outcome
      : `${body.testRefused?.status} ${String(body.testRefused?.type).split('/').at(-1)}`;
  const what = (response: { statusCode: number; json: () => Record<string, unknown> }) => {
    const body = response.json();
    return response.statusCode === 200
      ? String(body.outcome)
      : `${response.statusCode} ${String(body.type).split('/').at(-1)}`;
  };
  const submitter = (tenantId: string) =>
    h.auth({ tenantId, scopes: [...LEASE, ...REPORT], issuer: 'submitter', subject: 'worker-1' });
  const lease = (tenantId: string, id: string) =>
    h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/leases`,
      headers: submitter(tenantId),
      payload: { purpose: 'upload batch 1' },
    });
  const reportWrongPassword = (tenantId: string, id: string, leaseId: string) =>
    h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/authentication-failures`,
      headers: submitter(tenantId),
      payload: {
        leaseId,
        failure: {
          kind: 'authentication',
          reason: 'authentication',
          faultString: 'Errore generico di autenticazione',
        },
      },
    });
  const auditActions = async (id: string, prefix = 'login.') =>
    (
      await h.pool.query(
        'select action, details from credentials.audit_log where credential_id = $1 and action like $2 order by id',
        [id, `${prefix}%`],
      )
    ).rows as { action: string; details: Record<string, unknown> }[];

  it('attack 1: eight cycles of "PATCH the same wrong password, then test" make one failed login', async () => {
    const id = await credential('clinic', SAME_PASSWORD);
    const cycles: string[] = [];
    for (let i = 0; i < 8; i++) {
      const patched = await patch('clinic', id, { password: 'Sbagliata.1' });
      cycles.push(`${patched.statusCode} ${what(await test('clinic', id))}`);
    }
    expect(cycles[0]).toBe('200 wrong-or-expired-password');
    // From then on the password is known to fail: the change is refused, so the test pause holds.
    expect(new Set(cycles.slice(1))).toEqual(new Set(['422 409 test-paused']));
    const refused = await patch('clinic', id, { password: 'Sbagliata.1' });
    expect(refused.json()).toMatchObject({
      type: expect.stringContaining('password-known-to-fail'),
      errors: [
        { field: 'password', rule: 'password.known-to-fail', message: expect.stringContaining('current') },
      ],
    });
    expect(await stsUser(SAME_PASSWORD)).toEqual({ failedAttempts: 1, locked: false });
    // Paused after the failure: a timestamp and its reason, each in its own field.
    expect((await get('clinic', id)).tests).toEqual({
      pausedUntil: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      pausedReason: 'wrong-or-expired-password',
    });
  });

  it('attack 1: eight cycles of "PATCH a new wrong password, then test" stop at the budget', async () => {
    const id = await credential('clinic', NEW_PASSWORDS);
    const cycles: string[] = [];
    for (let i = 0; i < 8; i++) {
      const patched = await patch('clinic', id, { password: `Sbagliata.${i}` });
      cycles.push(`${patched.statusCode} ${what(await test('clinic', id))}`);
    }
    expect(cycles).toEqual([
      ...Array(3).fill('200 wrong-or-expired-password'),
      ...Array(5).fill('200 409 login-budget-spent'),
    ]);
    const refused = await test('clinic', id);
    expect(refused.json().detail).toMatch(/3 failed, of 3/);
    expect(refused.json().detail).toMatch(/about 8 wrong passwords/);
    expect(refused.json().detail).toMatch(/login-budget\/reset/);
    expect(await stsUser(NEW_PASSWORDS)).toEqual({ failedAttempts: 3, locked: false });
    expect((await get('clinic', id)).loginBudget).toMatchObject({
      attemptsUsed: 3,
      budget: 3,
      spent: true,
      stopped: {
        reason: 'wrong-or-expired-password',
        remedy: { it: expect.any(String), en: expect.any(String) },
      },
    });
  });

  it('attack 2: nine credentials of one STS user in three clinics, each tested once, share one budget', async () => {
    const ids: [string, string][] = [];
    for (let i = 0; i < 9; i++) {
      const tenant = `clinic-${i % 3}`;
      ids.push([tenant, await credential(tenant, NINE, `Sbagliata.${i}`)]);
    }
    const outcomes: string[] = [];
    for (const [tenant, id] of ids) outcomes.push(what(await test(tenant, id)));
    expect(outcomes).toEqual([
      ...Array(3).fill('wrong-or-expired-password'),
      ...Array(6).fill('409 login-budget-spent'),
    ]);
    expect(await stsUser(NINE)).toEqual({ failedAttempts: 3, locked: false });
    // Every clinic sees the same budget on its own credential.
    const [tenant, last] = ids.at(-1)!;
    expect((await get(tenant, last)).loginBudget).toMatchObject({ attemptsUsed: 3, spent: true });
  });

  it('attack 3: ?test=true on create and on update cannot go around the budget', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await create(`query-${i}`, QUERY, `Sbagliata.${i}`, '?test=true');
      // The credential is created whatever the test says; a refused test is in the answer.
      expect(created.statusCode).toBe(201);
      answers.push(afterChange(created.json()));
    }
    const id = await credential('query-0', QUERY, 'Sbagliata.X');
    for (let i = 0; i < 5; i++) {
      const patched = await patch('query-0', id, { password: `Sbagliata.Y${i}` }, '?test=true');
      expect(patched.statusCode).toBe(200);
      answers.push(afterChange(patched.json()));
    }
    expect(answers).toEqual([
      ...Array(3).fill('wrong-or-expired-password'),
      ...Array(7).fill('409 login-budget-spent'),
    ]);
    expect(await stsUser(QUERY)).toEqual({ failedAttempts: 3, locked: false });
  });

  it('refuses a password that already failed for the login, in any clinic, without any call', async () => {
    const first = await credential('clinic-a', KNOWN, 'Sbagliata.K');
    expect(what(await test('clinic-a', first))).toBe('wrong-or-expired-password');

    // Another clinic enters the same wrong password: refused, nothing stored.
    const copy = await create('clinic-b', KNOWN, 'Sbagliata.K');
    expect(copy.statusCode).toBe(422);
    expect(copy.json().errors).toEqual([
      {
        field: 'password',
        rule: 'password.known-to-fail',
        message: expect.stringContaining('not sent again'),
      },
    ]);
    const listed = await h.app.inject({
      method: 'GET',
      url: '/internal/v1/credentials',
      headers: manage('clinic-b'),
    });
    expect(JSON.stringify(listed.json())).not.toContain(KNOWN.username);
    expect((await patch('clinic-a', first, { password: 'Sbagliata.K' })).statusCode).toBe(422);

    // Once the pause is over the credential, still holding it, is not tested with it again.
    h.clock.advance(7 * 3_600_000);
    const again = await test('clinic-a', first);
    expect(what(again)).toBe('409 password-known-to-fail');
    expect(await stsUser(KNOWN)).toEqual({ failedAttempts: 1, locked: false });

    // The right password goes through.
    expect(
      (await patch('clinic-a', first, { password: KNOWN.password }, '?test=true')).json().test.outcome,
    ).toBe('valid');

    // Kept as keyed hashes only: neither the user nor the password is in the table.
    const stored = await h.pool.query('select * from credentials.login_budgets');
    expect(JSON.stringify(stored.rows)).not.toContain('Sbagliata');
    expect(JSON.stringify(stored.rows)).not.toContain(KNOWN.username);
    expect(
      (await auditActions(first)).map((row) => [row.action, row.details.attempt ?? row.details.via]),
    ).toEqual([
      ['login.failure-counted', 'test'],
      ['login.attempt-refused', 'update'],
      ['login.attempt-refused', 'test'],
    ]);
    const created = await h.pool.query(
      `select details from credentials.audit_log where action = 'login.attempt-refused' and tenant_id = 'clinic-b'`,
    );
    expect(created.rows).toEqual([
      { details: expect.objectContaining({ attempt: 'create', reason: 'password-known-to-fail' }) },
    ]);
  });

  it('a successful login forgives the failures before it; a wrong pincode is a successful login; no answer gives the attempt back', async () => {
    for (const password of ['Sbagliata.1', 'Sbagliata.2']) {
      expect(what(await test('clinic', await credential('clinic', SUCCESS, password)))).toBe(
        'wrong-or-expired-password',
      );
    }
    expect(await stsUser(SUCCESS)).toEqual({ failedAttempts: 2, locked: false });
    const right = await credential('clinic', SUCCESS);
    const valid = await test('clinic', right);
    expect(valid.json()).toMatchObject({ outcome: 'valid', loginBudget: { attemptsUsed: 0, spent: false } });
    expect(await stsUser(SUCCESS)).toEqual({ failedAttempts: 0, locked: false });

    expect(what(await test('clinic', await credential('clinic', SUCCESS, 'Sbagliata.3')))).toBe(
      'wrong-or-expired-password',
    );
    // The STS accepted the login and refused the pincode (104): the login did not fail.
    const pincode = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials?test=true',
      headers: manage('clinic'),
      payload: {
        label: 'wrong-pincode',
        environment: 'test',
        kind: 'basic',
        user: SUCCESS.username,
        password: SUCCESS.password,
        pincode: '1000000001',
        owner: { taxCode: SUCCESS.username },
        vatNumbers: ['00265910661'],
      },
    });
    expect(pincode.json().test).toMatchObject({ outcome: 'wrong-pincode', loginBudget: { attemptsUsed: 0 } });

    // The STS does not answer: nothing is known about the login, the attempt is given back.
    await simulatorAdmin(h.simulator!, 'POST', '/faults', {
      kind: 'http-503',
      user: SUCCESS.username,
      count: 1,
    });
    h.clock.advance(7 * 3_600_000);
    const unreachable = await test('clinic', right);
    expect(unreachable.json()).toMatchObject({
      outcome: 'sts-unreachable',
      loginBudget: { attemptsUsed: 0 },
    });
  });

  /** The login budget as another replica of the service sees it (same database and keys). */
  const replica = (keyring = h.keyring) =>
    createLoginBudget({
      db: createDatabase(h.pool),
      clock: h.clock,
      keyring,
      metrics: h.metrics,
      budget: 3,
    });
  const system = {
    scope: { kind: 'tenant' as const, tenantId: 'clinic' },
    actor: { kind: 'system' as const, id: 'test' },
  };

  it('a process that dies during the call leaves its attempt counted', async () => {
    const budget = replica();
    const id = await credential('clinic', DIES);
    const context = system;
    const row = { id, tenantId: 'clinic', environment: 'test', stsUser: DIES.username };
    // Reserved, then the process is gone: nobody settles it.
    await budget.reserve(context, row, Buffer.from(DIES.password));
    expect((await get('clinic', id)).loginBudget).toMatchObject({
      attemptsUsed: 1,
      inProgress: 1,
      spent: false,
    });
    // An administrator's reset clears it (after checking with the doctor).
    await budget.reset(context, row, { forgetFailedPasswords: false });
    expect((await get('clinic', id)).loginBudget).toMatchObject({ attemptsUsed: 0, inProgress: 0 });
  });

  it('two tests of two credentials of one login at once never exceed the budget', async () => {
    for (const password of ['Sbagliata.1', 'Sbagliata.2']) {
      expect(what(await test('clinic', await credential('clinic', RACE, password)))).toBe(
        'wrong-or-expired-password',
      );
    }
    // One place left; two tests of two credentials start together, each call slowed down.
    const [a, b] = [
      await credential('clinic', RACE, 'Sbagliata.3'),
      await credential('clinic-2', RACE, 'Sbagliata.4'),
    ];
    await simulatorAdmin(h.simulator!, 'POST', '/faults', {
      kind: 'latency',
      latencyMs: 300,
      user: RACE.username,
      count: 2,
    });
    const outcomes = (await Promise.all([test('clinic', a), test('clinic-2', b)])).map(what).sort();
    expect(outcomes).toEqual(['409 login-budget-spent', 'wrong-or-expired-password']);
    expect(await stsUser(RACE)).toEqual({ failedAttempts: 3, locked: false });

    // Six at once, on a fresh budget: still no more than three reach the STS.
    await simulatorAdmin(h.simulator!, 'POST', `/users/${RACE.username}/unlock`);
    await replica().reset(
      system,
      { id: a, tenantId: 'clinic', environment: 'test', stsUser: RACE.username },
      {
        forgetFailedPasswords: false,
      },
    );
    expect(await stsUser(RACE)).toEqual({ failedAttempts: 0, locked: false });
    const many: [string, string][] = [];
    for (let i = 0; i < 6; i++)
      many.push([`race-${i}`, await credential(`race-${i}`, RACE, `Sbagliata.R${i}`)]);
    await simulatorAdmin(h.simulator!, 'POST', '/faults', {
      kind: 'latency',
      latencyMs: 300,
      user: RACE.username,
      count: 6,
    });
    const six = (await Promise.all(many.map(([tenant, id]) => test(tenant, id)))).map(what);
    expect(six.filter((outcome) => outcome === 'wrong-or-expired-password').length).toBe(3);
    expect(await stsUser(RACE)).toEqual({ failedAttempts: 3, locked: false });
  });

  it('refuses a lease once the login budget is spent, and counts a reported failure unless it is stale', async () => {
    const id = await credential('clinic', LEASED);
    expect(what(await test('clinic', id))).toBe('valid');
    const first = await lease('clinic', id);
    expect(first.statusCode).toBe(201);

    // The clinic changes the password (new secrets version): a failure reported on the old lease is stale.
    await patch('clinic', id, { password: 'Nuova.Password.1' });
    const stale = await reportWrongPassword('clinic', id, first.json().leaseId);
    expect(stale.json()).toMatchObject({ applied: false });
    expect((await get('clinic', id)).loginBudget).toMatchObject({ attemptsUsed: 0 });

    // Back to the right password, tested; a sender's call with a lease then fails its login.
    expect((await patch('clinic', id, { password: LEASED.password }, '?test=true')).json().test.outcome).toBe(
      'valid',
    );
    const current = await lease('clinic', id);
    const counted = await reportWrongPassword('clinic', id, current.json().leaseId);
    expect(counted.json()).toMatchObject({ applied: true, status: 'invalid' });
    expect((await get('clinic', id)).loginBudget).toMatchObject({ attemptsUsed: 1 });
    // The lease's password is now known to fail for the login.
    expect((await patch('clinic', id, { password: LEASED.password })).statusCode).toBe(422);
    const other = await credential('clinic-2', LEASED, 'Altra.Password.1');
    await h.pool.query(`update credentials.credentials set status = 'valid' where id = $1`, [other]);

    // Two more failed logins (tests of other credentials) spend the budget: no lease for anyone.
    for (const password of ['Sbagliata.1', 'Sbagliata.2']) {
      expect(what(await test('clinic', await credential('clinic', LEASED, password)))).toBe(
        'wrong-or-expired-password',
      );
    }
    const refused = await lease('clinic-2', other);
    expect(what(refused)).toBe('409 login-budget-spent');
    expect(refused.body).not.toContain('Altra.Password.1');
    expect((await auditActions(other)).map((row) => row.details)).toEqual([
      expect.objectContaining({ attempt: 'lease', reason: 'login-budget-spent', failures: 3, budget: 3 }),
    ]);
    expect(await stsUser(LEASED)).toEqual({ failedAttempts: 2, locked: false });
  });

  it('an administrator (the doctor, with their CNS card) resets a spent budget; a service token cannot', async () => {
    for (const password of ['Sbagliata.1', 'Sbagliata.2', 'Sbagliata.3']) {
      expect(what(await test('clinic', await credential('clinic', ADMIN, password)))).toBe(
        'wrong-or-expired-password',
      );
    }
    const id = await credential('clinic', ADMIN);
    expect(what(await test('clinic', id))).toBe('409 login-budget-spent');
    const path = `/operator/v1/credentials/${id}/login-budget/reset`;

    // Not with a service token (the clinic's software is what spent it), over HTTPS or otherwise.
    const withToken = await operator('POST', path, { headers: manage('clinic'), body: { reason: 'x' } });
    expect(withToken.status).toBe(401);
    const internal = await h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/login-budget/reset`,
      headers: manage('clinic'),
      payload: { reason: 'x' },
    });
    expect(internal.statusCode).toBe(404);
    // Not by another doctor, and not without a reason.
    const stranger = createCnsCertificate({ ca: cardsCa, taxCode: 'RSSMRA85T10A562S', bits: 2048 });
    expect((await operator('POST', path, { card: stranger, body: { reason: 'x' } })).status).toBe(404);
    const card = createCnsCertificate({ ca: cardsCa, taxCode: ADMIN.username, bits: 2048 });
    const noReason = await operator('POST', path, { card, body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.json.errors[0]).toMatchObject({ field: 'reason', rule: 'required' });
    // A reason goes to the audit log: control characters are refused (a NUL used to answer 500).
    for (const reason of ['ok\u0000x', 'two\nlines', '\ud800']) {
      const refused = await operator('POST', path, { card, body: { reason } });
      expect(refused.status).toBe(400);
      expect(refused.json.errors).toEqual([expect.objectContaining({ field: 'reason', rule: 'characters' })]);
    }

    const reset = await operator('POST', path, {
      card,
      body: { reason: 'password confirmed with the doctor by phone' },
    });
    expect(reset.status).toBe(200);
    expect(reset.json.credential.loginBudget).toMatchObject({
      attemptsUsed: 0,
      spent: false,
      stopped: null,
      lastReset: { by: `operator:${ADMIN.username}` },
    });
    expect(what(await test('clinic', id))).toBe('valid');
    expect(await stsUser(ADMIN)).toEqual({ failedAttempts: 0, locked: false });
    const audit = await h.pool.query(
      `select actor, reason, details from credentials.audit_log where credential_id = $1 and action = 'login.budget-reset'`,
      [id],
    );
    expect(audit.rows).toEqual([
      {
        actor: `operator:${ADMIN.username}`,
        reason: 'password confirmed with the doctor by phone',
        details: expect.objectContaining({ failuresBefore: 3, forgotFailedPasswords: false }),
      },
    ]);
  });

  it('shows failed logins, refusals and spent budgets in the metrics', async () => {
    const metric = async (pattern: RegExp) => {
      const body = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
      return Number(pattern.exec(body)?.[1] ?? 0);
    };
    const counters = {
      test: /credentials_failed_logins_total\{outcome="wrong-or-expired-password",via="test"[^}]*\} (\d+)/,
      report:
        /credentials_failed_logins_total\{outcome="wrong-or-expired-password",via="report"[^}]*\} (\d+)/,
      lease:
        /credentials_login_attempts_refused_total\{attempt="lease",reason="login-budget-spent"[^}]*\} (\d+)/,
      create:
        /credentials_login_attempts_refused_total\{attempt="create",reason="password-known-to-fail"[^}]*\} (\d+)/,
      spent: /credentials_logins_budget_spent\{[^}]*\} (\d+)/,
    };
    const read = async () =>
      Object.fromEntries(
        await Promise.all(
          Object.entries(counters).map(async ([name, re]) => [name, await metric(re)] as const),
        ),
      );
    const before = await read();
    // One failed login reported on a lease, two tests that fail: the budget is spent.
    const id = await credential('metrics', METRICS);
    expect(what(await test('metrics', id))).toBe('valid');
    const leased = await lease('metrics', id);
    expect((await reportWrongPassword('metrics', id, leased.json().leaseId)).json()).toMatchObject({
      applied: true,
    });
    for (const password of ['Sbagliata.M1', 'Sbagliata.M2']) {
      expect(what(await test('metrics', await credential('metrics', METRICS, password)))).toBe(
        'wrong-or-expired-password',
      );
    }
    // A lease refused, and a create with a password known to fail.
    const other = await credential('metrics-2', METRICS, 'Altra.Password.M');
    await h.pool.query(`update credentials.credentials set status = 'valid' where id = $1`, [other]);
    expect(what(await lease('metrics-2', other))).toBe('409 login-budget-spent');
    expect((await create('metrics-3', METRICS, 'Sbagliata.M1')).statusCode).toBe(422);
    const after = await read();
    expect(
      Object.fromEntries(Object.keys(counters).map((name) => [name, after[name]! - before[name]!])),
    ).toEqual({
      test: 2,
      report: 1,
      lease: 1,
      create: 1,
      spent: 1,
    });
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/credentials_login_budget_resets_total\{service="credentials"\} \d+/);
  });

  it("a success after an administrator's reset does not add back the failures the reset forgave", async () => {
    const budget = replica();
    const login = bareLogin();
    const view = async () => budget.viewOf((await budget.rowsOf([{ ...login, id: 'x' }])).get('x') ?? null);
    const first = await budget.reserve(system, login, undefined);
    // B and C fail while A is in flight; an administrator resets; then A's call succeeds.
    for (const password of ['Sbagliata.B', 'Sbagliata.C']) {
      const other = await budget.reserve(system, login, undefined);
      await budget.settle(system, login, other!, {
        judgement: 'failed-login',
        outcome: 'wrong-or-expired-password',
        password: Buffer.from(password),
      });
    }
    await budget.reset(system, login, { forgetFailedPasswords: false });
    await budget.settle(system, login, first!, {
      judgement: 'authenticated',
      outcome: 'valid',
      password: undefined,
    });
    expect(await view()).toMatchObject({ attemptsUsed: 0, inProgress: 0, spent: false });

    // A's and C's calls start; C fails; B starts after that failure and succeeds, forgiving it.
    // A then succeeds: C's failure came after A's reservation, yet B already forgave it.
    const a = await budget.reserve(system, login, undefined);
    const c = await budget.reserve(system, login, undefined);
    await budget.settle(system, login, c!, {
      judgement: 'failed-login',
      outcome: 'wrong-or-expired-password',
      password: Buffer.from('Sbagliata.D'),
    });
    const b = await budget.reserve(system, login, undefined);
    await budget.settle(system, login, b!, {
      judgement: 'authenticated',
      outcome: 'valid',
      password: undefined,
    });
    expect(await view()).toMatchObject({ attemptsUsed: 1, inProgress: 1 });
    await budget.settle(system, login, a!, {
      judgement: 'authenticated',
      outcome: 'valid',
      password: undefined,
    });
    expect(await view()).toMatchObject({ attemptsUsed: 0, inProgress: 0 });
  });

  it('attempts in progress are not a spent budget, in the view or in the gauge', async () => {
    const budget = replica();
    const login = bareLogin();
    const spentBefore = await budget.countSpent(h.db);
    for (let i = 0; i < 3; i++) await budget.reserve(system, login, undefined);
    expect(budget.viewOf((await budget.rowsOf([{ ...login, id: 'x' }])).get('x') ?? null)).toMatchObject({
      attemptsUsed: 3,
      inProgress: 3,
      spent: false,
      stopped: null,
    });
    // A fourth attempt is still refused: the places are held.
    await expect(budget.reserve(system, login, undefined)).rejects.toMatchObject({
      type: 'login-budget-spent',
    });
    expect(await budget.countSpent(h.db)).toBe(spentBefore);
  });

  it('gives the attempt back when the test call throws before anything is sent', async () => {
    const id = await credential('clinic', THROWS);
    const broken = h.buildApp({
      stsClientFactory: () => {
        throw new Error('the STS client could not be built');
      },
    });
    const answer = await broken.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/test`,
      headers: manage('clinic'),
    });
    expect(answer.statusCode).toBe(500);
    expect((await get('clinic', id)).loginBudget).toMatchObject({ attemptsUsed: 0, inProgress: 0 });
  });
});

describe('the failed-login budget across a master key rotation', () => {
  // A database of its own: the rotation moves every login row to a key the other stories' app lacks.
  const rotationDatabase = useTestDatabase();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ databaseUrl: rotationDatabase.url, redisUrl: redisDatabase.url });
  });
  afterAll(() => h.close());
  const replica = (keyring = h.keyring) =>
    createLoginBudget({ db: createDatabase(h.pool), clock: h.clock, keyring, metrics: h.metrics, budget: 3 });
  const system = {
    scope: { kind: 'tenant' as const, tenantId: 'clinic' },
    actor: { kind: 'system' as const, id: 'test' },
  };
  async function credential(tenantId: string, user: Account): Promise<string> {
    const created = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: h.auth({ tenantId, scopes: MANAGE }),
      payload: {
        label: user.username,
        environment: 'test',
        kind: 'basic',
        user: user.username,
        password: user.password,
        pincode: user.pincode,
        owner: { taxCode: user.username },
        vatNumbers: ['00265910661'],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    return created.json().credential.id;
  }

  it('keeps its counts and failed passwords across a master key rotation', async () => {
    const id = await credential('clinic', ACCOUNT_ROTATED);
    const row = { id, tenantId: 'clinic', environment: 'test', stsUser: ACCOUNT_ROTATED.username };
    // A failed login counted under the old key (v1, the harness's).
    const old = replica();
    const reservation = await old.reserve(system, row, Buffer.from('Sbagliata.V1'));
    await old.settle(system, row, reservation!, {
      judgement: 'failed-login',
      outcome: 'wrong-or-expired-password',
      password: Buffer.from('Sbagliata.V1'),
    });
    // v2 becomes active on every replica: the row is found under v1, and the rotation moves it.
    const v2 = newMasterKey();
    const both = createKeyring(
      new Map([
        ['v1', h.keyring.key('v1')],
        ['v2', v2],
      ]),
      'v2',
    );
    const during = replica(both);
    expect(during.viewOf((await during.rowsOf([row])).get(id)!)).toMatchObject({ attemptsUsed: 1 });
    // A login no credential holds any more cannot be moved: it is counted as left behind.
    const orphan = { id: null, tenantId: 'clinic', environment: 'test', stsUser: 'NO-CREDENTIAL-LEFT' };
    await old.reserve(system, orphan, undefined);
    expect(await during.rekeyAll()).toEqual({ moved: 1, leftUnderOlderKeys: 1 });
    expect(await during.rekeyAll()).toEqual({ moved: 0, leftUnderOlderKeys: 1 });
    // v1 leaves the configuration: the count is still there.
    const after = replica(createKeyring(new Map([['v2', v2]]), 'v2'));
    expect(after.viewOf((await after.rowsOf([row])).get(id)!)).toMatchObject({ attemptsUsed: 1 });
    // While v1 was still configured, the password hashed under it was known to fail.
    await expect(during.reserve(system, row, Buffer.from('Sbagliata.V1'))).rejects.toMatchObject({
      type: 'password-known-to-fail',
    });
  });
});

describe('CREDENTIALS_LOGIN_FAILURE_BUDGET', () => {
  const budget = (value?: string) => {
    const result = credentialsConfigSchema.shape.CREDENTIALS_LOGIN_FAILURE_BUDGET.safeParse(value);
    return result.success ? result.data : result.error.issues[0]?.message;
  };

  it('is 1 to 5, 3 by default, and says why', () => {
    expect(budget()).toBe(3);
    expect(budget('5')).toBe(5);
    expect(budget('6')).toMatch(/about 8 wrong passwords/);
    expect(budget('0')).toMatch(/1 to 5/);
  });
});

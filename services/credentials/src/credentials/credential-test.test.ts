import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStsClient } from '../../../../packages/sts/src/soap/sts-client.ts';
import { readCredentialEvents } from '../events/credential-events.ts';
import { type Harness, MANAGE, simulatorAdmin, startHarness } from '../test-support/harness.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/** Accounts on the simulator, one per outcome, so no test disturbs another's login counters. */
const ACCOUNTS = {
  valid: { username: 'RSSMRA85T10A562S', password: 'Segreta.2026', pincode: '3141592653' },
  wrongPassword: { username: 'VRDGPP80A41H501Y', password: 'Giusta.2026', pincode: '2718281828' },
  expired: { username: 'BNCLRA92M65F205Q', password: 'Vecchia.2026', pincode: '1414213562', expired: true },
  wrongPincode: { username: 'FRRLCU01E22L219A', password: 'Buona.2026', pincode: '1732050807' },
  wrongOwner: { username: 'NREMNL75P03Z133A', password: 'Buona.2027', pincode: '2236067977' },
  locked: { username: 'GLLNNA63S50D969U', password: 'Buona.2028', pincode: '2645751311' },
  unreachable: { username: 'MRNLGU70A01H501X', password: 'Buona.2029', pincode: '3316624790' },
  delegate: {
    username: 'DLGT0001',
    password: 'Delega.2026',
    pincode: '1618033988',
    kind: 'delegate',
    delegators: [{ taxCode: 'RSSMRA85T10A562S' }],
  },
} as const;

describe('credential test against the STS simulator', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      simulator: {
        includeKitUsers: true,
        users: Object.values(ACCOUNTS).map((account) => ({
          kind: 'professional' as const,
          ...account,
          delegators: 'delegators' in account ? [...account.delegators] : [],
        })),
      },
      policy: { testPauseAfterFailureMs: 60 * 60_000 },
    });
  });
  afterAll(() => h.close());

  const manage = () => h.auth({ tenantId: 'clinic', scopes: MANAGE });
  async function credential(
    account: { username: string; password: string; pincode: string },
    overrides: Record<string, unknown> = {},
  ): Promise<string> {
    const response = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: {
        label: `${account.username}-${Math.random()}`,
        environment: 'test',
        kind: 'basic',
        user: account.username,
        password: account.password,
        pincode: account.pincode,
        owner: { taxCode: account.username },
        vatNumbers: ['00265910661'],
        ...overrides,
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json().credential.id;
  }
  const test = (id: string) =>
    h.app.inject({ method: 'POST', url: `/internal/v1/credentials/${id}/test`, headers: manage() });
  const get = async (id: string) =>
    (await h.app.inject({ method: 'GET', url: `/internal/v1/credentials/${id}`, headers: manage() })).json();
  const failedAttempts = async (username: string) =>
    (await simulatorAdmin(h.simulator!, 'GET', `/users/${username}`)).json.failedAttempts;

  it('valid: the STS accepts user, password and pincode', async () => {
    const id = await credential(ACCOUNTS.valid);
    const response = await test(id);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      outcome: 'valid',
      status: 'valid',
      usable: true,
      remedy: { it: expect.any(String), en: expect.stringContaining('works') },
      testsPausedUntil: null,
    });
    expect(await get(id)).toMatchObject({ status: 'valid', lastTest: { outcome: 'valid' } });
    const events = await readCredentialEvents(h.redis);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'credential.status-changed',
        credentialId: id,
        status: 'valid',
        usable: 'true',
      }),
    );
  });

  it('kit users of the official kit work too (test environment identifiers)', async () => {
    const id = await credential({
      username: 'PROVAX00X00X000Y',
      password: 'Salve123',
      pincode: '1234567890',
    });
    expect((await test(id)).json().outcome).toBe('valid');
  });

  it('Entratel intermediaries are tested on the /entrate/ endpoints with their PIN in clear', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials?test=true',
      headers: manage(),
      payload: {
        label: 'entratel',
        environment: 'test',
        kind: 'entratel',
        user: 'MSSSMN78C13C773M',
        password: 'sotcat00',
        entratelPin: '4B64AA1D',
        entratelSiteCode: '07874631000-000',
        owner: { taxCode: 'FBNFBA62S28H501F' },
        vatNumbers: ['00265910661'],
      },
    });
    expect(created.json().test).toMatchObject({ outcome: 'valid', status: 'valid' });
    const wrongPin = await h.app.inject({
      method: 'PATCH',
      url: `/internal/v1/credentials/${created.json().credential.id}?test=true`,
      headers: manage(),
      payload: { entratelPin: '4B64AA1E' },
    });
    expect(wrongPin.json().test).toMatchObject({ outcome: 'wrong-pincode', sts: { code: '113' } });
  });

  it('wrong password: invalid at once, and no second attempt until it changes or the pause ends', async () => {
    const id = await credential({ ...ACCOUNTS.wrongPassword, password: 'Sbagliata.1' });
    const response = await test(id);
    expect(response.json()).toMatchObject({
      outcome: 'wrong-or-expired-password',
      status: 'invalid',
      usable: false,
      sts: { code: 'authentication', description: 'Errore generico di autenticazione' },
      remedy: {
        it: expect.stringContaining('sistemats.it'),
        en: expect.stringContaining('change the password'),
      },
    });
    expect(await failedAttempts(ACCOUNTS.wrongPassword.username)).toBe(1);
    const events = await readCredentialEvents(h.redis);
    expect(events).toContainEqual(
      expect.objectContaining({
        credentialId: id,
        status: 'invalid',
        usable: 'false',
        reason: 'wrong-or-expired-password',
      }),
    );

    const again = await test(id);
    expect(again.statusCode).toBe(409);
    expect(again.json().type).toContain('test-paused');
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(3000);
    expect(await failedAttempts(ACCOUNTS.wrongPassword.username)).toBe(1);

    // After the configured pause, a test may run again (still wrong: still one more attempt only).
    h.clock.advance(61 * 60_000);
    expect((await test(id)).json().outcome).toBe('wrong-or-expired-password');
    expect(await failedAttempts(ACCOUNTS.wrongPassword.username)).toBe(2);

    // The clinic enters the right password: the pause is lifted and the test goes green.
    const fixed = await h.app.inject({
      method: 'PATCH',
      url: `/internal/v1/credentials/${id}?test=true`,
      headers: manage(),
      payload: { password: ACCOUNTS.wrongPassword.password },
    });
    expect(fixed.json()).toMatchObject({
      credential: { status: 'untested' },
      test: { outcome: 'valid', status: 'valid' },
    });
    expect(await failedAttempts(ACCOUNTS.wrongPassword.username)).toBe(0);
  });

  it('expired password: status expired, tests paused until the password changes', async () => {
    const id = await credential(ACCOUNTS.expired);
    const response = await test(id);
    expect(response.json()).toMatchObject({
      outcome: 'wrong-or-expired-password',
      status: 'expired',
      sts: { code: 'password-expired', description: 'Password scaduta' },
      remedy: { it: expect.stringContaining('scaduta'), en: expect.stringContaining('expired') },
      testsPausedUntil: 'until-changed',
    });
    h.clock.advance(7 * 86_400_000);
    expect((await test(id)).statusCode).toBe(409);
  });

  it('wrong pincode: the STS answers code 104', async () => {
    const id = await credential({ ...ACCOUNTS.wrongPincode, pincode: '1000000001' });
    expect((await test(id)).json()).toMatchObject({
      outcome: 'wrong-pincode',
      status: 'invalid',
      sts: { code: '104' },
      remedy: { it: expect.stringContaining('pincode'), en: expect.stringContaining('pincode') },
    });
  });

  it('wrong user or codice fiscale: the owner is not the user (code 110)', async () => {
    const id = await credential(ACCOUNTS.wrongOwner, { owner: { taxCode: 'RSSMRA85T10A562S' } });
    const body = (await test(id)).json();
    expect(body).toMatchObject({ outcome: 'wrong-user', status: 'invalid', sts: { code: '110' } });
    expect(body.remedy.en).toMatch(/codice fiscale/);
  });

  it('not authorised: a delegate without a delegation from this owner (code 105)', async () => {
    const id = await credential(ACCOUNTS.delegate, { owner: { taxCode: 'VRDGPP80A41H501Y' } });
    expect((await test(id)).json()).toMatchObject({
      outcome: 'not-authorised',
      status: 'invalid',
      sts: { code: '105' },
    });
    const allowed = await credential(ACCOUNTS.delegate, { owner: { taxCode: 'RSSMRA85T10A562S' } });
    expect((await test(allowed)).json().outcome).toBe('valid');
  });

  it('account locked: only the issuing body can unlock it; no test until the credential changes', async () => {
    const { username, password, pincode } = ACCOUNTS.locked;
    // Somebody else (another program, a person) locked it with eight wrong passwords.
    const stranger = createStsClient({
      baseUrl: h.simulator!.url,
      auth: { user: username, password: 'nope' },
    });
    for (let i = 0; i < 8; i++)
      await stranger.getOutcomes({ encryptedPincode: 'x', from: '2026-01-01', to: '2026-01-01' });
    stranger.close();
    const id = await credential({ username, password, pincode });
    const body = (await test(id)).json();
    expect(body).toMatchObject({
      outcome: 'account-locked',
      status: 'invalid',
      testsPausedUntil: 'until-changed',
      remedy: { it: expect.stringContaining('ASL'), en: expect.stringContaining('issuing') },
    });
    expect((await get(id)).statusReason).toBe('account-locked');
    h.clock.advance(30 * 86_400_000);
    expect((await test(id)).statusCode).toBe(409);
  });

  it('STS unreachable: says nothing about the credential, whose status does not change', async () => {
    const id = await credential(ACCOUNTS.unreachable);
    await simulatorAdmin(h.simulator!, 'POST', '/faults', {
      kind: 'http-503',
      user: ACCOUNTS.unreachable.username,
    });
    const body = (await test(id)).json();
    expect(body).toMatchObject({
      outcome: 'sts-unreachable',
      status: 'untested',
      usable: false,
      testsPausedUntil: null,
    });
    expect(body.remedy.en).toMatch(/did not answer/);
    await simulatorAdmin(h.simulator!, 'DELETE', '/faults');
    expect((await test(id)).json().outcome).toBe('valid');

    // Nothing listening at all: the same answer.
    const nowhere = h.buildApp({
      stsClientFactory: (await import('../sts/sts-client-factory.ts')).createStsClientFactory({
        baseUrls: { test: 'http://127.0.0.1:9', production: 'http://127.0.0.1:9' },
      }),
    });
    const response = await nowhere.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/test`,
      headers: manage(),
    });
    expect(response.json()).toMatchObject({ outcome: 'sts-unreachable', status: 'valid' });
  });

  it('never runs two tests of one credential at once', async () => {
    const id = await credential(ACCOUNTS.valid);
    await simulatorAdmin(h.simulator!, 'POST', '/faults', {
      kind: 'latency',
      latencyMs: 300,
      user: ACCOUNTS.valid.username,
      count: 1,
    });
    const [first, second] = await Promise.all([test(id), test(id)]);
    const codes = [first.statusCode, second.statusCode].sort();
    expect(codes).toEqual([200, 409]);
    const refused = first.statusCode === 409 ? first : second;
    expect(refused.json().type).toContain('test-in-progress');
  });
});

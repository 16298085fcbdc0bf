import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createStsClient, encryptPincode } from '@sts/sts';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  KIT_ENTRATEL_CREDENTIAL,
  MANAGE,
  simulatorAdmin,
  startHarness,
} from '../../test-support/harness.ts';
import { readCredentialEvents } from '../events/credential-events.ts';
import { createStsClientFactory, type StsFailure } from '../sts/sts-client-factory.ts';
import { classifyStsFailure, failureInAnswer } from './credential-test.ts';

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
  closeTests: { username: 'PLLLSS90B12F839E', password: 'Buona.2030', pincode: '3605551275' },
  delegate: {
    username: 'DLGT0001',
    password: 'Delega.2026',
    pincode: '1618033988',
    kind: 'delegate',
    delegators: [{ taxCode: 'RSSMRA85T10A562S' }],
  },
} as const;

/** An HTTP proxy in front of `target` that keeps every request body it forwards. */
async function recordingProxy(target: string) {
  const bodies: string[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.push(body.toString('utf8'));
      const upstream = request(
        new URL(incoming.url ?? '/', target),
        { method: incoming.method, headers: incoming.headers },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      upstream.on('error', () => outgoing.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

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
    (await h.app.inject({ method: 'GET', url: `/internal/v1/credentials/${id}`, headers: manage() })).json()
      .credential;
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
      tests: { pausedUntil: null, pausedReason: null },
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
      payload: KIT_ENTRATEL_CREDENTIAL,
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

  it("sends an Entratel credential's codice fiscale-sede as opzionale1 on the test call, and nobody else's", async () => {
    const proxy = await recordingProxy(h.simulator!.url);
    const app = h.buildApp({
      stsClientFactory: createStsClientFactory({ baseUrls: { test: proxy.url, production: proxy.url } }),
    });
    const create = (payload: Record<string, unknown>) =>
      app.inject({
        method: 'POST',
        url: '/internal/v1/credentials?test=true',
        headers: manage(),
        payload: { environment: 'test', vatNumbers: ['00265910661'], ...payload },
      });
    const entratel = await create({
      label: 'entratel-site',
      kind: 'entratel',
      user: 'MSSSMN78C13C773M',
      password: 'sotcat00',
      entratelPin: '4B64AA1D',
      entratelSiteCode: '07874631000-000',
      owner: { taxCode: 'FBNFBA62S28H501F' },
    });
    expect(entratel.json().test?.outcome, entratel.body).toBe('valid');
    const optional1 = /<(?:\w+:)?opzionale1>([^<]*)<\/(?:\w+:)?opzionale1>/;
    expect(proxy.bodies.map((body) => optional1.exec(body)?.[1])).toEqual(['07874631000-000']);

    const basic = await create({
      label: 'basic-no-site',
      kind: 'basic',
      user: ACCOUNTS.valid.username,
      password: ACCOUNTS.valid.password,
      pincode: ACCOUNTS.valid.pincode,
      owner: { taxCode: ACCOUNTS.valid.username },
    });
    expect(basic.json().test?.outcome, basic.body).toBe('valid');
    expect(proxy.bodies).toHaveLength(2);
    expect(proxy.bodies[1]).not.toMatch(/opzionale1/);
    await proxy.close();
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

    // A change that is saved while tests are paused: the answer is the change's, the refused test a
    // part of it, so neither `Retry-After` nor the query string of the request.
    const relabelled = await h.app.inject({
      method: 'PATCH',
      url: `/internal/v1/credentials/${id}?test=true`,
      headers: manage(),
      payload: { label: 'wrong password, relabelled' },
    });
    expect(relabelled.statusCode).toBe(200);
    expect(relabelled.headers['retry-after']).toBeUndefined();
    expect(relabelled.json().testRefused).toMatchObject({
      status: 409,
      type: expect.stringContaining('test-paused'),
      instance: `/internal/v1/credentials/${id}`,
    });

    // After the configured pause, the same password is not sent again: the STS already refused it.
    h.clock.advance(61 * 60_000);
    const known = await test(id);
    expect(known.statusCode).toBe(409);
    expect(known.json().type).toContain('password-known-to-fail');
    expect(await failedAttempts(ACCOUNTS.wrongPassword.username)).toBe(1);

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
      // No end: paused until the password changes.
      tests: { pausedUntil: null, pausedReason: 'password-expired' },
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
      await stranger.getOutcomes({
        encryptedPincode: encryptPincode(h.deps.sanitel.test, pincode),
        from: '2026-01-01',
        to: '2026-01-01',
      });
    stranger.close();
    const id = await credential({ username, password, pincode });
    const body = (await test(id)).json();
    expect(body).toMatchObject({
      outcome: 'account-locked',
      status: 'invalid',
      tests: { pausedUntil: null, pausedReason: 'account-locked' },
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
      tests: { pausedUntil: null, pausedReason: null },
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

  it('two close tests make one wrong login: the second sees the pause the first left', async () => {
    const id = await credential({ ...ACCOUNTS.closeTests, password: 'Sbagliata.2' });
    // A second replica whose test stops right before taking the test lock, after its pause check.
    let arrived!: () => void;
    const atLock = new Promise<void>((resolve) => (arrived = resolve));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const redis = new Proxy(h.redis, {
      get(target, property) {
        if (property === 'set') {
          return async (...args: Parameters<typeof target.set>) => {
            arrived();
            await gate;
            return (target.set as (...a: unknown[]) => unknown)(...args);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const slow = h.buildApp({ redis });
    const second = slow.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/test`,
      headers: manage(),
    });
    await atLock;
    // Meanwhile the first test runs to its end: a wrong password, tests paused.
    expect((await test(id)).json().outcome).toBe('wrong-or-expired-password');
    open();
    const refused = await second;
    expect(refused.statusCode).toBe(409);
    expect(refused.json().type).toContain('test-paused');
    expect(await failedAttempts(ACCOUNTS.closeTests.username)).toBe(1);
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

describe('classifying STS failures', () => {
  const explanation = { it: '', en: '' };
  const login = (reason: string, faultString = 'Errore generico di autenticazione'): StsFailure => ({
    kind: 'authentication',
    reason,
    faultString,
    explanation,
  });

  it('takes every refused login as a wrong or expired password, except an expired or locked account', () => {
    for (const reason of ['authentication', 'http-401', 'http-403', 'credentials-error', 'not-known-yet']) {
      expect(classifyStsFailure(login(reason)), reason).toMatchObject({
        outcome: 'wrong-or-expired-password',
        effect: { kind: 'unusable', status: 'invalid', reason: 'wrong-or-expired-password' },
        pauseTests: 'timed',
      });
    }
    expect(classifyStsFailure(login('password-expired', 'Password scaduta'))).toMatchObject({
      outcome: 'wrong-or-expired-password',
      effect: { status: 'expired' },
      pauseTests: 'until-changed',
    });
    expect(classifyStsFailure(login('account-locked'))).toMatchObject({
      outcome: 'account-locked',
      pauseTests: 'until-changed',
    });
  });

  it('decides a lock by the reason the client gives, not by words in the text', () => {
    // The client names a locked account itself; words elsewhere do not lock a credential for good.
    expect(classifyStsFailure(login('authentication', 'utenza bloccata')).outcome).toBe(
      'wrong-or-expired-password',
    );
    expect(
      classifyStsFailure({ kind: 'credential', code: '105', description: 'delega sospesa', explanation })
        .outcome,
    ).toBe('not-authorised');
    expect(
      classifyStsFailure({
        kind: 'request-rejected',
        code: 'HTTP 400',
        description: 'utente disabilitato',
        explanation,
      }).outcome,
    ).toBe('sts-refused-request');
  });

  it('leaves a request the STS rejected as our problem, whatever its HTTP status', () => {
    for (const code of ['HTTP 401', 'HTTP 403', 'HTTP 404']) {
      expect(
        classifyStsFailure({ kind: 'request-rejected', code, description: code, explanation }),
      ).toMatchObject({ outcome: 'sts-refused-request', effect: { kind: 'unchanged' }, pauseTests: false });
    }
  });

  it('reads from a successful answer only what the client leaves in it: 109 and the internal error 200', () => {
    expect(failureInAnswer({ messages: [{ code: '109', description: '' }] })).toMatchObject({
      kind: 'credential',
      code: '109',
      description: 'DATI PROPRIETARIO FORMALMENTE ERRATI',
    });
    expect(
      classifyStsFailure(failureInAnswer({ notices: [{ code: '109', description: 'x' }] })!),
    ).toMatchObject({ outcome: 'wrong-user', pauseTests: false });
    expect(failureInAnswer({ notices: [{ code: '200', description: 'errore' }] })).toMatchObject({
      kind: 'transient',
      code: '200',
    });
    expect(failureInAnswer({ notices: [{ code: 'WS96', description: 'nessun invio' }] })).toBeUndefined();
    expect(failureInAnswer({ messages: [] })).toBeUndefined();
  });
});

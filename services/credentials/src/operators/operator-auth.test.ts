import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, createCnsCertificate, createServerCertificate } from '../../test-support/certificates.ts';
import { type Harness, MANAGE, startHarness } from '../../test-support/harness.ts';
import { httpsClient } from '../../test-support/https-client.ts';
import { cnsTaxCode } from './cns-identity.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

const ROSSI = 'RSSMRA85T10A562S';
const VERDI = 'VRDGPP80A41H501Y';
const BIANCHI = 'BNCLRA92M65F205Q';

interface Answer {
  status: number;
  json: Record<string, unknown> & { items?: { id: string; label: string }[] };
}

describe('TS-CNS operators over mutual TLS', () => {
  const cardsCa = createCa('TS-CNS Test');
  const strangerCa = createCa('Somebody Else');
  const serverCa = createCa('Credentials Service');
  const server = createServerCertificate(serverCa);
  let h: Harness;
  const ids: Record<string, string> = {};

  const client = httpsClient({ baseUrl: () => h.url!, serverCa });
  /** An HTTPS call to the service, with a client certificate or none. */
  const call = (...args: Parameters<typeof client>) => client(...args) as Promise<Answer>;

  beforeAll(async () => {
    h = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      listen: true,
      operatorTls: {
        cert: server.certificatePem,
        key: server.privateKeyPem,
        clientCa: cardsCa.certificatePem,
      },
    });
    // The clinic (through the gateway, with a service token over the same HTTPS port, no client
    // certificate) registers credentials of three doctors; Verdi's is a delegation from Rossi.
    const credentials = [
      { label: 'rossi', user: ROSSI, owner: ROSSI },
      { label: 'verdi-for-rossi', user: VERDI, owner: ROSSI },
      { label: 'bianchi', user: BIANCHI, owner: BIANCHI },
    ];
    for (const { label, user, owner } of credentials) {
      const created = await call('POST', '/internal/v1/credentials', {
        headers: h.auth({ tenantId: 'clinic', scopes: MANAGE }),
        body: {
          label,
          environment: 'production',
          kind: 'basic',
          user,
          password: 'Operator.Pw.1',
          pincode: '6060606060',
          owner: { taxCode: owner },
          vatNumbers: ['12345678903'],
        },
      });
      expect(created.status).toBe(201);
      ids[label] = (created.json.credential as { id: string }).id;
    }
  });
  afterAll(() => h.close());

  it.each([
    ['RSA 1024, codice fiscale in the common name', { bits: 1024 as const }],
    ['RSA 2048, codice fiscale in the common name', { bits: 2048 as const }],
    [
      'serialNumber IT:<CF>, a name in the common name',
      { commonName: 'MARIO ROSSI', serialNumber: `IT:${ROSSI}` },
    ],
    [
      'serialNumber TINIT-<CF>',
      { commonName: 'ROSSI MARIO', serialNumber: `TINIT-${ROSSI}`, bits: 2048 as const },
    ],
  ])('a card certificate (%s) sees only the credentials of its codice fiscale', async (_name, variant) => {
    const card = createCnsCertificate({ ca: cardsCa, taxCode: ROSSI, ...variant });
    const list = await call('GET', '/operator/v1/credentials', { card });
    expect(list.status).toBe(200);
    expect(list.json.items!.map((c) => c.label).sort()).toEqual(['rossi', 'verdi-for-rossi']);
  });

  it('lets the operator change and test their own credential, audited under their codice fiscale', async () => {
    const card = createCnsCertificate({ ca: cardsCa, taxCode: BIANCHI, bits: 2048 });
    const changed = await call('PATCH', `/operator/v1/credentials/${ids.bianchi}`, {
      card,
      body: { password: 'Nuova.Password.2' },
      headers: { 'x-audit-reason': 'password changed on the portal' },
    });
    expect(changed.status).toBe(200);
    expect(changed.json.credential).toMatchObject({
      status: 'untested',
      secrets: { password: { set: true } },
    });
    const tested = await call('POST', `/operator/v1/credentials/${ids.bianchi}/test`, { card });
    expect(tested.json.outcome).toBe('sts-unreachable');
    const audit = await h.pool.query(
      `select action, actor_kind, actor, reason from credentials.audit_log where credential_id = $1 and actor_kind = 'operator' order by id`,
      [ids.bianchi],
    );
    expect(audit.rows).toEqual([
      {
        action: 'credential.updated',
        actor_kind: 'operator',
        actor: `operator:${BIANCHI}`,
        reason: 'password changed on the portal',
      },
      { action: 'credential.tested', actor_kind: 'operator', actor: `operator:${BIANCHI}`, reason: null },
    ]);
  });

  it('lets an operator change only secrets and passwordChangedAt: anything else is 403, naming the field', async () => {
    const card = createCnsCertificate({ ca: cardsCa, taxCode: ROSSI, bits: 2048 });
    const patch = (body: Record<string, unknown>) =>
      call('PATCH', `/operator/v1/credentials/${ids.rossi}`, { card, body });
    const before = (await call('GET', `/operator/v1/credentials/${ids.rossi}`, { card })).json;
    for (const [field, value] of [
      ['owner', { taxCode: VERDI }],
      ['vatNumbers', ['00265910661']],
      ['sendingMode', 'realtime'],
      ['pacing', { requestsPerMinute: 60 }],
      ['label', 'mine now'],
      ['user', VERDI],
      ['passwordValidityDays', 365],
    ] as const) {
      const refused = await patch({ password: 'Operator.Pw.2', [field]: value });
      expect(refused.status, field).toBe(403);
      expect(refused.json.type).toContain('forbidden');
      expect(refused.json.detail).toContain(field);
      expect(refused.json.errors).toEqual([
        expect.objectContaining({ field, rule: 'operator-may-not-change' }),
      ]);
    }
    // Nothing moved, the password included.
    expect((await call('GET', `/operator/v1/credentials/${ids.rossi}`, { card })).json).toEqual(before);
    const allowed = await patch({
      password: 'Operator.Pw.2',
      pincode: '6060606061',
      passwordChangedAt: '2026-02-01',
    });
    expect(allowed.status).toBe(200);
    expect(allowed.json.credential).toMatchObject({ secrets: { pincode: { hint: '••••••••61' } } });
    // The clinic still changes its configuration through the gateway.
    const clinic = await call('PATCH', `/internal/v1/credentials/${ids.rossi}`, {
      headers: h.auth({ tenantId: 'clinic', scopes: MANAGE }),
      body: { sendingMode: 'realtime' },
    });
    expect(clinic.status).toBe(200);
  });

  it("answers 404 for a credential that is not the operator's (codice fiscale mismatch)", async () => {
    const card = createCnsCertificate({ ca: cardsCa, taxCode: BIANCHI });
    for (const [method, suffix] of [
      ['GET', ''],
      ['PATCH', ''],
      ['POST', '/test'],
    ] as const) {
      const answer = await call(method, `/operator/v1/credentials/${ids.rossi}${suffix}`, {
        card,
        ...(method === 'PATCH' ? { body: { password: 'Stolen.1' } } : {}),
      });
      expect(answer.status, `${method} ${suffix}`).toBe(404);
    }
    const someoneElse = createCnsCertificate({ ca: cardsCa, taxCode: 'GLLNNA63S50D969U' });
    expect((await call('GET', '/operator/v1/credentials', { card: someoneElse })).json.items).toEqual([]);
  });

  it('refuses a certificate from another CA', async () => {
    const card = createCnsCertificate({ ca: strangerCa, taxCode: ROSSI });
    const answer = await call('GET', '/operator/v1/credentials', { card });
    expect(answer.status).toBe(401);
    expect(answer.json.detail).toMatch(/not issued by a CA this service trusts/);
  });

  it('refuses an expired certificate', async () => {
    const card = createCnsCertificate({
      ca: cardsCa,
      taxCode: ROSSI,
      notBefore: new Date(Date.now() - 400 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const answer = await call('GET', '/operator/v1/credentials', { card });
    expect(answer.status).toBe(401);
    expect(answer.json.detail).toMatch(/expired/);
  });

  it('refuses a connection without a card, and a card without a codice fiscale', async () => {
    const none = await call('GET', '/operator/v1/credentials');
    expect(none.status).toBe(401);
    expect(none.json.detail).toMatch(/CNS/);
    const nameless = createCnsCertificate({ ca: cardsCa, taxCode: ROSSI, commonName: 'MARIO ROSSI' });
    const answer = await call('GET', '/operator/v1/credentials', { card: nameless });
    expect(answer.status).toBe(401);
    expect(answer.json.detail).toMatch(/no codice fiscale/);
  });

  it('gives operators no route to create or delete, and a card no access to the internal API', async () => {
    const card = createCnsCertificate({ ca: cardsCa, taxCode: ROSSI });
    expect((await call('POST', '/operator/v1/credentials', { card, body: {} })).status).toBe(404);
    expect((await call('DELETE', `/operator/v1/credentials/${ids.rossi}`, { card })).status).toBe(404);
    expect((await call('GET', '/internal/v1/credentials', { card })).status).toBe(401);
  });
});

describe('codice fiscale from a CNS subject', () => {
  it.each([
    [{ CN: `${ROSSI}/7420000000000001.abc=` }, ROSSI],
    [{ CN: `${ROSSI.toLowerCase()}/1234` }, ROSSI],
    [{ CN: 'MARIO ROSSI', serialNumber: `IT:${ROSSI}` }, ROSSI],
    [{ CN: 'MARIO ROSSI', serialNumber: `TINIT-${ROSSI}` }, ROSSI],
    [{ CN: `${ROSSI}/1`, serialNumber: `TINIT-${ROSSI}` }, ROSSI],
  ])('reads %o', (subject, expected) => {
    expect(cnsTaxCode(subject)).toEqual({ ok: true, taxCode: expected });
  });

  it.each([
    [{ CN: 'MARIO ROSSI' }, /no codice fiscale/],
    [{ CN: `${ROSSI}/1`, serialNumber: `TINIT-${VERDI}` }, /two different/],
    [{ CN: 'RSSMRA85T10A562T/1' }, /not valid/],
    [undefined, /no codice fiscale/],
  ])('refuses %o', (subject, problem) => {
    const result = cnsTaxCode(subject);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(problem);
  });
});

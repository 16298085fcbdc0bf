import { Agent, request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import {
  createCa,
  createCnsCertificate,
  createServerCertificate,
  type Harness,
  KIT_ENTRATEL_CREDENTIAL,
  LEASE,
  MANAGE,
  REPORT,
  startHarness,
  TOKEN_KEYS,
} from '@sts/credentials/testing';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Answer,
  type FuzzRequest,
  fuzz,
  PARSER_CASES,
  type RequestSpace,
  rawExchange,
  requests,
  routesOf,
  violation,
} from './route-fuzz.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/**
 * The credentials service, every route: the internal API with a valid service token of each scope,
 * with tokens that are not (another tenant, an unknown issuer, forged claims, garbage) and with none,
 * through `inject`; the operator API over real mutual TLS with a CNS card, a stranger's card and no
 * card; and what Node's parser refuses, over TLS.
 */
const INTERNAL_RUNS = 800;
const DEEP_RUNS = 800;
const OPERATOR_RUNS = 300;

const TENANT = 'fuzz-clinic';
const DOCTOR = { username: 'FZZMRA80A01H501Q', password: 'Fuzz.Pw.1', pincode: '4812162342' };
const OPERATOR_CF = 'RSSMRA85T10A562S';

const INTERNAL_AUTH = [
  'route-scope',
  'none',
  'manage',
  'lease',
  'report',
  'lease+report',
  'manage-other-tenant',
  'unknown-issuer',
  'forged-nul-tenant',
  'forged-long-tenant',
  'garbage-bearer',
  'basic',
  'huge-bearer',
] as const;
type InternalAuth = (typeof INTERNAL_AUTH)[number];

const OPERATOR_AUTH = ['card', 'stranger-card', 'no-card'] as const;
type OperatorAuth = (typeof OPERATOR_AUTH)[number];

describe('credentials: no 5xx from input', () => {
  const cardsCa = createCa('TS-CNS Fuzz');
  const strangerCa = createCa('Not a CNS issuer');
  const serverCa = createCa('Credentials Fuzz');
  const server = createServerCertificate(serverCa);
  const card = createCnsCertificate({ ca: cardsCa, taxCode: OPERATOR_CF });
  const strangerCard = createCnsCertificate({ ca: strangerCa, taxCode: OPERATOR_CF });
  let h: Harness;
  let port: number;
  const known: Record<string, string[]> = { id: [] };
  /** The credentials every other request needs: a generated DELETE of one deletes a spare instead. */
  let kept: string[] = [];
  let spareIds: string[] = [];
  let leaseId = '';
  const agents = new Map<OperatorAuth, Agent>();

  beforeAll(async () => {
    h = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      listen: true,
      simulator: { users: [{ ...DOCTOR, kind: 'professional' }] },
      operatorTls: {
        cert: server.certificatePem,
        key: server.privateKeyPem,
        clientCa: cardsCa.certificatePem,
      },
    });
    port = Number(new URL(h.url!).port);
    const manage = h.auth({ tenantId: TENANT, scopes: MANAGE });
    const create = async (body: Record<string, unknown>, test = false) => {
      const response = await h.app.inject({
        method: 'POST',
        url: `/internal/v1/credentials${test ? '?test=true' : ''}`,
        headers: manage,
        payload: body,
      });
      expect(response.statusCode, response.body).toBe(201);
      return response.json().credential.id as string;
    };
    const tested = await create(
      {
        label: 'fuzz tested',
        environment: 'test',
        kind: 'basic',
        user: DOCTOR.username,
        password: DOCTOR.password,
        pincode: DOCTOR.pincode,
        owner: { taxCode: DOCTOR.username },
        vatNumbers: ['00265910661'],
      },
      true,
    );
    const operators = await create({
      label: 'fuzz operator',
      environment: 'production',
      kind: 'basic',
      user: OPERATOR_CF,
      password: 'Operator.Pw.1',
      pincode: '6060606060',
      owner: { taxCode: OPERATOR_CF },
      vatNumbers: ['12345678903'],
    });
    const entratel = await create({ ...KIT_ENTRATEL_CREDENTIAL, label: 'fuzz entratel' });
    // Spares, so that a generated DELETE leaves something for the requests after it.
    const spares = [];
    for (let n = 0; n < 6; n++)
      spares.push(await create({ ...KIT_ENTRATEL_CREDENTIAL, label: `fuzz spare ${n}` }));
    // The tested credential thrice: the only one that leases, so reports and leases get deep.
    known.id = [tested, tested, tested, operators, entratel, ...spares];
    kept = [tested, operators, entratel];
    spareIds = spares;
    const lease = await h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${tested}/leases`,
      headers: h.auth({ tenantId: TENANT, scopes: LEASE, issuer: 'submitter', subject: 'fuzz' }),
      payload: { purpose: 'fuzz setup' },
    });
    expect(lease.statusCode, lease.body).toBe(201);
    leaseId = lease.json().leaseId;

    const tls = {
      ca: serverCa.certificatePem,
      keepAlive: true,
      maxSockets: 4,
      ciphers: 'DEFAULT:@SECLEVEL=1',
    };
    agents.set('card', new Agent({ ...tls, cert: card.certificatePem, key: card.privateKeyPem }));
    agents.set(
      'stranger-card',
      new Agent({ ...tls, cert: strangerCard.certificatePem, key: strangerCard.privateKeyPem }),
    );
    agents.set('no-card', new Agent(tls));
  });
  afterAll(async () => {
    for (const agent of agents.values()) agent.destroy();
    await h.close();
  });

  const credentialBody = {
    label: 'fuzz doctor',
    environment: 'production',
    kind: 'basic',
    user: OPERATOR_CF,
    password: 'Segreta.2026',
    pincode: '5550123987',
    owner: { taxCode: OPERATOR_CF },
    vatNumbers: ['12345678903'],
    pacing: { maxInFlight: 1, requestsPerMinute: 30 },
    passwordChangedAt: '2026-01-15',
    passwordValidityDays: 90,
  };
  const changes = [
    { label: 'renamed' },
    { label: 'fuzz tested' },
    { password: 'Nuova.Password.3', passwordChangedAt: '2026-02-01' },
    { owner: { regionCode: '130', aslCode: '204', ssaCode: '78909', taxCode: '00265910661' } },
    { vatNumbers: ['12345678903', '00265910661'], sendingMode: 'batch', pacing: { requestsPerMinute: 60 } },
    { clientCertificate: { pkcs12: 'AAAA', passphrase: 'x' }, pincode: '1234567890' },
  ];
  const templatesFor = (prefix: string): RequestSpace<string>['templates'] => ({
    [`POST ${prefix}`]: [
      credentialBody,
      { ...KIT_ENTRATEL_CREDENTIAL },
      {
        ...credentialBody,
        kind: 'client-certificate',
        clientCertificate: { pkcs12: 'MIIB', passphrase: 'p' },
      },
    ],
    [`PATCH ${prefix}/:id`]: changes,
    [`POST ${prefix}/:id/leases`]: [{ purpose: 'upload batch 7' }],
    // Operator API only: the reason goes to audit_log.reason.
    [`POST ${prefix}/:id/login-budget/reset`]: [
      { reason: 'confirmed by phone' },
      { reason: 'confirmed by phone', forgetFailedPasswords: true },
    ],
    [`POST ${prefix}/:id/authentication-failures`]: [
      {
        leaseId: '00000000-0000-4000-8000-000000000000',
        failure: {
          kind: 'authentication',
          reason: 'wrong-password',
          faultString: 'Errore generico di autenticazione',
        },
      },
      {
        leaseId: '00000000-0000-4000-8000-000000000000',
        failure: { kind: 'credential', code: '104', description: 'pincode errato' },
      },
    ],
  });

  it(`answers ${INTERNAL_RUNS} + ${DEEP_RUNS} generated requests (valid service tokens of each scope, bad ones, none) without a 5xx`, async () => {
    const routes = routesOf(h.app);
    const internal = routes.filter((route) => route.url.startsWith('/internal/'));
    expect(internal.length).toBeGreaterThanOrEqual(8);
    const templates = templatesFor('/internal/v1/credentials');
    // The real lease id, so that failure reports reach the credential.
    for (const template of templates?.['POST /internal/v1/credentials/:id/authentication-failures'] ?? [])
      template.leaseId = leaseId;
    const authHeader = (auth: InternalAuth, route: string): Record<string, string> => {
      const submitter = { issuer: 'submitter', subject: 'fuzz-worker' };
      switch (auth) {
        case 'route-scope':
          // The scope the route accepts: what the gateway or the submitter would send.
          return authHeader(
            route.endsWith('/leases')
              ? 'lease'
              : route.endsWith('/authentication-failures')
                ? 'report'
                : 'manage',
            route,
          );
        case 'none':
          return {};
        case 'manage':
          return h.auth({ tenantId: TENANT, scopes: MANAGE });
        case 'lease':
          return h.auth({ tenantId: TENANT, scopes: LEASE, ...submitter });
        case 'report':
          return h.auth({ tenantId: TENANT, scopes: REPORT, ...submitter });
        case 'lease+report':
          return h.auth({ tenantId: TENANT, scopes: [...LEASE, ...REPORT], ...submitter });
        case 'manage-other-tenant':
          return h.auth({ tenantId: 'another-clinic', scopes: MANAGE });
        case 'unknown-issuer':
          return h.auth({ tenantId: TENANT, scopes: MANAGE, issuer: 'stranger' });
        case 'forged-nul-tenant':
          return h.handMadeAuth(TOKEN_KEYS.gateway, {
            iss: 'gateway',
            scope: 'credentials:manage',
            tid: 'fuzz\u0000clinic',
          });
        case 'forged-long-tenant':
          return h.handMadeAuth(TOKEN_KEYS.gateway, {
            iss: 'gateway',
            scope: 'credentials:manage',
            tid: 't'.repeat(5_000),
          });
        case 'garbage-bearer':
          return { authorization: 'Bearer a.b.c' };
        case 'basic':
          return { authorization: 'Basic dXNlcjpwYXNz' };
        case 'huge-bearer':
          return { authorization: `Bearer ${'x'.repeat(12_000)}` };
      }
    };
    const send = async (request: FuzzRequest<InternalAuth>): Promise<Answer> => {
      let url = request.url;
      const doomed = request.method === 'DELETE' ? kept.find((id) => url.includes(id)) : undefined;
      if (doomed) url = url.replace(doomed, spareIds.shift() ?? '00000000-0000-4000-8000-000000000000');
      const response = await h.app.inject({
        method: request.method as 'GET',
        url,
        headers: { ...request.headers, ...authHeader(request.auth, request.route) },
        ...(request.body !== undefined ? { payload: request.body } : {}),
      });
      return { statusCode: response.statusCode, headers: response.headers, body: response.body };
    };
    await fuzz(
      `credentials internal API (${internal.length} routes)`,
      requests({
        routes,
        known,
        templates,
        queryNames: ['status', 'after', 'limit', 'test'],
        auth: fc.oneof(
          { weight: 6, arbitrary: fc.constant<InternalAuth>('route-scope') },
          { weight: 4, arbitrary: fc.constantFrom(...INTERNAL_AUTH) },
        ),
        strangers: ['/__admin/users', '/internal/v1/submissions'],
      }),
      send,
      { runs: INTERNAL_RUNS },
    );
    // Deep: the right token, a credential that exists, the route's own body broken field by field.
    const bodyRoutes = internal.filter((route) => route.method === 'POST' || route.method === 'PATCH');
    await fuzz(
      `credentials internal API, deep (${bodyRoutes.length} routes that take a body)`,
      requests({
        routes: bodyRoutes,
        known: { id: kept },
        templates,
        auth: fc.constant<InternalAuth>('route-scope'),
        deep: true,
      }),
      send,
      { runs: DEEP_RUNS },
    );
  });

  it(`answers ${OPERATOR_RUNS} generated requests on the operator API over mutual TLS (CNS card, a stranger's card, none) without a 5xx`, async () => {
    const routes = routesOf(h.app).filter((route) => route.url.startsWith('/operator/'));
    expect(routes.length).toBeGreaterThanOrEqual(4);
    await fuzz(
      `credentials operator API over mutual TLS (${routes.length} routes)`,
      requests({
        routes,
        known: { id: kept },
        templates: templatesFor('/operator/v1/credentials'),
        queryNames: ['status', 'after', 'limit', 'test'],
        auth: fc.oneof(
          { weight: 4, arbitrary: fc.constant<OperatorAuth>('card') },
          { weight: 1, arbitrary: fc.constantFrom(...OPERATOR_AUTH) },
        ),
      }),
      (request: FuzzRequest<OperatorAuth>) => overHttps(request),
      { runs: OPERATOR_RUNS },
    );
    // Deep: the owner's card, a credential that exists, the route's own body broken field by field
    // (the budget reset's reason included: a NUL in it used to answer 500).
    const bodyRoutes = routes.filter((route) => route.method === 'POST' || route.method === 'PATCH');
    expect(bodyRoutes.map((route) => route.url)).toContain('/operator/v1/credentials/:id/login-budget/reset');
    await fuzz(
      `credentials operator API over mutual TLS, deep (${bodyRoutes.length} routes that take a body)`,
      requests({
        routes: bodyRoutes,
        known: { id: kept },
        templates: templatesFor('/operator/v1/credentials'),
        auth: fc.constant<OperatorAuth>('card'),
        deep: true,
      }),
      (request: FuzzRequest<OperatorAuth>) => overHttps(request),
      { runs: OPERATOR_RUNS },
    );
  });

  /** Sends a request as Node's client can: path and header values made of what HTTP allows. */
  function overHttps(request: FuzzRequest<OperatorAuth>): Promise<Answer> {
    const printable = (value: string) =>
      [...value]
        .map((char) =>
          /[\x21-\x7e]/.test(char) ? char : [...Buffer.from(char)].map((b) => `%${b.toString(16)}`).join(''),
        )
        .join('');
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [
        name,
        // biome-ignore lint/suspicious/noControlCharactersInRegex: what a header value may not hold
        value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]|[^\u0000-\u00ff]/g, '?'),
      ]),
    );
    // Framed by content-length whatever the method (Node's client would send a TRACE body unframed).
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          method: request.method,
          path: printable(request.url),
          headers,
          agent: agents.get(request.auth),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              statusCode: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks).toString(),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(request.body);
    });
  }

  it.each(PARSER_CASES.filter((c) => c.name !== 'garbage'))(
    'answers $name over TLS, refused by the HTTP parser, with a 4xx problem',
    async ({ raw }) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: serverCa.certificatePem,
      });
      await new Promise((resolve) => socket.once('secureConnect', resolve));
      const answer = await rawExchange(socket as never, raw('/internal/v1/credentials'));
      expect(answer.statusCode).toBeGreaterThanOrEqual(400);
      expect(violation({ method: 'GET' }, answer)).toBeUndefined();
    },
  );
});

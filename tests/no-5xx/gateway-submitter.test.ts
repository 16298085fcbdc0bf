import { connect } from 'node:net';
import { buildApp as buildGateway } from '@sts/gateway';
import { CLINIC_VAT_NUMBER, gatewayAccounts, invoiceEvent, testInvoiceDeps } from '@sts/gateway/testing';
import { createLogger, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { buildApp as buildSubmitter } from '@sts/submitter';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, fuzz, PARSER_CASES, rawExchange, requests, routesOf, violation } from './route-fuzz.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

// The submitter serves /health and /metrics so far, the gateway those and its public API (/v1/whoami
// behind API keys); the property holds for them, for every path they do not serve, and for what
// Node's parser refuses.
const RUNS = 300;

/** How a request authenticates: no header, or an API key that is good, revoked, wrong or no key at all. */
const AUTH = [
  'none',
  'valid',
  'revoked',
  'disabled-tenant',
  'wrong-secret',
  'unknown-prefix',
  'garbage-bearer',
  'basic',
  'huge-bearer',
] as const;
type Auth = (typeof AUTH)[number];
type AuthHeaders = (auth: Auth) => Record<string, string>;

/** The gateway with invoice intake (credentials of the fuzzed tenant from a map, no relay). */
const invoiceDeps = testInvoiceDeps();
const buildGatewayWithInvoices = (deps: Parameters<typeof buildGateway>[0]) =>
  buildGateway({ ...deps, invoices: invoiceDeps.invoices, patientHasher: invoiceDeps.patientHasher });

/** Tenants and keys of every kind, made with the gateway's own services. */
async function gatewayAuth(pool: Pool): Promise<AuthHeaders> {
  const { tenants, apiKeys } = gatewayAccounts(pool);
  const live = await tenants.create({ name: 'Fuzz clinic' });
  invoiceDeps.credentials.set(live.tenant.id, [
    { id: '3d1c0f4e-8a2b-4c6d-9e0f-1a2b3c4d5e6f', environment: 'test', vatNumbers: [CLINIC_VAT_NUMBER] },
  ]);
  const revoked = await apiKeys.create(live.tenant.id, { scopes: ['invoices:read'], label: 'revoked' });
  await apiKeys.revoke(revoked.apiKey.id);
  const disabled = await tenants.create({ name: 'Fuzz clinic, disabled' });
  await tenants.disable(disabled.tenant.id);
  const keys: Record<Auth, string | undefined> = {
    none: undefined,
    valid: `Bearer ${live.firstKey.key}`,
    revoked: `Bearer ${revoked.key}`,
    'disabled-tenant': `Bearer ${disabled.firstKey.key}`,
    'wrong-secret': `Bearer sts_${live.firstKey.apiKey.prefix}_${'A'.repeat(43)}`,
    'unknown-prefix': `Bearer sts_0123456789abcdef_${'A'.repeat(43)}`,
    'garbage-bearer': 'Bearer a.b.c',
    basic: 'Basic dXNlcjpwYXNz',
    'huge-bearer': `Bearer ${'x'.repeat(12_000)}`,
  };
  return (auth): Record<string, string> => {
    const header = keys[auth];
    return header ? { authorization: header } : {};
  };
}

describe.each([
  {
    name: 'gateway',
    build: buildGatewayWithInvoices,
    auth: gatewayAuth,
    own: ['GET /v1/whoami', 'POST /v1/invoices', 'POST /v1/invoices/batch'],
  },
  {
    name: 'submitter',
    build: buildSubmitter,
    auth: async (): Promise<AuthHeaders> => () => ({}),
    own: [] as string[],
  },
])('$name: no 5xx from input', ({ name, build, auth, own }) => {
  let pool: Pool;
  let redis: Redis;
  let app: ReturnType<typeof buildGateway>;
  let port: number;
  let authHeaders: AuthHeaders;
  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: `no-5xx-${name}` });
    redis = createRedis(redisDatabase.url, `no-5xx-${name}`);
    authHeaders = await auth(pool);
    app = build({ logger: createLogger({ name, level: 'silent' }), pool, redis });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
  });

  it(`answers ${RUNS} generated requests over every route without a 5xx, errors as problem+json`, async () => {
    const routes = routesOf(app);
    expect(routes.map((route) => `${route.method} ${route.url}`)).toEqual(
      expect.arrayContaining(['GET /health', 'GET /metrics', ...own]),
    );
    await fuzz(
      `${name} (${routes.length} routes)`,
      requests({
        routes,
        auth: fc.oneof(
          { weight: 3, arbitrary: fc.constant<Auth>('valid') },
          { weight: 4, arbitrary: fc.constantFrom(...AUTH) },
        ),
        strangers: [
          '/internal/v1/credentials',
          '/operator/v1/credentials',
          '/__admin/users',
          '/v1/invoices',
          '/v1',
        ],
      }),
      async (request): Promise<Answer> => {
        const response = await app.inject({
          method: request.method as 'GET',
          url: request.url,
          headers: { ...request.headers, ...authHeaders(request.auth) },
          ...(request.body !== undefined ? { payload: request.body } : {}),
        });
        return { statusCode: response.statusCode, headers: response.headers, body: response.body };
      },
      { runs: RUNS },
    );
    // The gateway's public API, deterministically: /v1/whoami for every kind of key.
    if (own.includes('GET /v1/whoami')) {
      const expected: Record<Auth, number> = {
        none: 401,
        valid: 200,
        revoked: 401,
        'disabled-tenant': 403,
        'wrong-secret': 401,
        'unknown-prefix': 401,
        'garbage-bearer': 401,
        basic: 401,
        'huge-bearer': 401,
      };
      for (const kind of AUTH) {
        for (const method of ['GET', 'HEAD'] as const) {
          const response = await app.inject({ method, url: '/v1/whoami', headers: authHeaders(kind) });
          expect(response.statusCode, `${method} ${kind}: ${response.body}`).toBe(expected[kind]);
          expect(violation({ method }, response)).toBeUndefined();
        }
      }
    }
  });

  // The gateway's invoice routes, with bodies a generator rarely makes (registered for it only).
  if (name === 'gateway')
    it('answers strange invoice bodies with a 4xx problem or an answer per item', async () => {
      const good = JSON.stringify(invoiceEvent(1));
      const cases: { url: string; type: string; body: string }[] = [
        { url: '/v1/invoices', type: 'application/json', body: '' },
        { url: '/v1/invoices', type: 'application/json', body: 'null' },
        { url: '/v1/invoices', type: 'application/json', body: '[]' },
        { url: '/v1/invoices', type: 'application/json', body: '"insert"' },
        {
          url: '/v1/invoices',
          type: 'application/json',
          body: '{"operation":"insert","document":{"__proto__":{"x":1}}}',
        },
        {
          url: '/v1/invoices',
          type: 'application/json',
          body: good.replace('FT2026/1', 'FT\\u0000<&>\\ud800'),
        },
        {
          url: '/v1/invoices',
          type: 'application/json',
          body: good.replace('FT2026/1', 'FT\u200b2026\uff11'),
        },
        { url: '/v1/invoices', type: 'application/json', body: good.replace('"SR"', '{"$gt":""}') },
        {
          url: '/v1/invoices',
          type: 'application/json',
          body: good.replace('"120.00"', '1e308').replace(/"amount":"[^"]*"/, '"amount":1e308'),
        },
        { url: '/v1/invoices', type: 'text/plain', body: good },
        { url: '/v1/invoices', type: 'application/x-ndjson', body: good },
        { url: '/v1/invoices/batch', type: 'application/json', body: '{"events":{}}' },
        { url: '/v1/invoices/batch', type: 'application/json', body: '{"events":[null,1,"x",[]]}' },
        { url: '/v1/invoices/batch', type: 'application/x-ndjson', body: '' },
        { url: '/v1/invoices/batch', type: 'application/x-ndjson', body: '\n\n\n' },
        { url: '/v1/invoices/batch', type: 'application/x-ndjson', body: `${'x'.repeat(70_000)}\n${good}\n` },
        { url: '/v1/invoices/batch', type: 'application/x-ndjson', body: `\ufeff${good}\r\n${good}` },
        { url: '/v1/invoices/batch', type: 'application/x-ndjson; charset=latin1', body: '\u00ff\u00fe{' },
        { url: '/v1/invoices/batch', type: 'text/csv', body: 'a,b\n1,2' },
      ];
      for (const { url, type, body } of cases) {
        const response = await app.inject({
          method: 'POST',
          url,
          headers: { ...authHeaders('valid'), 'content-type': type },
          payload: body,
        });
        expect(
          response.statusCode,
          `${url} ${type} ${body.slice(0, 60)}: ${response.body.slice(0, 300)}`,
        ).toBeLessThan(500);
        expect(violation({ method: 'POST' }, response)).toBeUndefined();
      }
    });

  it.each(PARSER_CASES)('answers $name, refused by the HTTP parser, with a 4xx problem', async ({ raw }) => {
    const answer = await rawExchange(connect(port, '127.0.0.1'), raw('/health'));
    expect(answer.statusCode).toBeGreaterThanOrEqual(400);
    expect(violation({ method: 'GET' }, answer)).toBeUndefined();
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import {
  createLogger,
  createPool,
  createRedis,
  createServiceTokenVerifier,
  INTERNAL_ROUTES,
  type Pool,
  type Redis,
  type ServiceTokenClaims,
  type ServiceTokenKey,
  SUBMISSION_PROOFS_SCOPE,
  type SubmissionStatus,
} from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayAccounts } from '../../test-support/index.ts';
import { insertInvoiceRow } from '../../test-support/invoice-rows.ts';
import { buildApp } from '../app.ts';
import { createSubmissionProofClient } from './submission-proof-client.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();
const logger = createLogger({ name: 'gateway', level: 'silent' });

const PROTOCOL = '26030211354512345';
const UNSENT = '26030266666666666';
const BROKEN = '26030244444444444';
const OTHERS = '26030277777777777';
const CREDENTIAL = randomUUID();

const statusOf = (protocol: string): SubmissionStatus => ({
  protocol,
  credentialId: CREDENTIAL,
  state: 'completed',
  sentAt: '2026-03-02T10:35:45.000Z',
  completedAt: '2026-03-02T11:02:10.000Z',
  documents: { total: 4, accepted: 2, acceptedWithWarnings: 1, rejected: 1, pending: 0 },
});

/**
 * A stand-in for the submitter's status route (packages/shared/src/contracts/submission-status.ts):
 * service token checked (audience submitter, issuer gateway, scope submissions:read, once), the
 * tenant from the token, 404 problems; `BROKEN` answers a body that is not the contract's.
 */
function fakeSubmitter(key: ServiceTokenKey, redis: Redis, sends: Map<string, string>) {
  const verifier = createServiceTokenVerifier({
    keys: [key],
    audience: 'submitter',
    trustedIssuers: ['gateway'],
    redis,
  });
  const calls: { url: string; claims: ServiceTokenClaims }[] = [];
  const server = createServer(async (request, response) => {
    const problem = (status: number, type: string) => {
      response.writeHead(status, { 'content-type': 'application/problem+json' });
      response.end(JSON.stringify({ type, title: type, status }));
    };
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const verified = await verifier.verify(token);
    if (!verified.ok || !verified.claims.scopes.includes(SUBMISSION_PROOFS_SCOPE))
      return problem(401, 'unauthenticated');
    calls.push({ url: request.url ?? '', claims: verified.claims });
    const match = new RegExp(`^${INTERNAL_ROUTES.submissions}/([^/]+)$`).exec(request.url ?? '');
    if (!match) return problem(404, 'not-found');
    const protocol = decodeURIComponent(match[1]!);
    if (sends.get(protocol) !== verified.claims.tenantId) return problem(404, 'not-found');
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(protocol === BROKEN ? { protocol, state: 'sent-somewhere' } : statusOf(protocol)),
    );
  });
  return { server, calls };
}

describe('GET /v1/submissions/:protocol', () => {
  let pool: Pool;
  let redis: Redis;
  let app: FastifyInstance;
  let submitter: Server;
  let calls: ReturnType<typeof fakeSubmitter>['calls'];
  const clock = testClock();
  const sends = new Map<string, string>();
  let reader: string;
  let readerKeyId: string;
  let tenantA: string;
  let writerOnly: string;
  let otherReader: string;

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-submission-status-test' });
    redis = createRedis(redisDatabase.url, 'gateway-submission-status-test');
    const key: ServiceTokenKey = {
      id: 'test-gateway',
      issuer: 'gateway',
      scopes: [SUBMISSION_PROOFS_SCOPE],
      secret: randomBytes(32),
    };
    const fake = fakeSubmitter(key, redis, sends);
    submitter = fake.server;
    calls = fake.calls;
    await new Promise<void>((resolve) => submitter.listen(0, '127.0.0.1', resolve));
    const port = (submitter.address() as { port: number }).port;

    const { tenants, apiKeys } = gatewayAccounts(pool, clock);
    const a = await tenants.create({ name: 'Clinica Stato', scopes: ['invoices:read'] });
    tenantA = a.tenant.id;
    reader = a.firstKey.key;
    readerKeyId = a.firstKey.apiKey.id;
    writerOnly = (await apiKeys.create(a.tenant.id, { scopes: ['invoices:write'] })).key;
    const b = await tenants.create({ name: 'Clinica Accanto', scopes: ['invoices:read'] });
    otherReader = b.firstKey.key;
    for (const [protocol, tenantId] of [
      [PROTOCOL, a.tenant.id],
      [UNSENT, a.tenant.id],
      [BROKEN, a.tenant.id],
      [OTHERS, b.tenant.id],
    ] as const) {
      await insertInvoiceRow(pool, { tenantId, status: 'submitted', statusSequence: 3, protocol });
      if (protocol !== UNSENT) sends.set(protocol, tenantId);
    }
    app = buildApp({
      logger,
      pool,
      redis,
      clock,
      submissionProofs: createSubmissionProofClient({ baseUrl: `http://127.0.0.1:${port}`, signingKey: key }),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await new Promise((resolve) => submitter.close(resolve));
    await pool.end();
    redis.disconnect();
  });

  const get = (path: string, key = reader) =>
    fetch(`http://127.0.0.1:${(app.server.address() as { port: number }).port}${path}`, {
      headers: { authorization: `Bearer ${key}` },
    });

  it('answers the submitter’s status with the routes of the receipt and the errors, asked for the tenant', async () => {
    const response = await get(`/v1/submissions/${PROTOCOL}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(await response.json()).toEqual({
      ...statusOf(PROTOCOL),
      receiptUrl: `/v1/submissions/${PROTOCOL}/receipt`,
      errorsUrl: `/v1/submissions/${PROTOCOL}/errors`,
    });
    expect(calls.at(-1)).toMatchObject({
      url: `${INTERNAL_ROUTES.submissions}/${PROTOCOL}`,
      claims: {
        issuer: 'gateway',
        audience: 'submitter',
        tenantId: tenantA,
        subject: `api-key:${readerKeyId}`,
        scopes: [SUBMISSION_PROOFS_SCOPE],
      },
    });
  });

  it('answers 404 for another tenant’s protocol or an unknown one without asking the submitter', async () => {
    const before = calls.length;
    for (const protocol of [OTHERS, '00000000000000000']) {
      const response = await get(`/v1/submissions/${protocol}`);
      expect(response.status, protocol).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect(calls.length).toBe(before);
    // Its own tenant gets it.
    expect((await get(`/v1/submissions/${OTHERS}`, otherReader)).status).toBe(200);
  });

  it('answers 404 when the submitter has no send of the tenant with that protocol', async () => {
    const response = await get(`/v1/submissions/${UNSENT}`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { type: string }).type).toMatch(/\/not-found$/);
  });

  it('answers 400 naming the field and the rule when the protocol is not 17 digits', async () => {
    for (const protocol of ['2603021135451234', 'abc', '9'.repeat(41), '%00']) {
      const response = await get(`/v1/submissions/${protocol}`);
      expect(response.status, protocol).toBe(400);
      expect(await response.json()).toMatchObject({
        type: expect.stringMatching(/\/invalid-request$/),
        errors: [{ field: 'protocol', rule: 'pattern', message: 'An STS protocol is 17 digits.' }],
      });
    }
  });

  it('answers 403 without invoices:read, and 503 when the submitter’s answer is not the contract’s or it is away', async () => {
    expect((await get(`/v1/submissions/${PROTOCOL}`, writerOnly)).status).toBe(403);
    const broken = await get(`/v1/submissions/${BROKEN}`);
    expect(broken.status).toBe(503);
    expect(broken.headers.get('retry-after')).toBe('5');
    const offline = buildApp({
      logger,
      pool,
      redis,
      clock,
      submissionProofs: createSubmissionProofClient({
        baseUrl: 'http://127.0.0.1:1',
        signingKey: {
          id: 'k',
          issuer: 'gateway',
          scopes: [SUBMISSION_PROOFS_SCOPE],
          secret: randomBytes(32),
        },
      }),
    });
    try {
      const response = await offline.inject({
        method: 'GET',
        url: `/v1/submissions/${PROTOCOL}`,
        headers: { authorization: `Bearer ${reader}` },
      });
      expect(response.statusCode).toBe(503);
    } finally {
      await offline.close();
    }
  });
});

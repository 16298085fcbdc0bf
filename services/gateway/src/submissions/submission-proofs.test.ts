import { randomBytes } from 'node:crypto';
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

/** A PDF big enough to arrive in several chunks: the gateway streams it, it does not buffer it whole. */
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(300_000), Buffer.from('\n%%EOF\n')]);
const CSV = Buffer.from(
  'PROTOCOLLO;CODICE ERRORE;DESCRIZIONE ERRORE\r\n26030211354512345;S011;IL CF DEL CITTADINO RISULTA FORMALMENTE ERRATO\r\n',
  'latin1',
);
const PROTOCOL = '26030211354512345';
const PENDING = '26030299999999999';

/**
 * A stand-in for the submitter's proof routes (packages/shared/src/contracts/submission-proofs.ts),
 * as the submitter will implement them: service token checked (audience submitter, issuer gateway,
 * scope submissions:read, once), the tenant from the token, 404/409 problems.
 */
function fakeSubmitter(key: ServiceTokenKey, redis: Redis, proofs: Map<string, string>) {
  const verifier = createServiceTokenVerifier({
    keys: [key],
    audience: 'submitter',
    trustedIssuers: ['gateway'],
    redis,
  });
  const calls: { url: string; claims: ServiceTokenClaims }[] = [];
  const server = createServer(async (request, response) => {
    const problem = (status: number, type: string, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
      response.end(JSON.stringify({ type, title: type, status }));
    };
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const verified = await verifier.verify(token);
    if (!verified.ok || !verified.claims.scopes.includes(SUBMISSION_PROOFS_SCOPE))
      return problem(401, 'unauthenticated');
    calls.push({ url: request.url ?? '', claims: verified.claims });
    const match = new RegExp(`^${INTERNAL_ROUTES.submissions}/([^/]+)/(receipt|errors)$`).exec(
      request.url ?? '',
    );
    if (!match) return problem(404, 'not-found');
    const protocol = decodeURIComponent(match[1]!);
    const owner = proofs.get(protocol);
    if (owner !== verified.claims.tenantId) return problem(404, 'not-found');
    if (protocol === PENDING) return problem(409, 'proof-not-ready', { 'retry-after': '120' });
    if (match[2] === 'receipt') {
      response.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(PDF.length) });
      // In pieces, as a file read from storage would come.
      for (let offset = 0; offset < PDF.length; offset += 65_536)
        response.write(PDF.subarray(offset, offset + 65_536));
      return response.end();
    }
    response.writeHead(200, { 'content-type': 'text/csv; charset=iso-8859-1' });
    response.end(CSV);
  });
  return { server, calls };
}

describe('GET /v1/submissions/:protocol/receipt and /errors', () => {
  let pool: Pool;
  let redis: Redis;
  let app: FastifyInstance;
  let submitter: Server;
  let calls: ReturnType<typeof fakeSubmitter>['calls'];
  const clock = testClock();
  const proofs = new Map<string, string>();
  let reader: string;
  let readerKeyId: string;
  let writerOnly: string;
  let otherReader: string;

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-proofs-test' });
    redis = createRedis(redisDatabase.url, 'gateway-proofs-test');
    const key: ServiceTokenKey = {
      id: 'test-gateway',
      issuer: 'gateway',
      scopes: ['credentials:manage', SUBMISSION_PROOFS_SCOPE],
      secret: randomBytes(32),
    };
    const fake = fakeSubmitter(key, redis, proofs);
    submitter = fake.server;
    calls = fake.calls;
    await new Promise<void>((resolve) => submitter.listen(0, '127.0.0.1', resolve));
    const port = (submitter.address() as { port: number }).port;

    const { tenants, apiKeys } = gatewayAccounts(pool, clock);
    const a = await tenants.create({ name: 'Clinica Ricevute', scopes: ['invoices:read'] });
    reader = a.firstKey.key;
    readerKeyId = a.firstKey.apiKey.id;
    writerOnly = (await apiKeys.create(a.tenant.id, { scopes: ['invoices:write'] })).key;
    const b = await tenants.create({ name: 'Clinica Vicina', scopes: ['invoices:read'] });
    otherReader = b.firstKey.key;
    for (const [protocol, tenantId] of [
      [PROTOCOL, a.tenant.id],
      [PENDING, a.tenant.id],
      ['26030277777777777', b.tenant.id],
    ] as const) {
      await insertInvoiceRow(pool, { tenantId, status: 'submitted', statusSequence: 3, protocol });
      proofs.set(protocol, tenantId);
    }
    app = buildApp({
      logger,
      pool,
      redis,
      clock,
      submissionProofs: createSubmissionProofClient({
        baseUrl: `http://127.0.0.1:${port}/`,
        signingKey: key,
      }),
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

  it('streams the receipt PDF through, asked for with a service token for the tenant', async () => {
    const response = await get(`/v1/submissions/${PROTOCOL}/receipt`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="receipt-${PROTOCOL}.pdf"`,
    );
    expect(Buffer.from(await response.arrayBuffer()).equals(PDF)).toBe(true);
    expect(calls.at(-1)).toMatchObject({
      url: `${INTERNAL_ROUTES.submissions}/${PROTOCOL}/receipt`,
      claims: {
        issuer: 'gateway',
        audience: 'submitter',
        tenantId: proofs.get(PROTOCOL),
        subject: `api-key:${readerKeyId}`,
        scopes: [SUBMISSION_PROOFS_SCOPE],
      },
    });
  });

  it('passes the errors CSV through with its charset', async () => {
    const response = await get(`/v1/submissions/${PROTOCOL}/errors`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=iso-8859-1');
    expect(Buffer.from(await response.arrayBuffer()).equals(CSV)).toBe(true);
  });

  it('answers 404 for another tenant’s protocol or an unknown one without asking the submitter', async () => {
    const before = calls.length;
    for (const path of [
      '/v1/submissions/26030277777777777/receipt',
      '/v1/submissions/00000000000000000/errors',
      `/v1/submissions/${'9'.repeat(41)}/receipt`,
      '/v1/submissions/%00/receipt',
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect(calls.length).toBe(before);
    // Its own tenant gets it.
    expect((await get('/v1/submissions/26030277777777777/receipt', otherReader)).status).toBe(200);
  });

  it('answers 409 with Retry-After while the STS has not produced the proof, and 403 without invoices:read', async () => {
    const pending = await get(`/v1/submissions/${PENDING}/receipt`);
    expect(pending.status).toBe(409);
    expect(pending.headers.get('retry-after')).toBe('120');
    expect(((await pending.json()) as { type: string }).type).toMatch(/\/proof-not-ready$/);
    const refused = await get(`/v1/submissions/${PROTOCOL}/receipt`, writerOnly);
    expect(refused.status).toBe(403);
  });

  it('answers 503 with Retry-After when the submitter cannot be reached', async () => {
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
        url: `/v1/submissions/${PROTOCOL}/receipt`,
        headers: { authorization: `Bearer ${reader}` },
      });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
    } finally {
      await offline.close();
    }
  });
});

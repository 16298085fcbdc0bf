import { randomBytes, randomUUID } from 'node:crypto';
import {
  createHttpApp,
  createLogger,
  createPool,
  createRedis,
  createServiceTokenSigner,
  INTERNAL_ROUTES,
  type Pool,
  type Redis,
  type ServiceTokenKey,
  SUBMISSION_PROOFS_SCOPE,
  submissionStatusPath,
  submissionStatusSchema,
} from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expenseDocument, takeIn } from '../../test-support/documents.ts';
import type { DocumentState } from '../documents/documents-table.ts';
import { createPostgresProofStore, createProofTokenVerifier } from '../proofs/index.ts';
import { transition } from '../status/document-transitions.ts';
import { submissionStatus } from './submission-status.ts';
import { registerSubmissionStatusRoutes } from './submission-status-routes.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

const COMPLETED = '26030211354512345';
const RECEIVED = '26030299999999999';
const REFUSED = '26030255555555555';
const SINGLE = '26030288888888888';
const OTHERS = '26030277777777777';

const key = (id: string, issuer: string): ServiceTokenKey => ({
  id,
  issuer,
  scopes: [SUBMISSION_PROOFS_SCOPE],
  secret: randomBytes(32),
});
const gatewayKey = key('gateway-test', 'gateway');
const submitterKey = key('submitter-test', 'submitter');

describe('GET /internal/v1/submissions/:protocol', () => {
  let pool: Pool;
  let redis: Redis;
  let app: FastifyInstance;
  const clock = testClock('2026-03-02T10:00:00Z');
  const tenantA = `tenant-${randomUUID()}`;
  const tenantB = `tenant-${randomUUID()}`;
  const credential = randomUUID();
  const singleCredential = randomUUID();
  let counter = 0;

  async function move(invoiceIds: string[], from: DocumentState[], to: DocumentState, extra = {}) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await transition(client, { invoiceIds, from, to, at: clock(), ...extra });
      await client.query('commit');
    } finally {
      client.release();
    }
  }

  /** A 730 file with a protocol, its documents in the states given (in that order). */
  async function file(tenantId: string, protocol: string, state: string, documentStates: DocumentState[]) {
    const fileId = randomUUID();
    await pool.query(
      `insert into submitter.files (id, tenant_id, credential_id, state, file_name, document_count, zip_bytes,
              protocol, sent_at, created_at, updated_at)
       values ($1, $2, $3, $4, 'f.zip', $5, 1000, $6, $7, $7, $8)`,
      [
        fileId,
        tenantId,
        credential,
        state,
        documentStates.length,
        protocol,
        new Date('2026-03-02T09:00:00Z'),
        clock(),
      ],
    );
    const ids = await takeIn(
      { pool, clock },
      tenantId,
      documentStates.map(() => ({ credentialId: credential, document: expenseDocument(counter++) })),
    );
    await move(ids, ['queued'], 'assigned', { fileId });
    for (const [index, state] of documentStates.entries())
      await pool.query('update submitter.documents set state = $2, protocol = $3 where invoice_id = $1', [
        ids[index],
        state,
        protocol,
      ]);
  }

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'submission-status-test' });
    redis = createRedis(redisDatabase.url, 'submission-status-test');
    await file(tenantA, COMPLETED, 'completed', [
      'accepted',
      'accepted',
      'accepted_with_warnings',
      'rejected',
    ]);
    await file(tenantA, RECEIVED, 'received', ['submitted', 'submitted', 'submitted']);
    await file(tenantA, REFUSED, 'rejected', ['rejected', 'rejected']);
    await file(tenantB, OTHERS, 'completed', ['accepted']);
    // A single-document send, answered with a protocol; its answer kept as proof.
    const [single] = await takeIn({ pool, clock }, tenantA, [
      { credentialId: singleCredential, document: expenseDocument(counter++) },
    ]);
    await move([single!], ['queued'], 'assigned', { submissionId: randomUUID() });
    await move([single!], ['assigned'], 'submitting');
    await createPostgresProofStore({ pool, clock }).put(tenantA, {
      kind: 'single-document-answer',
      invoiceId: single!,
      protocol: SINGLE,
      contentType: 'application/json',
      bytes: Buffer.from('{"outcome":"accepted-with-warnings"}'),
    });
    clock.advance(2_000);
    await move([single!], ['submitting'], 'accepted_with_warnings', { protocol: SINGLE });

    app = createHttpApp({ logger: createLogger({ name: 'submitter', level: 'silent' }) });
    registerSubmissionStatusRoutes(app, {
      verifier: createProofTokenVerifier({ keys: [gatewayKey, submitterKey], redis }),
      status: (tenantId, protocol) => submissionStatus(pool, tenantId, protocol),
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
  });

  const token = (options: { tenantId?: string; signWith?: ServiceTokenKey } = {}) =>
    createServiceTokenSigner({ key: options.signWith ?? gatewayKey }).sign({
      audience: 'submitter',
      tenantId: options.tenantId ?? tenantA,
      subject: 'api-key:7c0d9f3e',
      scopes: [SUBMISSION_PROOFS_SCOPE],
    });
  const get = (protocol: string, bearer: string | null = token()) =>
    app.inject({
      method: 'GET',
      url: submissionStatusPath(protocol),
      headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` },
    });

  it('answers a completed 730 file with its documents by outcome', async () => {
    const response = await get(COMPLETED);
    expect(response.statusCode).toBe(200);
    const body = submissionStatusSchema.parse(response.json());
    expect(body).toEqual({
      protocol: COMPLETED,
      credentialId: credential,
      state: 'completed',
      sentAt: '2026-03-02T09:00:00.000Z',
      completedAt: '2026-03-02T10:00:00.000Z',
      documents: { total: 4, accepted: 2, acceptedWithWarnings: 1, rejected: 1, pending: 0 },
    });
  });

  it('answers a file still being processed (no completion yet, its documents pending) and one refused whole', async () => {
    expect(submissionStatusSchema.parse((await get(RECEIVED)).json())).toMatchObject({
      state: 'received',
      completedAt: null,
      documents: { total: 3, accepted: 0, acceptedWithWarnings: 0, rejected: 0, pending: 3 },
    });
    expect(submissionStatusSchema.parse((await get(REFUSED)).json())).toMatchObject({
      state: 'rejected',
      completedAt: '2026-03-02T10:00:00.000Z',
      documents: { total: 2, rejected: 2, pending: 0 },
    });
  });

  it('answers a single-document send the same way, with one document', async () => {
    const response = await get(SINGLE);
    expect(response.statusCode).toBe(200);
    expect(submissionStatusSchema.parse(response.json())).toEqual({
      protocol: SINGLE,
      credentialId: singleCredential,
      state: 'completed',
      sentAt: '2026-03-02T10:00:00.000Z',
      completedAt: '2026-03-02T10:00:02.000Z',
      documents: { total: 1, accepted: 0, acceptedWithWarnings: 1, rejected: 0, pending: 0 },
    });
  });

  it('answers 404 for an unknown protocol, another tenant’s, or one that is not the STS’s form', async () => {
    for (const protocol of ['00000000000000000', OTHERS, '9'.repeat(41), 'abc', '\u0000']) {
      const response = await get(protocol);
      expect(response.statusCode, protocol).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    // Its own tenant gets it.
    expect((await get(OTHERS, token({ tenantId: tenantB }))).json()).toMatchObject({
      protocol: OTHERS,
      documents: { total: 1, accepted: 1 },
    });
  });

  it('refuses a request without a token, a token the submitter itself signed, and a replayed one', async () => {
    expect((await get(COMPLETED, null)).statusCode).toBe(401);
    expect((await get(COMPLETED, token({ signWith: submitterKey }))).statusCode).toBe(401);
    const once = token();
    expect((await get(COMPLETED, once)).statusCode).toBe(200);
    expect((await get(COMPLETED, once)).statusCode).toBe(401);
    // The route lives under the submissions prefix of the contract.
    expect(submissionStatusPath(COMPLETED)).toBe(`${INTERNAL_ROUTES.submissions}/${COMPLETED}`);
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { buildApp as buildGateway } from '@sts/gateway';
import { createSubmissionProofClient, gatewayAccounts, insertInvoiceRow } from '@sts/gateway/testing';
import {
  createLogger,
  createPool,
  createRedis,
  type Pool,
  type Redis,
  type ServiceTokenKey,
  SUBMISSION_PROOFS_SCOPE,
  submissionStatusSchema,
} from '@sts/shared';
import { buildProofApp, type ProofStore } from '@sts/submitter/testing';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/**
 * `GET /v1/submissions/:protocol/receipt|errors` of the real gateway, over real HTTP, in front of the
 * submitter's real proof routes (listening on a port, on the Postgres proof store): the gateway
 * mints a service token per call, the submitter checks it and serves the tenant's stored proof, and
 * the clinic gets the very bytes the STS gave.
 */

/** Big enough to cross both services in many chunks. */
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(400_000), Buffer.from('\n%%EOF\n')]);
const CSV = Buffer.from(
  'PROTOCOLLO;CODICE ERRORE;DESCRIZIONE ERRORE\r\n26030211354512345;S011;CODICE FISCALE ERRATO – è così\r\n',
  'latin1',
);
const DONE = '26030211354512345';
const PENDING = '26030299999999999';
const BORROWED = '26030266666666666';

describe('receipts through the gateway from the submitter', () => {
  let pool: Pool;
  let redis: Redis;
  let gateway: ReturnType<typeof buildGateway>;
  let submitter: ReturnType<typeof buildProofApp>['app'];
  let proofs: ProofStore;
  let base: string;
  let reader: string;
  let otherReader: string;
  let tenantA: string;
  const known = new Map<string, string>();
  const credentialId = randomUUID();

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-receipts-test' });
    redis = createRedis(redisDatabase.url, 'gateway-receipts-test');
    const logger = createLogger({ name: 'test', level: 'silent' });
    const key: ServiceTokenKey = {
      id: 'gateway-receipts',
      issuer: 'gateway',
      scopes: ['credentials:manage', SUBMISSION_PROOFS_SCOPE],
      secret: randomBytes(32),
    };

    ({ app: submitter, proofs } = buildProofApp({
      logger,
      pool,
      redis,
      keys: [key],
      isKnownProtocol: async (tenantId, protocol) => known.get(protocol) === tenantId,
    }));
    const submitterUrl = await submitter.listen({ host: '127.0.0.1', port: 0 });

    gateway = buildGateway({
      logger,
      pool,
      redis,
      submissionProofs: createSubmissionProofClient({ baseUrl: submitterUrl, signingKey: key }),
    });
    base = await gateway.listen({ host: '127.0.0.1', port: 0 });

    const { tenants } = gatewayAccounts(pool);
    const a = await tenants.create({ name: 'Clinica Ricevute', scopes: ['invoices:read'] });
    const b = await tenants.create({ name: 'Clinica Vicina', scopes: ['invoices:read'] });
    tenantA = a.tenant.id;
    reader = a.firstKey.key;
    otherReader = b.firstKey.key;

    // The gateway knows the protocols from status events; the submitter from its sends.
    for (const protocol of [DONE, PENDING]) {
      await insertInvoiceRow(pool, { tenantId: tenantA, status: 'submitted', statusSequence: 3, protocol });
      known.set(protocol, tenantA);
    }
    // Tenant B's invoice row carries tenant A's protocol (a mix-up the gateway cannot see): the
    // submitter, reading only the token's tenant, still answers 404.
    await insertInvoiceRow(pool, {
      tenantId: b.tenant.id,
      status: 'submitted',
      statusSequence: 3,
      protocol: DONE,
    });
    await insertInvoiceRow(pool, {
      tenantId: tenantA,
      status: 'submitted',
      statusSequence: 3,
      protocol: BORROWED,
    });

    // The submitter's file with that protocol, processed: three documents, one rejected.
    const fileId = randomUUID();
    const at = new Date('2026-03-02T10:35:45Z');
    await pool.query(
      `insert into submitter.files (id, tenant_id, credential_id, state, file_name, document_count, zip_bytes,
              protocol, sent_at, created_at, updated_at)
       values ($1, $2, $3, 'completed', 'f.zip', 3, 1000, $4, $5, $5, $6)`,
      [fileId, tenantA, credentialId, DONE, at, new Date('2026-03-02T11:02:10Z')],
    );
    for (const [index, state] of ['accepted', 'accepted', 'rejected'].entries())
      await pool.query(
        `insert into submitter.documents (invoice_id, tenant_id, credential_id, chain_key, chain_sequence, operation,
                document, state, state_sequence, file_id, protocol, received_at, updated_at)
         values ($1, $2, $3, $4, 1, 'insert', '{}', $5, 4, $6, $7, $8, $8)`,
        [randomUUID(), tenantA, credentialId, `chain-${index}`, state, fileId, DONE, at],
      );

    await proofs.put(tenantA, {
      kind: 'receipt-pdf',
      protocol: DONE,
      contentType: 'application/pdf',
      bytes: PDF,
    });
    await proofs.put(tenantA, {
      kind: 'error-detail-csv',
      protocol: DONE,
      contentType: 'text/csv; charset=iso-8859-1',
      bytes: CSV,
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await submitter?.close();
    await pool.end();
    redis.disconnect();
  });

  const get = (path: string, apiKey = reader) =>
    fetch(`${base}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });

  it('serves the stored receipt PDF, byte for byte, as an attachment', async () => {
    const response = await get(`/v1/submissions/${DONE}/receipt`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="receipt-${DONE}.pdf"`);
    expect(response.headers.get('content-length')).toBe(String(PDF.length));
    expect(Buffer.from(await response.arrayBuffer()).equals(PDF)).toBe(true);
  });

  it('serves the stored errors CSV with the charset of its Latin-1 bytes', async () => {
    const response = await get(`/v1/submissions/${DONE}/errors`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=iso-8859-1');
    expect(Buffer.from(await response.arrayBuffer()).equals(CSV)).toBe(true);
  });

  it('answers 409 with the submitter’s Retry-After while the receipt is not fetched yet', async () => {
    const response = await get(`/v1/submissions/${PENDING}/receipt`);
    expect(response.status).toBe(409);
    expect(response.headers.get('retry-after')).toBe('60');
    expect(((await response.json()) as { type: string }).type).toMatch(/\/proof-not-ready$/);
  });

  it('answers 404 when the submitter has no send of the tenant with that protocol', async () => {
    // Tenant B's gateway row names tenant A's protocol: the submitter reads the token's tenant only.
    const mixedUp = await get(`/v1/submissions/${DONE}/receipt`, otherReader);
    expect(mixedUp.status).toBe(404);
    expect(mixedUp.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // A protocol in the gateway's rows the submitter never sent.
    expect((await get(`/v1/submissions/${BORROWED}/receipt`)).status).toBe(404);
    // Unknown to the gateway: the submitter is not even asked.
    expect((await get('/v1/submissions/00000000000000000/errors')).status).toBe(404);
  });

  it('answers the status of the submission, counted from the submitter’s documents, for its tenant only', async () => {
    const response = await get(`/v1/submissions/${DONE}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(submissionStatusSchema.parse(body)).toEqual({
      protocol: DONE,
      credentialId,
      state: 'completed',
      sentAt: '2026-03-02T10:35:45.000Z',
      completedAt: '2026-03-02T11:02:10.000Z',
      documents: { total: 3, accepted: 2, acceptedWithWarnings: 0, rejected: 1, pending: 0 },
    });
    expect(body).toMatchObject({
      receiptUrl: `/v1/submissions/${DONE}/receipt`,
      errorsUrl: `/v1/submissions/${DONE}/errors`,
    });
    // The receipt it names is the one served.
    expect((await get(body.receiptUrl as string)).status).toBe(200);
    // Tenant B's gateway row names tenant A's protocol: the submitter reads the token's tenant only.
    expect((await get(`/v1/submissions/${DONE}`, otherReader)).status).toBe(404);
  });

  it('uses a fresh token per call, so the same download can be asked for again and again', async () => {
    for (let round = 0; round < 3; round++) {
      const response = await get(`/v1/submissions/${DONE}/errors`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
  });
});

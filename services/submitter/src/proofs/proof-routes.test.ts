import { randomBytes, randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
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
} from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3Server, type TestS3Server } from '../../test-support/s3-server.ts';
import { createProofTokenVerifier, type ProofRouteDeps, registerProofRoutes } from './proof-routes.ts';
import { createPostgresProofStore, type ProofStore, sha256Of } from './proof-store.ts';
import { createS3ProofStore, DEFAULT_PROOF_PREFIX, proofObjectKey } from './s3-proof-store.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(150_000), Buffer.from('\n%%EOF\n')]);
const CSV = Buffer.from(
  'PROTOCOLLO;CODICE ERRORE;DESCRIZIONE ERRORE\r\n26030211354512345;S011;CODICE FISCALE ERRATO – verificare\r\n',
  'latin1',
);
const ZIP = Buffer.concat([Buffer.from('PK\u0003\u0004'), randomBytes(4_000)]);
const DONE = '26030211354512345';
const PENDING = '26030299999999999';
const SINGLE = '26030288888888888';
const OTHERS = '26030277777777777';

const key = (id: string, issuer: string, scopes: string[]): ServiceTokenKey => ({
  id,
  issuer,
  scopes,
  secret: randomBytes(32),
});
const gatewayKey = key('gateway-test', 'gateway', ['credentials:manage', SUBMISSION_PROOFS_SCOPE]);
const strangerKey = key('stranger', 'gateway', [SUBMISSION_PROOFS_SCOPE]);
const submitterKey = key('submitter-test', 'submitter', [SUBMISSION_PROOFS_SCOPE, 'credentials:lease']);

// The same routes served from either store: bytes in Postgres, or in a real S3-compatible server.
let s3: TestS3Server;
beforeAll(async () => {
  s3 = await startTestS3Server();
});
afterAll(async () => {
  await s3.close();
});

describe.each([
  { name: 'postgres', create: (pool: Pool): ProofStore => createPostgresProofStore({ pool }) },
  {
    name: 's3',
    create: (pool: Pool): ProofStore => createS3ProofStore({ pool, client: s3.client, bucket: s3.bucket }),
  },
])('submitter proof routes ($name store)', ({ name, create }) => {
  // One database for both stores: each its own tenants.
  const tenantA = `${name}-tenant-a`;
  const tenantB = `${name}-tenant-b`;
  let pool: Pool;
  let redis: Redis;
  let store: ProofStore;
  let app: FastifyInstance;
  const known = new Map<string, string>();
  const fileId = randomUUID();

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'proof-routes-test' });
    redis = createRedis(redisDatabase.url, 'proof-routes-test');
    store = create(pool);
    await store.put(tenantA, { kind: 'sent-zip', fileId, contentType: 'application/zip', bytes: ZIP });
    await store.put(tenantA, {
      kind: 'upload-answer',
      protocol: DONE,
      fileId,
      contentType: 'application/xml',
      bytes: Buffer.from('<ricevuta><protocollo>26030211354512345</protocollo></ricevuta>'),
    });
    await store.put(tenantA, {
      kind: 'receipt-pdf',
      protocol: DONE,
      contentType: 'application/pdf',
      bytes: PDF,
    });
    await store.put(tenantA, {
      kind: 'error-detail-csv',
      protocol: DONE,
      contentType: 'text/csv; charset=iso-8859-1',
      bytes: CSV,
    });
    await store.put(tenantB, {
      kind: 'receipt-pdf',
      protocol: OTHERS,
      contentType: 'application/pdf',
      bytes: Buffer.from('%PDF-1.4 b'),
    });
    for (const [protocol, tenant] of [
      [DONE, tenantA],
      [PENDING, tenantA],
      [SINGLE, tenantA],
      [OTHERS, tenantB],
    ]) {
      known.set(protocol!, tenant!);
    }
    const deps: ProofRouteDeps = {
      proofs: store,
      verifier: createProofTokenVerifier({ keys: [gatewayKey, submitterKey], redis }),
      isKnownProtocol: async (tenantId, protocol) => known.get(protocol) === tenantId,
      missingProof: async (_tenantId, protocol) =>
        protocol === SINGLE ? { state: 'none' } : { state: 'pending', retryAfterSeconds: 120 },
    };
    app = createHttpApp({ logger: createLogger({ name: 'submitter', level: 'silent' }) });
    app.get('/health', async () => ({ status: 'up' }));
    registerProofRoutes(app, deps);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
  });

  const token = (
    options: { tenantId?: string; scopes?: string[]; audience?: string; signWith?: ServiceTokenKey } = {},
  ) =>
    createServiceTokenSigner({ key: options.signWith ?? gatewayKey }).sign({
      audience: options.audience ?? 'submitter',
      tenantId: options.tenantId ?? tenantA,
      subject: 'api-key:7c0d9f3e',
      scopes: options.scopes ?? [SUBMISSION_PROOFS_SCOPE],
    });
  const get = (path: string, bearer: string | null = token()) =>
    app.inject({
      method: 'GET',
      url: `${INTERNAL_ROUTES.submissions}/${path}`,
      headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` },
    });

  it('serves the receipt PDF as stored, with its type, length and file name', async () => {
    const response = await get(`${DONE}/receipt`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(response.headers['content-length']).toBe(String(PDF.length));
    expect(response.headers['content-disposition']).toBe(`attachment; filename="receipt-${DONE}.pdf"`);
    expect(response.headers['cache-control']).toBe('private, no-store');
    expect(response.rawPayload.equals(PDF)).toBe(true);
  });

  it('serves the errors CSV with the charset of its bytes', async () => {
    const response = await get(`${DONE}/errors`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=iso-8859-1');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="errors-${DONE}.csv"`);
    expect(response.rawPayload.equals(CSV)).toBe(true);
  });

  it('serves the exact zip sent, found through the file of the send', async () => {
    const response = await get(`${DONE}/sent-zip`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="sent-${DONE}.zip"`);
    expect(response.rawPayload.equals(ZIP)).toBe(true);
  });

  // Only a bucket can be changed behind the store's back: the case exists for the S3 store alone.
  if (name === 's3')
    it('answers 500 and serves nothing when the object in the bucket was changed', async () => {
      const protocol = '26030266666666666';
      known.set(protocol, tenantA);
      const pdf = Buffer.from('%PDF-1.4 kept');
      await store.put(tenantA, { kind: 'receipt-pdf', protocol, contentType: 'application/pdf', bytes: pdf });
      const key = proofObjectKey(DEFAULT_PROOF_PREFIX, tenantA, 'receipt-pdf', sha256Of(pdf));
      await s3.client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: Buffer.from('%PDF-1.4 FORGED') }),
      );
      const response = await get(`${protocol}/receipt`);
      expect(response.statusCode).toBe(500);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).not.toContain('FORGED');
    });

  it('answers 404 for an unknown protocol, another tenant’s, a proof that will never exist, or no protocol at all', async () => {
    for (const path of [
      '00000000000000000/receipt',
      `${OTHERS}/receipt`,
      `${OTHERS}/errors`,
      `${SINGLE}/errors`,
      `${'9'.repeat(41)}/receipt`,
      '%00/receipt',
      'a%20b/receipt',
    ]) {
      const response = await get(path);
      expect(response.statusCode, path).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ status: 404, type: expect.stringMatching(/\/not-found$/) });
    }
    // Its own tenant gets it.
    const own = await get(`${OTHERS}/receipt`, token({ tenantId: tenantB }));
    expect(own.statusCode).toBe(200);
    expect(own.rawPayload.toString()).toBe('%PDF-1.4 b');
  });

  it('answers 409 proof-not-ready with Retry-After while a known send has no receipt yet', async () => {
    const response = await get(`${PENDING}/receipt`);
    expect(response.statusCode).toBe(409);
    expect(response.headers['retry-after']).toBe('120');
    expect(response.json()).toMatchObject({
      status: 409,
      type: expect.stringMatching(/\/proof-not-ready$/),
      detail: expect.stringContaining('120 seconds'),
    });
  });

  it('answers 409 with a default Retry-After when the backbone says nothing more', async () => {
    const plain = createHttpApp({ logger: createLogger({ name: 'submitter', level: 'silent' }) });
    registerProofRoutes(plain, {
      proofs: store,
      verifier: createProofTokenVerifier({ keys: [gatewayKey], redis }),
      isKnownProtocol: async (tenantId, protocol) => known.get(protocol) === tenantId,
    });
    try {
      const response = await plain.inject({
        method: 'GET',
        url: `${INTERNAL_ROUTES.submissions}/${PENDING}/errors`,
        headers: { authorization: `Bearer ${token()}` },
      });
      expect(response.statusCode).toBe(409);
      expect(response.headers['retry-after']).toBe('60');
    } finally {
      await plain.close();
    }
  });

  it('answers 401 without a token, with a malformed one, a forged one, or one for another audience', async () => {
    const none = await get(`${DONE}/receipt`, null);
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    for (const bad of [
      'not-a-token',
      token({ signWith: strangerKey }),
      `${token().slice(0, -4)}AAAA`,
      token({ audience: 'credentials' }),
    ]) {
      const response = await get(`${DONE}/receipt`, bad);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ type: expect.stringMatching(/\/unauthenticated$/) });
      expect(response.body).not.toContain('%PDF');
    }
  });

  it('answers 401 to a token of an issuer other than the gateway, even holding the scope', async () => {
    const response = await get(`${DONE}/receipt`, token({ signWith: submitterKey }));
    expect(response.statusCode).toBe(401);
    expect(response.json().detail).toMatch(/not allowed to call/);
  });

  it('answers 403 to a gateway token without submissions:read', async () => {
    const response = await get(`${DONE}/receipt`, token({ scopes: ['credentials:manage'] }));
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ type: expect.stringMatching(/\/forbidden$/) });
  });

  it('accepts a token once: the same token a second time is refused as replayed', async () => {
    const once = token();
    expect((await get(`${DONE}/receipt`, once)).statusCode).toBe(200);
    const again = await get(`${DONE}/receipt`, once);
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ type: expect.stringMatching(/\/service-token-replayed$/) });
  });

  it('leaves routes outside its scope unguarded', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});

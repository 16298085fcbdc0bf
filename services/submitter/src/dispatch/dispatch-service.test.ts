import { randomUUID } from 'node:crypto';
import { createPool, documentStatusEventSchema, type Pool, romeDate, type SendingMode } from '@sts/shared';
import { type EncryptedTaxCode, type ExpenseDocument, parsePrecompilataZip } from '@sts/sts';
import { createTestEncryption, type TestEncryption } from '@sts/sts/testing';
import { testClock, useTestDatabase } from '@sts/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Accepted,
  CLINIC_VAT,
  documentRows,
  expenseDocument,
  outboxEvents,
  takeIn,
} from '../../test-support/documents.ts';
import { createPostgresProofStore, type ProofStore } from '../proofs/index.ts';
import type { CredentialAccess, CredentialProfile, CredentialRefusal } from '../sending/credential-access.ts';
import { createDispatcher, type DispatchOptions } from './dispatch-service.ts';

const database = useTestDatabase();

const OPTIONS: DispatchOptions = {
  flushIntervalMs: 60_000,
  fileTargetDocuments: 40,
  autoRealtimeBelow: 5,
  maxDocumentsPerRound: 1000,
  maxZipBytes: 6_000,
  realtimeWindow: 1000,
};

describe('dispatch', () => {
  let pool: Pool;
  let proofs: ProofStore;
  let encryption: TestEncryption;
  const clock = testClock('2026-01-15T09:00:00Z');
  const tenantId = randomUUID();
  let counter = 0;
  /**
   * The credentials service's boundary (CredentialAccess.profileOf): fixed profiles or refusals by
   * credential id. Everything behind it (Postgres, proofs, encryption, packing) is real.
   */
  const access = new Map<string, { ok: true; profile: CredentialProfile } | CredentialRefusal>();
  const credentials: Pick<CredentialAccess, 'profileOf'> = {
    profileOf: async (credentialId) => access.get(credentialId) ?? { ok: false, reason: 'not-found' },
  };

  function credential(sendingMode: SendingMode): string {
    const credentialId = randomUUID();
    access.set(credentialId, {
      ok: true,
      profile: {
        credentialId,
        environment: 'production',
        endpointVariant: 'standard',
        kind: 'basic',
        owner: { kind: 'professional', taxCode: 'RSSMRA85T10A562S' },
        vatNumbers: [CLINIC_VAT],
        sendingMode,
        pacing: { maxInFlight: 1, requestsPerMinute: 60 },
        status: 'valid',
      },
    });
    return credentialId;
  }
  const dispatcher = (options: Partial<DispatchOptions> = {}) =>
    createDispatcher({
      pool,
      clock,
      credentials,
      encryptors: { test: encryption.encryptor, production: encryption.encryptor },
      rulesFor: () => ({ today: romeDate(clock()) }),
      proofs,
      options: { ...OPTIONS, ...options },
    });
  const document = (overrides: Partial<ExpenseDocument<EncryptedTaxCode>> = {}) => {
    const n = counter++;
    return expenseDocument(n, {
      ciphertext: encryption.encryptor.encrypt(`TSTPAT${String(n).padStart(10, '0')}`),
      ...overrides,
    });
  };
  const queue = (credentialId: string, count: number, extra: Partial<Accepted> = {}) =>
    takeIn(
      { pool, clock },
      tenantId,
      Array.from({ length: count }, () => ({ credentialId, document: document(), ...extra })),
    );
  const files = async (credentialId: string) =>
    (
      await pool.query<{
        id: string;
        state: string;
        documentCount: number;
        zipBytes: number;
        zipProofId: string;
        fileName: string;
      }>(
        `select id, state, document_count as "documentCount", zip_bytes as "zipBytes", zip_proof_id as "zipProofId",
                file_name as "fileName" from submitter.files where credential_id = $1`,
        [credentialId],
      )
    ).rows;

  beforeAll(() => {
    pool = createPool({ url: database.url, applicationName: 'submitter-dispatch-test', max: 12 });
    proofs = createPostgresProofStore({ pool, clock });
    encryption = createTestEncryption();
  });
  afterAll(async () => {
    await pool.end();
  });
  beforeEach(async () => {
    await pool.query('delete from submitter.status_outbox');
  });

  it('lets a document go only once the operation before it on the same document is final', async () => {
    const credentialId = credential('realtime');
    const original = document();
    const [insert, update] = await takeIn({ pool, clock }, tenantId, [
      { credentialId, document: original },
      { credentialId, document: { ...original, operation: 'update' }, sequence: 2 },
    ]);
    const other = document();
    const [submitted, cancel] = await takeIn({ pool, clock }, tenantId, [
      { credentialId, document: other },
      { credentialId, document: { ...other, operation: 'cancel' }, sequence: 2 },
    ]);
    await pool.query(`update submitter.documents set state = 'submitted' where invoice_id = $1`, [submitted]);

    const first = await dispatcher().dispatch(tenantId, credentialId);
    let rows = await documentRows(pool, [insert!, update!, cancel!]);
    expect(first.submissions).toEqual([rows.get(insert!)!.submissionId]);
    expect(rows.get(update!)!.state).toBe('queued');
    expect(rows.get(cancel!)!.state).toBe('queued');

    // The insert accepted, the other document's send rejected: both successors may go now.
    await pool.query(`update submitter.documents set state = 'accepted' where invoice_id = $1`, [insert]);
    await pool.query(`update submitter.documents set state = 'rejected' where invoice_id = $1`, [submitted]);
    const second = await dispatcher().dispatch(tenantId, credentialId);
    rows = await documentRows(pool, [update!, cancel!]);
    expect(second.submissions.sort()).toEqual(
      [rows.get(update!)!.submissionId, rows.get(cancel!)!.submissionId].sort(),
    );
  });

  it('realtime: each eligible document gets a submission of its own, `assigned` (no status event)', async () => {
    const credentialId = credential('realtime');
    const ids = await queue(credentialId, 4);
    await pool.query('delete from submitter.status_outbox');
    const result = await dispatcher().dispatch(tenantId, credentialId);
    expect(result).toMatchObject({ files: [], blocked: 0, waiting: 0 });
    const rows = await documentRows(pool, ids);
    expect([...rows.values()].map((row) => row.state)).toEqual([
      'assigned',
      'assigned',
      'assigned',
      'assigned',
    ]);
    expect(new Set([...rows.values()].map((row) => row.submissionId))).toEqual(new Set(result.submissions));
    expect(new Set(result.submissions).size).toBe(4);
    expect([...rows.values()].every((row) => row.fileId === null)).toBe(true);
    expect(await outboxEvents(pool)).toEqual([]);
  });

  it('realtime: a window of single sends per credential, the rest waiting its turn', async () => {
    const credentialId = credential('realtime');
    const ids = await queue(credentialId, 10);
    const first = await dispatcher({ realtimeWindow: 3 }).dispatch(tenantId, credentialId);
    expect(first.submissions).toHaveLength(3);
    // The window is full: a second round assigns nothing until a send ends.
    expect((await dispatcher({ realtimeWindow: 3 }).dispatch(tenantId, credentialId)).submissions).toEqual(
      [],
    );
    await pool.query(`update submitter.documents set state = 'accepted' where submission_id = $1`, [
      first.submissions[0],
    ]);
    expect(
      (await dispatcher({ realtimeWindow: 3 }).dispatch(tenantId, credentialId)).submissions,
    ).toHaveLength(1);
    const states = [...(await documentRows(pool, ids)).values()].map((row) => row.state);
    expect(states.filter((state) => state === 'queued')).toHaveLength(6);
  });

  it('auto: one by one below the threshold, in files above it', async () => {
    const few = credential('auto');
    await queue(few, 4);
    expect((await dispatcher().dispatch(tenantId, few)).submissions).toHaveLength(4);
    const many = credential('auto');
    await queue(many, 5);
    clock.advance(OPTIONS.flushIntervalMs);
    const result = await dispatcher().dispatch(tenantId, many);
    expect(result.submissions).toEqual([]);
    expect(result.files.length).toBeGreaterThan(0);
  });

  it('batch: nothing is packed before the batch is due by age or count', async () => {
    const credentialId = credential('batch');
    const ids = await queue(credentialId, 3);
    const zips = async () => (await proofs.list(tenantId, { kind: 'sent-zip' })).length;
    const zipsBefore = await zips();
    clock.advance(OPTIONS.flushIntervalMs - 1);
    expect(await dispatcher().dispatch(tenantId, credentialId)).toEqual({
      files: [],
      submissions: [],
      blocked: 0,
      waiting: 3,
      // Due in a millisecond: the caller asks for a round then.
      dueInMs: 1,
    });
    expect(await files(credentialId)).toEqual([]);
    expect([...(await documentRows(pool, ids)).values()].every((row) => row.state === 'queued')).toBe(true);
    expect(await zips()).toBe(zipsBefore);

    clock.advance(1);
    const due = await dispatcher().dispatch(tenantId, credentialId);
    expect(due).toMatchObject({ waiting: 0, submissions: [] });
    expect(due.files).toHaveLength(1);
    expect(await zips()).toBe(zipsBefore + 1);
  });

  it('batch, due by count: zips under the limit, each kept as a sent-zip proof, documents assigned to their file', async () => {
    const credentialId = credential('batch');
    const ids = await queue(credentialId, OPTIONS.fileTargetDocuments);
    await pool.query('delete from submitter.status_outbox');
    const result = await dispatcher().dispatch(tenantId, credentialId);
    expect(result.files.length).toBeGreaterThan(1);

    const made = await files(credentialId);
    expect(new Set(made.map((file) => file.id))).toEqual(new Set(result.files));
    const rows = await documentRows(pool, ids);
    const packed = new Set<string>();
    for (const file of made) {
      expect(file.state).toBe('ready');
      expect(file.zipBytes).toBeLessThan(OPTIONS.maxZipBytes);
      const proof = (await proofs.get(tenantId, file.zipProofId))!;
      expect(proof).toMatchObject({
        kind: 'sent-zip',
        fileId: file.id,
        contentType: 'application/zip',
        size: file.zipBytes,
      });
      const zip = parsePrecompilataZip(proof.bytes);
      expect(zip.entryName).toBe(file.fileName.replace('.zip', '.xml'));
      expect(zip.documents).toHaveLength(file.documentCount);
      expect(encryption.decrypt((zip.sender as { taxCode: EncryptedTaxCode }).taxCode.encrypted)).toBe(
        'RSSMRA85T10A562S',
      );
      const mine = [...rows.values()].filter((row) => row.fileId === file.id);
      expect(mine).toHaveLength(file.documentCount);
      expect(mine.every((row) => row.state === 'assigned' && row.submissionId === null)).toBe(true);
      for (const packedDocument of zip.documents) packed.add(packedDocument.id.number);
    }
    expect(packed.size).toBe(ids.length);
    expect(made.reduce((sum, file) => sum + file.documentCount, 0)).toBe(ids.length);
    expect(await outboxEvents(pool)).toEqual([]);
  });

  it('a document the rules refuse today is rejected alone, with the rule code; the rest is packed', async () => {
    const credentialId = credential('batch');
    const [closed] = await takeIn({ pool, clock }, tenantId, [
      {
        credentialId,
        document: document({ paymentDate: '2024-06-03', id: { ...document().id, issueDate: '2024-06-03' } }),
      },
    ]);
    const good = await queue(credentialId, 3);
    await pool.query('delete from submitter.status_outbox');
    clock.advance(OPTIONS.flushIntervalMs);
    const result = await dispatcher().dispatch(tenantId, credentialId);
    expect(result.files).toHaveLength(1);
    const rows = await documentRows(pool, [closed!, ...good]);
    expect(rows.get(closed!)).toMatchObject({ state: 'rejected', cause: 'invalid-document', fileId: null });
    expect(rows.get(closed!)!.messages).toEqual([expect.objectContaining({ code: 'S035', kind: 'error' })]);
    expect(good.every((id) => rows.get(id)!.fileId === result.files[0])).toBe(true);
    expect((await files(credentialId))[0]!.documentCount).toBe(3);
    const events = await outboxEvents(pool);
    expect(events).toHaveLength(1);
    expect(documentStatusEventSchema.parse(events[0])).toMatchObject({
      invoiceId: closed,
      status: 'rejected',
      sequence: 2,
    });
  });

  it('a refused document whose rule has no STS code still gets a status event valid for the gateway', async () => {
    const credentialId = credential('batch');
    // Paid before it was issued (our own rule, no STS code): its event must still pass the schema,
    // or the relay could never enqueue it (nor anything after it).
    const early = document({ paymentDate: '2025-06-01', id: { ...document().id, issueDate: '2025-06-05' } });
    const [refused] = await takeIn({ pool, clock }, tenantId, [{ credentialId, document: early }]);
    await pool.query('delete from submitter.status_outbox');
    clock.advance(OPTIONS.flushIntervalMs);
    expect((await dispatcher().dispatch(tenantId, credentialId)).files).toEqual([]);
    expect((await documentRows(pool, [refused!])).get(refused!)!.state).toBe('rejected');
    const [event] = await outboxEvents(pool);
    expect(documentStatusEventSchema.safeParse(event).error).toBeUndefined();
    expect(event!.messages![0]!.text).toMatch(/document\.payment-date\.before-issue/);
  });

  it('an unusable credential blocks its queued documents; an unreachable credentials service changes nothing', async () => {
    const credentialId = credential('batch');
    const ids = await queue(credentialId, 3);
    await pool.query('delete from submitter.status_outbox');
    access.set(credentialId, { ok: false, reason: 'unavailable', detail: 'connect ECONNREFUSED' });
    await expect(dispatcher().dispatch(tenantId, credentialId)).rejects.toThrow(/unavailable/);
    expect([...(await documentRows(pool, ids)).values()].every((row) => row.state === 'queued')).toBe(true);

    access.set(credentialId, { ok: false, reason: 'unusable' });
    expect(await dispatcher().dispatch(tenantId, credentialId)).toMatchObject({
      blocked: 3,
      files: [],
      submissions: [],
    });
    const rows = await documentRows(pool, ids);
    expect(
      [...rows.values()].every((row) => row.state === 'blocked' && row.cause === 'credential-unusable'),
    ).toBe(true);
    const events = await outboxEvents(pool);
    expect(events.map((event) => [event.status, event.cause])).toEqual(
      Array(3).fill(['blocked', 'credential-unusable']),
    );
  });

  it('two concurrent rounds never assign the same document twice (realtime and batch)', async () => {
    const realtime = credential('realtime');
    const singles = await queue(realtime, 60);
    const rounds = await Promise.all(
      Array.from({ length: 4 }, () => dispatcher({ maxDocumentsPerRound: 25 }).dispatch(tenantId, realtime)),
    );
    const submissions = rounds.flatMap((round) => round.submissions);
    expect(new Set(submissions).size).toBe(submissions.length);
    const singleRows = [...(await documentRows(pool, singles)).values()].filter(
      (row) => row.state === 'assigned',
    );
    expect(singleRows).toHaveLength(submissions.length);
    expect(new Set(singleRows.map((row) => row.submissionId))).toEqual(new Set(submissions));

    const batch = credential('batch');
    const batched = await queue(batch, 60);
    clock.advance(OPTIONS.flushIntervalMs);
    const packed = await Promise.all(
      Array.from({ length: 3 }, () => dispatcher({ maxDocumentsPerRound: 30 }).dispatch(tenantId, batch)),
    );
    const numbers: string[] = [];
    for (const fileId of packed.flatMap((round) => round.files)) {
      const file = (await files(batch)).find((row) => row.id === fileId)!;
      const zip = parsePrecompilataZip((await proofs.get(tenantId, file.zipProofId))!.bytes);
      numbers.push(...zip.documents.map((packedDocument) => packedDocument.id.number));
    }
    expect(new Set(numbers).size).toBe(numbers.length);
    const assigned = [...(await documentRows(pool, batched)).values()].filter(
      (row) => row.state === 'assigned',
    );
    expect(assigned).toHaveLength(numbers.length);
  });
});

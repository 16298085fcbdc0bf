import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { createTestEncryption } from '@sts/sts/testing';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLINIC_VAT_NUMBER,
  invoiceEvent,
  patientTaxCode,
  vatNumber,
} from '../../test-support/invoice-events.ts';
import { buildApp } from '../app.ts';
import { createDatabase } from '../db/database.ts';
import { createTenantService } from '../tenants/tenant-service.ts';
import { createCredentialDirectory, type SenderCredential } from './credential-directory.ts';
import { createPatientHasher } from './patient-privacy.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();
const logger = createLogger({ name: 'gateway', level: 'silent' });

describe('invoice events in: POST /v1/invoices and /v1/invoices/batch', () => {
  let pool: Pool;
  let redis: Redis;
  let app: FastifyInstance;
  const clock = testClock('2026-12-07T10:00:00Z');
  const encryption = createTestEncryption();
  const hasher = createPatientHasher(Buffer.alloc(32, 7));
  const credentialsByTenant = new Map<string, SenderCredential[]>();
  let tenantId: string;
  let key: string;
  let readOnlyKey: string;
  let credential: SenderCredential;
  let otherTenantKey: string;

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-invoices-test' });
    redis = createRedis(redisDatabase.url, 'gateway-invoices-test');
    app = buildApp({
      logger,
      pool,
      redis,
      clock,
      patientHasher: hasher,
      invoices: {
        directory: createCredentialDirectory({
          list: async (tenant) => credentialsByTenant.get(tenant) ?? [],
          ttlMs: 0,
        }),
        encryptors: { test: encryption.encryptor, production: encryption.encryptor },
        requestHashKey: Buffer.alloc(32, 9),
        testCalendar: 'relaxed',
        relay: false,
      },
    });
    await app.ready();
    const tenants = createTenantService({ db: createDatabase(pool), clock });
    const created = await tenants.create({ name: 'Clinica San Luca' });
    tenantId = created.tenant.id;
    key = created.firstKey.key;
    const { createApiKeyService } = await import('../api-keys/api-key-service.ts');
    const apiKeys = createApiKeyService({ db: createDatabase(pool), clock });
    readOnlyKey = (await apiKeys.create(tenantId, { scopes: ['invoices:read'], label: 'read' })).key;
    credential = { id: randomUUID(), environment: 'test', vatNumbers: [CLINIC_VAT_NUMBER] };
    credentialsByTenant.set(tenantId, [credential]);
    const other = await tenants.create({ name: 'Other clinic' });
    otherTenantKey = other.firstKey.key;
    credentialsByTenant.set(other.tenant.id, [
      { id: randomUUID(), environment: 'test', vatNumbers: [CLINIC_VAT_NUMBER] },
    ]);
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
  });

  const post = (body: unknown, options: { url?: string; apiKey?: string; idempotencyKey?: string } = {}) =>
    app.inject({
      method: 'POST',
      url: options.url ?? '/v1/invoices',
      headers: {
        authorization: `Bearer ${options.apiKey ?? key}`,
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
      },
      payload: body as object,
    });
  const rowsOf = async (id: string) =>
    (await pool.query('select * from gateway.invoices where id = $1', [id])).rows as Record<
      string,
      unknown
    >[];
  const outboxDocuments = async () =>
    (await pool.query('select payload from gateway.outbox')).rows.flatMap(
      (row: {
        payload: {
          documents: {
            invoiceId: string;
            sequence: number;
            documentKey: string;
            document: Record<string, unknown>;
          }[];
        };
      }) => row.payload.documents,
    );

  it('accepts one event: 202, Location, the row and its outbox job with the patient encrypted only', async () => {
    const event = invoiceEvent(1);
    const response = await post(event);
    expect(response.statusCode).toBe(202);
    const { invoice } = response.json() as { invoice: { id: string; status: string; credentialId: string } };
    expect(response.headers.location).toBe(`/v1/invoices/${invoice.id}`);
    expect(invoice).toMatchObject({ status: 'received', credentialId: credential.id, operation: 'insert' });

    const [row] = await rowsOf(invoice.id);
    expect(row).toMatchObject({
      tenant_id: tenantId,
      operation: 'insert',
      chain_sequence: 1,
      tax_year: 2026,
    });
    expect(row!.patient_hash).toEqual(hasher.hash(patientTaxCode(1)));
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(patientTaxCode(1));
    const patient = (row!.document as { patient: { taxCode: { encrypted: string } } }).patient;
    expect(encryption.decrypt(patient.taxCode.encrypted)).toBe(patientTaxCode(1));

    const job = (await outboxDocuments()).find((document) => document.invoiceId === invoice.id);
    expect(job).toMatchObject({ sequence: 1, documentKey: row!.chain_key });
    expect(JSON.stringify(job)).not.toContain(patientTaxCode(1));
  });

  it('a retry without an idempotency key is recognised: 200 with the same invoice, nothing new', async () => {
    const event = invoiceEvent(2);
    const first = await post(event);
    const again = await post(event);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: true, invoice: { id: first.json().invoice.id } });
    const { rows } = await pool.query(
      "select count(*)::int as n from gateway.invoices where number = 'FT2026/2'",
    );
    expect(rows[0].n).toBe(1);
  });

  it('the same document inserted with other content: 409 naming the existing event', async () => {
    await post(invoiceEvent(3));
    const changed = invoiceEvent(3, {
      document: { lines: [{ expenseType: 'SR', amount: '999.00', vatNature: 'N4' }] },
    });
    const response = await post(changed);
    expect(response.statusCode).toBe(409);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({
      errors: [{ field: 'document.id', rule: 'document.already-accepted' }],
    });
  });

  it('keeps the order of operations on a document: insert, update, update, refund, cancel by id', async () => {
    const insert = await post(invoiceEvent(4));
    expect(insert.statusCode).toBe(202);
    const update1 = await post(
      invoiceEvent(4, {
        operation: 'update',
        document: { lines: [{ expenseType: 'SR', amount: '10.00', vatNature: 'N4' }] },
      }),
    );
    const update2 = await post(
      invoiceEvent(4, {
        operation: 'update',
        document: { lines: [{ expenseType: 'SR', amount: '11.00', vatNature: 'N4' }] },
      }),
    );
    expect([update1.statusCode, update2.statusCode]).toEqual([202, 202]);
    const original = invoiceEvent(4).document.id;
    const refund = await post({
      operation: 'refund',
      document: {
        ...invoiceEvent(5004).document,
        refundedDocumentId: original,
      },
    });
    expect(refund.statusCode).toBe(202);
    const cancel = await post({ operation: 'cancel', document: { id: original } });
    expect(cancel.statusCode).toBe(202);
    const sequences = await Promise.all(
      [insert, update1, update2, refund, cancel].map(
        async (response) => (await rowsOf(response.json().invoice.id))[0]!,
      ),
    );
    expect(sequences.map((row) => row.chain_sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(sequences.map((row) => row.chain_key)).size).toBe(1);
    // The cancellation carries the latest full document (the second update), patient encrypted.
    const cancelled = sequences[4]!.document as { operation: string; lines: { amount: string }[] };
    expect(cancelled).toMatchObject({ operation: 'cancel', lines: [{ amount: '11.00' }] });
    // After a cancellation nothing more changes the document.
    const late = await post(
      invoiceEvent(4, {
        operation: 'update',
        document: { lines: [{ expenseType: 'SR', amount: '12.00', vatNature: 'N4' }] },
      }),
    );
    expect(late.statusCode).toBe(422);
    expect(late.json()).toMatchObject({ errors: [{ rule: 'operation.document-cancelled' }] });
  });

  it('refuses an update, cancel or refund of a document never inserted (422), storing nothing', async () => {
    const before = (await pool.query('select count(*)::int as n from gateway.invoices')).rows[0].n;
    const update = await post(invoiceEvent(6, { operation: 'update' }));
    const cancel = await post({ operation: 'cancel', document: { id: invoiceEvent(6).document.id } });
    const refund = await post({
      operation: 'refund',
      document: { ...invoiceEvent(7).document, refundedDocumentId: invoiceEvent(6).document.id },
    });
    expect(update.json()).toMatchObject({
      status: 422,
      errors: [{ field: 'document.id', rule: 'operation.document-unknown' }],
    });
    expect(cancel.json()).toMatchObject({ status: 422, errors: [{ rule: 'operation.document-unknown' }] });
    expect(refund.json()).toMatchObject({
      status: 422,
      errors: [{ field: 'document.refundedDocumentId', rule: 'operation.refunded-document-unknown' }],
    });
    expect((await pool.query('select count(*)::int as n from gateway.invoices')).rows[0].n).toBe(before);
  });

  it('lists every invalid field with its path, rule and hint, as problem+json; stores nothing', async () => {
    const response = await post({
      operation: 'insert',
      document: {
        ...invoiceEvent(8).document,
        id: { vatNumber: '12345678901', issueDate: '2026-13-01', device: 0, number: 'FT<1>' },
        patient: { kind: 'identified', taxCode: 'NOTACODE' },
        lines: [{ expenseType: 'XX', amount: '-1', vatNature: 'N4' }],
        colour: 'blue',
      },
    });
    expect(response.statusCode).toBe(422);
    const problem = response.json() as {
      type: string;
      errors: { field: string; rule: string; hint?: string }[];
    };
    expect(problem.type).toMatch(/invalid-invoice-event$/);
    const fields = problem.errors.map((error) => error.field);
    expect(fields).toEqual(expect.arrayContaining(['document.colour']));
    expect(response.body).not.toContain('NOTACODE');
    const bad = await post({
      operation: 'insert',
      document: {
        ...invoiceEvent(8).document,
        colour: undefined,
        lines: [{ expenseType: 'XX', amount: '-1', vatNature: 'N4' }],
        patient: { kind: 'identified', taxCode: 'NOTACODE' },
      },
    });
    const badFields = (bad.json() as typeof problem).errors.map((error) => error.field);
    expect(badFields).toEqual(
      expect.arrayContaining(['document.patient.taxCode', 'document.lines[0].expenseType']),
    );
    for (const error of (bad.json() as typeof problem).errors) expect(error.hint).toBeTruthy();
    expect(bad.body).not.toContain('NOTACODE');
    expect(
      (await pool.query("select count(*)::int as n from gateway.invoices where number = 'FT2026/8'")).rows[0]
        .n,
    ).toBe(0);
  });

  it('answers malformed JSON, wrong types and a missing operation with a clear 4xx', async () => {
    const malformed = await app.inject({
      method: 'POST',
      url: '/v1/invoices',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: '{"operation": "insert", ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['content-type']).toMatch(/problem\+json/);
    const wrong = await post({ operation: 7, credentialId: 'nope', document: [] });
    expect(wrong.statusCode).toBe(422);
    expect((wrong.json() as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([
      'operation',
      'credentialId',
      'document',
    ]);
  });

  it('chooses the credential by VAT number, and refuses an unknown, ambiguous or missing one', async () => {
    const unknown = await post(invoiceEvent(9, { credentialId: randomUUID() }));
    expect(unknown.json()).toMatchObject({
      status: 422,
      errors: [{ field: 'credentialId', rule: 'credential.unknown' }],
    });
    const noCredential = await post(
      invoiceEvent(9, {
        document: { id: { ...invoiceEvent(9).document.id, vatNumber: vatNumber('0987654321') } },
      }),
    );
    expect(noCredential.json()).toMatchObject({ errors: [{ rule: 'credential.none-for-vat-number' }] });
    const second: SenderCredential = {
      id: randomUUID(),
      environment: 'test',
      vatNumbers: [CLINIC_VAT_NUMBER],
    };
    credentialsByTenant.set(tenantId, [credential, second]);
    try {
      const ambiguous = await post(invoiceEvent(9));
      expect(ambiguous.json()).toMatchObject({ errors: [{ rule: 'credential.ambiguous' }] });
      const chosen = await post(invoiceEvent(9, { credentialId: second.id }));
      expect(chosen.statusCode).toBe(202);
      expect(chosen.json().invoice.credentialId).toBe(second.id);
    } finally {
      credentialsByTenant.set(tenantId, [credential]);
    }
  });

  it('needs invoices:write; another tenant sending the same document gets its own event', async () => {
    expect((await post(invoiceEvent(10), { apiKey: readOnlyKey })).statusCode).toBe(403);
    const mine = await post(invoiceEvent(10));
    const theirs = await post(invoiceEvent(10), { apiKey: otherTenantKey });
    expect([mine.statusCode, theirs.statusCode]).toEqual([202, 202]);
    expect(mine.json().invoice.id).not.toBe(theirs.json().invoice.id);
  });

  it('a JSON batch answers per item in order and stores only the valid items', async () => {
    const events = [
      invoiceEvent(20),
      { operation: 'insert', document: { id: 'bad' } },
      invoiceEvent(21),
      invoiceEvent(20),
    ];
    const response = await post({ events }, { url: '/v1/invoices/batch' });
    expect(response.statusCode).toBe(200);
    const body = response.json() as {
      summary: Record<string, number>;
      items: { index: number; outcome: string; errors?: { field: string }[] }[];
    };
    expect(body.summary).toEqual({ received: 4, accepted: 2, duplicates: 1, rejected: 1 });
    expect(body.items.map((item) => [item.index, item.outcome])).toEqual([
      [0, 'accepted'],
      [1, 'rejected'],
      [2, 'accepted'],
      [3, 'duplicate'],
    ]);
    expect(body.items[1]!.errors![0]!.field).toMatch(/^events\[1\]\.document/);
    const tooMany = await post(
      { events: Array.from({ length: 1001 }, (_, i) => invoiceEvent(i)) },
      { url: '/v1/invoices/batch' },
    );
    expect(tooMany.statusCode).toBe(413);
    const notABatch = await post({ event: [] }, { url: '/v1/invoices/batch' });
    expect(notABatch.statusCode).toBe(400);
  });

  it('an NDJSON batch is read line by line: bad lines answered by line number, the rest stored', async () => {
    const lines = [JSON.stringify(invoiceEvent(30)), '{"operation":', '', JSON.stringify(invoiceEvent(31))];
    const response = await app.inject({
      method: 'POST',
      url: '/v1/invoices/batch',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
      payload: `${lines.join('\n')}\n`,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json() as {
      summary: Record<string, number>;
      items: { line: number; outcome: string; errors?: { rule: string }[] }[];
    };
    expect(body.summary).toEqual({ received: 3, accepted: 2, duplicates: 0, rejected: 1 });
    expect(body.items.map((item) => [item.line, item.outcome])).toEqual([
      [1, 'accepted'],
      [2, 'rejected'],
      [4, 'accepted'],
    ]);
    expect(body.items[1]!.errors![0]!.rule).toBe('json-syntax');
  });

  describe('the one-statement path of a single insert and the full path agree', () => {
    /**
     * Holds the tenant's row `for update` while `requests` run: an invoice insert then stores its row
     * (and its unique index entries) and waits at the end of its statement for the foreign key check
     * on the tenant, so a second request for the same document meets an insert in progress. Released
     * once `waiting` backends wait on a lock.
     */
    const racing = async <T>(tenantLocked: () => Promise<T>, waiting: number): Promise<T> => {
      const holder = await pool.connect();
      try {
        await holder.query('begin');
        await holder.query('select id from gateway.tenants where id = $1 for update', [tenantId]);
        const answers = tenantLocked();
        for (let i = 0; ; i++) {
          const { rows } = await pool.query(
            "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
          );
          if (rows[0].n >= waiting) break;
          if (i > 400) throw new Error(`never saw ${waiting} requests waiting`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await holder.query('commit');
        return await answers;
      } finally {
        holder.release();
      }
    };
    const count = async (sql: string, number: string) =>
      (await pool.query(sql, [number])).rows[0].n as number;
    const stored = (number: string) =>
      count('select count(*)::int as n from gateway.invoices where number = $1', number);
    const carried = (number: string) =>
      count(
        "select count(*)::int as n from gateway.outbox, jsonb_array_elements(payload->'documents') d where d->'document'->'id'->>'number' = $1",
        number,
      );

    it('the same insert twice at once: one accepted (202), the other a duplicate (200) of it', async () => {
      const [a, b] = await racing(() => Promise.all([post(invoiceEvent(80)), post(invoiceEvent(80))]), 2);
      const answers = [a, b].sort((x, y) => x.statusCode - y.statusCode);
      expect(answers.map((answer) => answer.statusCode)).toEqual([200, 202]);
      expect(answers[0]!.json()).toEqual({ invoice: answers[1]!.json().invoice, duplicate: true });
      expect(await stored('FT2026/80')).toBe(1);
      expect(await carried('FT2026/80')).toBe(1);
    });

    it('an insert racing an insert with other content: one accepted (202), the other 409', async () => {
      const other = invoiceEvent(81, {
        document: { lines: [{ expenseType: 'SR', amount: '999.00', vatNature: 'N4' }] },
      });
      const [a, b] = await racing(() => Promise.all([post(invoiceEvent(81)), post(other)]), 2);
      const codes = [a.statusCode, b.statusCode].sort();
      expect(codes).toEqual([202, 409]);
      const refused = a.statusCode === 409 ? a : b;
      expect(refused.json()).toMatchObject({
        type: expect.stringMatching(/document-conflict$/),
        errors: [{ field: 'document.id', rule: 'document.already-accepted' }],
      });
      expect(await stored('FT2026/81')).toBe(1);
      expect(await carried('FT2026/81')).toBe(1);
    });

    it('a batch (full path) meeting a single insert in progress: duplicate and 409 as per item', async () => {
      const [single, batch] = await racing(async () => {
        const first = post(invoiceEvent(82));
        // The single insert holds its row first; then the batch takes its lock, finds nothing
        // committed, inserts, waits, and is retried by its transaction once the single one commits.
        for (let i = 0; i < 400; i++) {
          const { rows } = await pool.query(
            "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
          );
          if (rows[0].n >= 1) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const changed = invoiceEvent(82, {
          document: { lines: [{ expenseType: 'SR', amount: '999.00', vatNature: 'N4' }] },
        });
        return Promise.all([
          first,
          post({ events: [invoiceEvent(82), changed] }, { url: '/v1/invoices/batch' }),
        ]);
      }, 2);
      expect(single.statusCode).toBe(202);
      expect(batch.json().summary).toEqual({ received: 2, accepted: 0, duplicates: 1, rejected: 1 });
      expect(batch.json().items[0]).toMatchObject({ outcome: 'duplicate', invoice: single.json().invoice });
      expect(batch.json().items[1]).toMatchObject({ outcome: 'rejected', status: 409 });
      expect(await stored('FT2026/82')).toBe(1);
    });

    it('a single insert after the same one came in a batch: answered by the full path as a duplicate', async () => {
      const batch = await post({ events: [invoiceEvent(83)] }, { url: '/v1/invoices/batch' });
      const single = await post(invoiceEvent(83));
      expect(single.statusCode).toBe(200);
      expect(single.json()).toEqual({ invoice: batch.json().items[0].invoice, duplicate: true });
    });

    it('stores the same row and outbox document either way', async () => {
      const single = (await post(invoiceEvent(84))).json().invoice.id as string;
      const batch = (await post({ events: [invoiceEvent(85)] }, { url: '/v1/invoices/batch' })).json()
        .items[0].invoice.id as string;
      // Everything but what differs between two documents (their id, dates, patient, times).
      const perDocument = [
        'id',
        'document_key',
        'chain_key',
        'number',
        'issue_date',
        'payment_date',
        'document',
        'patient_hash',
        'content_hash',
        'received_at',
        'status_at',
      ];
      const shape = (row: Record<string, unknown>) => ({
        ...Object.fromEntries(Object.entries(row).filter(([column]) => !perDocument.includes(column))),
        documentFields: Object.keys(row.document as object).sort(),
      });
      const [fast] = await rowsOf(single);
      const [full] = await rowsOf(batch);
      expect(fast!.chain_key).toBe(fast!.document_key);
      expect(fast!.chain_sequence).toBe(1);
      expect(shape(fast!)).toEqual(shape(full!));
      const documents = await outboxDocuments();
      const fastJob = documents.find((document) => document.invoiceId === single)!;
      const fullJob = documents.find((document) => document.invoiceId === batch)!;
      expect(Object.keys(fastJob).sort()).toEqual(Object.keys(fullJob).sort());
      expect(fastJob).toMatchObject({ sequence: 1, documentKey: fast!.chain_key });
      const payloads = (
        await pool.query(
          "select payload - 'documents' - 'outboxId' as rest, documents from gateway.outbox where payload->'documents' @> $1::jsonb or payload->'documents' @> $2::jsonb",
          [JSON.stringify([{ invoiceId: single }]), JSON.stringify([{ invoiceId: batch }])],
        )
      ).rows;
      expect(payloads).toHaveLength(2);
      expect(payloads[0]).toEqual(payloads[1]);
    });
  });

  describe('Idempotency-Key', () => {
    it('same key, same body: the stored answer again; same key, another body: 422', async () => {
      const idempotencyKey = randomUUID();
      const first = await post(invoiceEvent(40), { idempotencyKey });
      const again = await post(invoiceEvent(40), { idempotencyKey });
      expect(first.statusCode).toBe(202);
      expect(again.statusCode).toBe(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual(first.json());
      const other = await post(invoiceEvent(41), { idempotencyKey });
      expect(other.statusCode).toBe(422);
      expect(other.json()).toMatchObject({ type: expect.stringMatching(/idempotency-key-reused$/) });
      expect(
        (await pool.query("select count(*)::int as n from gateway.invoices where number = 'FT2026/41'"))
          .rows[0].n,
      ).toBe(0);
    });

    it('a wholly refused request is not remembered: corrected, it goes through with the same key', async () => {
      const idempotencyKey = randomUUID();
      const refused = await post({ operation: 'insert', document: { id: 'bad' } }, { idempotencyKey });
      expect(refused.statusCode).toBe(422);
      expect((await post(invoiceEvent(42), { idempotencyKey })).statusCode).toBe(202);
    });

    it('two concurrent requests with one key: the second gets 409 while the first is in flight', async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const idempotencyKey = randomUUID();
      // The first request streams NDJSON and is held open after its first line.
      const held = httpRequest({
        port,
        method: 'POST',
        path: '/v1/invoices/batch',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/x-ndjson',
          'idempotency-key': idempotencyKey,
        },
      });
      const firstAnswer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        held.on('response', (response) => {
          let body = '';
          response.on('data', (chunk) => {
            body += chunk;
          });
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        });
        held.on('error', reject);
      });
      held.write(`${JSON.stringify(invoiceEvent(50))}\n`);
      // Wait until its key is recorded as in flight (the gateway commits that before reading on).
      for (let i = 0; i < 200; i++) {
        const { rows } = await pool.query('select state from gateway.idempotency_keys where key = $1', [
          idempotencyKey,
        ]);
        if (rows[0]?.state === 'in_flight') break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const second = await post(invoiceEvent(51), { url: '/v1/invoices', idempotencyKey });
      expect(second.statusCode).toBe(409);
      expect(second.json()).toMatchObject({ type: expect.stringMatching(/idempotency-key-in-flight$/) });
      held.end(`${JSON.stringify(invoiceEvent(52))}\n`);
      const first = await firstAnswer;
      expect(first.status).toBe(200);
      expect(JSON.parse(first.body).summary).toMatchObject({ accepted: 2 });
      // Replayed afterwards with the same stream: the stored answer, no new rows.
      const replay = await app.inject({
        method: 'POST',
        url: '/v1/invoices/batch',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/x-ndjson',
          'idempotency-key': idempotencyKey,
        },
        payload: `${JSON.stringify(invoiceEvent(50))}\n${JSON.stringify(invoiceEvent(52))}\n`,
      });
      expect(replay.statusCode).toBe(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
    });
  });

  it('job data in Redis never holds a codice fiscale: the outbox payload is what the relay enqueues', async () => {
    const documents = await outboxDocuments();
    expect(documents.length).toBeGreaterThan(5);
    const text = JSON.stringify(documents);
    for (let n = 0; n < 60; n++) expect(text).not.toContain(patientTaxCode(n));
  });
});

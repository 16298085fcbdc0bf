import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  createLogger,
  createPool,
  createRedis,
  type DocumentStatusEvent,
  type Pool,
  type Redis,
} from '@sts/shared';
import { testClock, useTestDatabase, useTestRedis } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayAccounts } from '../../../test-support/index.ts';
import { insertInvoiceRow } from '../../../test-support/invoice-rows.ts';
import { buildApp } from '../../app.ts';
import { createDatabase } from '../../db/database.ts';
import { createPatientHasher } from '../patient-privacy.ts';
import { applyStatusEvent } from '../status/status-service.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

const PATIENT = 'RSSMRA80A01H501U';
const OTHER_PATIENT = 'VRDGPP75C15F205S';

describe('GET /v1/invoices and /v1/invoices/:id', () => {
  let pool: Pool;
  let redis: Redis;
  let app: FastifyInstance;
  const logged: string[] = [];
  const clock = testClock('2026-03-10T12:00:00Z');
  const hasher = createPatientHasher(randomBytes(32));
  let tenant: string;
  let otherTenant: string;
  let reader: string;
  let writerOnly: string;
  let otherReader: string;

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-invoice-read-test' });
    redis = createRedis(redisDatabase.url, 'gateway-invoice-read-test');
    const destination = new Writable({
      write(chunk, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ name: 'gateway', level: 'debug', destination });
    const { tenants, apiKeys } = gatewayAccounts(pool, clock);
    const a = await tenants.create({ name: 'Clinica Lettura', scopes: ['invoices:read'] });
    tenant = a.tenant.id;
    reader = a.firstKey.key;
    writerOnly = (await apiKeys.create(tenant, { scopes: ['invoices:write'] })).key;
    const b = await tenants.create({ name: 'Clinica Altra', scopes: ['invoices:read'] });
    otherTenant = b.tenant.id;
    otherReader = b.firstKey.key;
    app = buildApp({ logger, pool, redis, clock, patientHasher: hasher });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
  });

  const get = (url: string, key = reader) =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
  const problem = (response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) => {
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    return response.json() as { type: string; errors?: { field: string; rule: string; message: string }[] };
  };

  it('answers one invoice: identity, status, STS messages with the catalogue’s explanation, history; never the document', async () => {
    const row = await insertInvoiceRow(pool, {
      tenantId: tenant,
      number: 'F-2026-0042',
      patient: { taxCode: PATIENT, hasher },
      receivedAt: '2026-03-02T09:00:00Z',
    });
    const db = createDatabase(pool);
    const events: Omit<DocumentStatusEvent, 'eventId' | 'tenantId' | 'invoiceId' | 'at'>[] = [
      { status: 'queued', sequence: 1 },
      { status: 'submitted', sequence: 2, protocol: '26030211354512345' },
      {
        status: 'accepted_with_warnings',
        sequence: 3,
        cause: 'sts-accepted',
        late: true,
        messages: [
          { code: 'W008', kind: 'warning', text: 'TESTO W008 COME RICEVUTO' },
          { code: 'W999', kind: 'warning', text: 'UN CODICE CHE NON CONOSCIAMO' },
        ],
      },
    ];
    for (const [index, change] of events.entries()) {
      await applyStatusEvent(db, {
        eventId: randomUUID(),
        tenantId: tenant,
        invoiceId: row.id,
        at: `2026-03-02T1${index}:00:00.000Z`,
        ...change,
      });
    }
    const response = await get(`/v1/invoices/${row.id}`);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      id: row.id,
      status: 'accepted_with_warnings',
      operation: 'insert',
      credentialId: row.credentialId,
      document: { vatNumber: '12345678903', issueDate: '2026-03-02', device: 1, number: 'F-2026-0042' },
      taxYear: 2026,
      patient: 'identified',
      receivedAt: '2026-03-02T09:00:00.000Z',
      protocol: '26030211354512345',
      statusCause: 'sts-accepted',
      late: true,
    });
    expect(body.messages[0]).toMatchObject({ code: 'W008', text: 'TESTO W008 COME RICEVUTO', known: true });
    expect(body.messages[0].explanation.en).toMatch(/\w/);
    expect(body.messages[1]).toMatchObject({ code: 'W999', known: false, class: 'warning' });
    expect(body.history.map((entry: { status: string; at: string }) => [entry.status, entry.at])).toEqual([
      ['received', '2026-03-02T09:00:00.000Z'],
      ['queued', '2026-03-02T10:00:00.000Z'],
      ['submitted', '2026-03-02T11:00:00.000Z'],
      ['accepted_with_warnings', '2026-03-02T12:00:00.000Z'],
    ]);
    expect(body.history[2].protocol).toBe('26030211354512345');
    expect(body.history[3].messages[0].explanation.it).toMatch(/\w/);
    // Neither the document (the patient's ciphertext) nor the look-up hash is served.
    const stored = (row.document.patient as { taxCode: { encrypted: string } }).taxCode.encrypted;
    expect(response.body).not.toContain(stored.slice(0, 40));
    expect(response.body).not.toContain('patientHash');
    expect(body).not.toHaveProperty('document.patient');

    const opposed = await insertInvoiceRow(pool, { tenantId: tenant, patient: 'opposed' });
    expect((await get(`/v1/invoices/${opposed.id}`)).json()).toMatchObject({
      patient: 'opposed',
      history: [{ status: 'received' }],
      messages: [],
    });
  });

  it('answers 404 problem+json for an unknown id, a non-uuid id and another tenant’s invoice', async () => {
    const foreign = await insertInvoiceRow(pool, { tenantId: otherTenant });
    for (const url of [
      `/v1/invoices/${randomUUID()}`,
      '/v1/invoices/not-a-uuid',
      `/v1/invoices/${foreign.id}`,
    ]) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(404);
      expect(problem(response).type).toMatch(/\/not-found$/);
    }
    expect((await get(`/v1/invoices/${foreign.id}`, otherReader)).statusCode).toBe(200);
  });

  it('needs invoices:read (403 missing-scope with a write-only key)', async () => {
    for (const url of ['/v1/invoices', `/v1/invoices/${randomUUID()}`]) {
      const response = await get(url, writerOnly);
      expect(response.statusCode).toBe(403);
      expect(problem(response).type).toMatch(/\/missing-scope$/);
    }
  });

  describe('the list', () => {
    let tenantId: string;
    let key: string;
    const ids: Record<string, string> = {};
    beforeAll(async () => {
      const { tenants } = gatewayAccounts(pool, clock);
      const created = await tenants.create({ name: 'Clinica Filtri', scopes: ['invoices:read'] });
      tenantId = created.tenant.id;
      key = created.firstKey.key;
      const credential2 = '9d6f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
      const rows = {
        first: {
          receivedAt: '2026-01-10T08:00:00Z',
          issueDate: '2025-12-30',
          taxYear: 2025,
          status: 'accepted',
        },
        second: {
          receivedAt: '2026-01-11T08:00:00Z',
          issueDate: '2026-01-05',
          status: 'rejected',
          credentialId: credential2,
        },
        third: {
          receivedAt: '2026-01-12T08:00:00Z',
          issueDate: '2026-01-10',
          operation: 'refund',
          vatNumber: '01234567897',
        },
        fourth: {
          receivedAt: '2026-01-13T08:00:00Z',
          issueDate: '2026-01-12',
          status: 'queued',
          patient: { taxCode: PATIENT, hasher },
        },
        fifth: {
          receivedAt: '2026-01-14T08:00:00Z',
          issueDate: '2026-01-13',
          patient: { taxCode: OTHER_PATIENT, hasher },
        },
      } as const;
      for (const [name, row] of Object.entries(rows)) {
        ids[name] = (await insertInvoiceRow(pool, { tenantId, ...row })).id;
      }
      // Another tenant's invoice of the same patient is never listed.
      await insertInvoiceRow(pool, { tenantId: otherTenant, patient: { taxCode: PATIENT, hasher } });
    });
    const list = async (query: string) => {
      const response = await get(`/v1/invoices${query}`, key);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json() as { items: { id: string }[]; next: string | null };
      return body.items.map((item) => Object.entries(ids).find(([, id]) => id === item.id)?.[0]);
    };

    it('lists newest first, and filters by each field', async () => {
      expect(await list('')).toEqual(['fifth', 'fourth', 'third', 'second', 'first']);
      expect(await list('?status=accepted')).toEqual(['first']);
      expect(await list('?status=accepted,rejected')).toEqual(['second', 'first']);
      expect(await list('?credentialId=9d6f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b')).toEqual(['second']);
      expect(await list('?receivedFrom=2026-01-11T08:00:00Z&receivedTo=2026-01-13T08:00:00Z')).toEqual([
        'third',
        'second',
      ]);
      expect(await list('?receivedFrom=2026-01-13T09:00:00%2B01:00')).toEqual(['fifth', 'fourth']);
      expect(await list('?issuedFrom=2026-01-05&issuedTo=2026-01-10')).toEqual(['third', 'second']);
      expect(await list('?taxYear=2025')).toEqual(['first']);
      expect(await list('?operation=refund')).toEqual(['third']);
      expect(await list('?vatNumber=01234567897')).toEqual(['third']);
      expect(await list('?status=received&operation=insert')).toEqual(['fifth']);
    });

    it('finds a patient’s documents by codice fiscale, and the code never reaches the logs', async () => {
      expect(await list(`?patient=${PATIENT}`)).toEqual(['fourth']);
      expect(await list(`?patient=${OTHER_PATIENT.toLowerCase()}`)).toEqual(['fifth']);
      expect(await list('?patient=BNCLCU80A01H501X')).toEqual([]);
      const bad = await get('/v1/invoices?patient=RSSMRA80A01H50', key);
      expect(bad.statusCode).toBe(400);
      expect(problem(bad).errors).toEqual([expect.objectContaining({ field: 'patient', rule: 'tax-code' })]);
      expect(bad.body).not.toContain('RSSMRA80A01H50');
      const text = logged.join('');
      expect(text).toContain('incoming request');
      expect(text).toContain('patient=[redacted]');
      for (const code of [PATIENT, OTHER_PATIENT, OTHER_PATIENT.toLowerCase(), 'RSSMRA80A01H50']) {
        expect(text).not.toContain(code);
      }
    });

    it('pages with an opaque cursor, without gaps or duplicates, even within one millisecond', async () => {
      const { tenants } = gatewayAccounts(pool, clock);
      const created = await tenants.create({ name: 'Clinica Pagine', scopes: ['invoices:read'] });
      const expected: string[] = [];
      // 23 rows, some sharing a received time to the microsecond and some a millisecond apart.
      for (let index = 0; index < 23; index++) {
        const receivedAt = new Date(Date.parse('2026-02-01T00:00:00Z') + Math.floor(index / 3) * 1000);
        expected.push((await insertInvoiceRow(pool, { tenantId: created.tenant.id, receivedAt })).id);
      }
      await pool.query(
        "update gateway.invoices set received_at = received_at + (random() * interval '900 microseconds') where tenant_id = $1 and device = 1 and number like 'F-%' and id = any($2)",
        [created.tenant.id, expected.filter((_, index) => index % 2 === 0)],
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const response = await get(
          `/v1/invoices?limit=5${cursor ? `&cursor=${cursor}` : ''}`,
          created.firstKey.key,
        );
        expect(response.statusCode, response.body).toBe(200);
        const body = response.json() as { items: { id: string }[]; next: string | null };
        expect(body.items.length).toBeLessThanOrEqual(5);
        seen.push(...body.items.map((item) => item.id));
        cursor = body.next;
        pages++;
      } while (cursor && pages < 20);
      expect(pages).toBe(5);
      expect(new Set(seen).size).toBe(23);
      expect([...seen].sort()).toEqual([...expected].sort());
      const { rows } = await pool.query(
        'select id from gateway.invoices where tenant_id = $1 order by received_at desc, id desc',
        [created.tenant.id],
      );
      expect(seen).toEqual(rows.map((row: { id: string }) => row.id));
    });

    it('answers 400 problem+json naming the field and the rule for each bad filter', async () => {
      const cases: [string, string, string][] = [
        ['status=done', 'status', 'enum'],
        ['credentialId=42', 'credentialId', 'uuid'],
        ['receivedFrom=yesterday', 'receivedFrom', 'datetime'],
        ['receivedTo=2026-01-01', 'receivedTo', 'datetime'],
        ['receivedFrom=2026-01-02T00:00:00Z&receivedTo=2026-01-01T00:00:00Z', 'receivedTo', 'after-from'],
        ['issuedFrom=2026-02-30', 'issuedFrom', 'date'],
        ['issuedFrom=2026-02-03&issuedTo=2026-02-01', 'issuedTo', 'after-from'],
        ['taxYear=26', 'taxYear', 'year'],
        ['operation=delete', 'operation', 'enum'],
        ['vatNumber=123', 'vatNumber', 'vat-number'],
        ['limit=0', 'limit', 'range'],
        ['limit=501', 'limit', 'range'],
        ['cursor=abc', 'cursor', 'cursor'],
        ['status=queued&status=accepted', 'status', 'type'],
        ['colour=red', 'colour', 'unknown-field'],
      ];
      for (const [query, field, rule] of cases) {
        const response = await get(`/v1/invoices?${query}`, key);
        expect(response.statusCode, query).toBe(400);
        expect(problem(response).errors, query).toContainEqual(expect.objectContaining({ field, rule }));
      }
    });
  });

  describe('the look-up by ids', () => {
    const lookup = (body: unknown, key = reader) =>
      app.inject({
        method: 'POST',
        url: '/v1/invoices/lookup',
        headers: { authorization: `Bearer ${key}` },
        payload: body as object,
      });

    it('answers the tenant’s invoices in the order asked, in one query, and the rest as missing', async () => {
      const mine: { id: string }[] = [];
      for (let index = 0; index < 3; index++)
        mine.push(
          await insertInvoiceRow(pool, {
            tenantId: tenant,
            status: index ? 'rejected' : 'queued',
            ...(index
              ? { statusCause: 'sts-rejected', messages: [{ code: 'S017', kind: 'error', text: 'TESTO' }] }
              : {}),
          }),
        );
      const foreign = await insertInvoiceRow(pool, { tenantId: otherTenant });
      const unknown = randomUUID();
      const ids = [mine[2]!.id, unknown, mine[0]!.id, foreign.id, mine[1]!.id.toUpperCase(), mine[2]!.id];
      const response = await lookup({ ids });
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      expect(body.items.map((item: { id: string }) => item.id)).toEqual([
        mine[2]!.id,
        mine[0]!.id,
        mine[1]!.id,
      ]);
      expect(body.items[1]).toMatchObject({ status: 'queued', operation: 'insert', taxYear: 2026 });
      // The list's item, with the status cause and the STS messages.
      const listed = (await get(`/v1/invoices?limit=500`))
        .json()
        .items.find((item: { id: string }) => item.id === mine[0]!.id);
      expect(body.items[1]).toEqual({ ...listed, statusCause: null, messages: [] });
      expect(body.items[0]).toMatchObject({
        status: 'rejected',
        statusCause: 'sts-rejected',
        messages: [{ code: 'S017', kind: 'error', text: 'TESTO', known: true }],
      });
      expect(body.missing).toEqual([unknown, foreign.id]);
    });

    it('takes 1,000 ids', async () => {
      const ids: string[] = Array.from({ length: 1000 }, () => randomUUID());
      const row = await insertInvoiceRow(pool, { tenantId: tenant });
      ids[999] = row.id;
      const response = await lookup({ ids });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().items.map((item: { id: string }) => item.id)).toEqual([row.id]);
      expect(response.json().missing).toHaveLength(999);
    });

    it('answers 400 problem+json naming the field and the rule for bad input', async () => {
      const cases: [unknown, string, string][] = [
        [{ ids: [] }, 'ids', 'min-items'],
        [{ ids: Array.from({ length: 1001 }, () => randomUUID()) }, 'ids', 'max-items'],
        [{ ids: [randomUUID(), 'not-a-uuid'] }, 'ids.1', 'uuid'],
        [{ ids: 'abc' }, 'ids', 'type'],
        [{}, 'ids', 'required'],
        [{ ids: [randomUUID()], colour: 'red' }, 'colour', 'unknown-field'],
      ];
      for (const [body, field, rule] of cases) {
        const response = await lookup(body);
        expect(response.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
        expect(problem(response).errors).toContainEqual(expect.objectContaining({ field, rule }));
      }
      const notJson = await app.inject({
        method: 'POST',
        url: '/v1/invoices/lookup',
        headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
        payload: '{"ids": [',
      });
      expect(notJson.statusCode).toBe(400);
      expect((await lookup({ ids: [randomUUID()] }, writerOnly)).statusCode).toBe(403);
    });
  });

  describe('the summary', () => {
    let key: string;
    beforeAll(async () => {
      const { tenants } = gatewayAccounts(pool, clock);
      const created = await tenants.create({ name: 'Clinica Conti', scopes: ['invoices:read'] });
      const tenantId = created.tenant.id;
      key = created.firstKey.key;
      const s017 = { code: 'S017', kind: 'error' as const, text: 'TESTO S017 COME RICEVUTO' };
      const s011 = { code: 'S011', kind: 'error' as const, text: 'TESTO S011 COME RICEVUTO' };
      const w008 = { code: 'W008', kind: 'warning' as const, text: 'TESTO W008' };
      const rows: Parameters<typeof insertInvoiceRow>[1][] = [
        { tenantId, taxYear: 2025, status: 'accepted' },
        { tenantId, taxYear: 2025, status: 'accepted' },
        { tenantId, taxYear: 2025, status: 'accepted_with_warnings', messages: [w008] },
        { tenantId, taxYear: 2025, status: 'rejected', messages: [s017, w008], statusCause: 'sts-rejected' },
        { tenantId, taxYear: 2025, status: 'rejected', messages: [s017] },
        { tenantId, taxYear: 2025, status: 'rejected', messages: [s011, s017] },
        { tenantId, taxYear: 2025, status: 'rejected', messages: null, statusCause: 'sts-rejected' },
        { tenantId, taxYear: 2025, status: 'queued', receivedAt: '2026-01-05T10:00:00.123Z' },
        { tenantId, taxYear: 2025, status: 'received', receivedAt: '2026-01-07T10:00:00Z' },
        {
          tenantId,
          taxYear: 2025,
          status: 'blocked',
          receivedAt: '2026-01-06T10:00:00Z',
          operation: 'refund',
          vatNumber: '01234567897',
        },
        // Another year, and another tenant: not counted.
        { tenantId, taxYear: 2026, status: 'submitted', receivedAt: '2026-01-01T10:00:00Z' },
        { tenantId: otherTenant, taxYear: 2025, status: 'rejected', messages: [s011] },
      ];
      for (const row of rows) await insertInvoiceRow(pool, row);
    });
    const summary = async (query: string) => {
      const response = await get(`/v1/invoices/summary${query}`, key);
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };

    it('counts by status, final and pending, the oldest pending, and the reasons of rejection by STS code', async () => {
      expect(await summary('?taxYear=2025')).toEqual({
        total: 10,
        byStatus: {
          received: 1,
          queued: 1,
          submitting: 0,
          submitted: 0,
          uncertain: 0,
          blocked: 1,
          accepted: 2,
          accepted_with_warnings: 1,
          rejected: 4,
        },
        final: 7,
        pending: 3,
        rejections: [
          { code: 'S017', message: 'TESTO S017 COME RICEVUTO', count: 3 },
          { code: 'S011', message: 'TESTO S011 COME RICEVUTO', count: 1 },
          { code: 'sts-rejected', message: null, count: 1 },
        ],
        oldestPendingReceivedAt: '2026-01-05T10:00:00.123Z',
      });
      const all = await summary('');
      expect(all).toMatchObject({
        total: 11,
        pending: 4,
        oldestPendingReceivedAt: '2026-01-01T10:00:00.000Z',
      });
      expect(all.byStatus.submitted).toBe(1);
      expect(await summary('?taxYear=2025&operation=refund&vatNumber=01234567897')).toMatchObject({
        total: 1,
        final: 0,
        pending: 1,
        rejections: [],
      });
      expect(await summary('?taxYear=2024')).toMatchObject({
        total: 0,
        final: 0,
        pending: 0,
        rejections: [],
        oldestPendingReceivedAt: null,
      });
      expect(
        await summary('?receivedFrom=2026-01-06T00:00:00Z&receivedTo=2026-01-07T00:00:00Z'),
      ).toMatchObject({
        total: 1,
        byStatus: { blocked: 1 },
      });
    });

    it('is read from an index, by tax year', async () => {
      await pool.query('analyze gateway.invoices');
      const client = await pool.connect();
      try {
        await client.query('set enable_seqscan = off');
        const { rows } = await client.query(
          `explain select status, count(*), min(received_at) from gateway.invoices
            where tenant_id = $1 and tax_year = 2025 group by status`,
          [tenant],
        );
        expect(rows.map((row: Record<string, string>) => Object.values(row)[0]).join('\n')).toContain(
          'Index Only Scan using invoices_tenant_tax_year',
        );
      } finally {
        await client.query('reset enable_seqscan');
        client.release();
      }
    });

    it('answers 400 problem+json naming the field and the rule for each bad filter', async () => {
      const cases: [string, string, string][] = [
        ['taxYear=26', 'taxYear', 'year'],
        ['credentialId=42', 'credentialId', 'uuid'],
        ['receivedFrom=yesterday', 'receivedFrom', 'datetime'],
        ['issuedFrom=2026-02-03&issuedTo=2026-02-01', 'issuedTo', 'after-from'],
        ['operation=delete', 'operation', 'enum'],
        ['vatNumber=123', 'vatNumber', 'vat-number'],
        ['status=rejected', 'status', 'unknown-field'],
        ['limit=5', 'limit', 'unknown-field'],
        ['taxYear=2025&taxYear=2026', 'taxYear', 'type'],
      ];
      for (const [query, field, rule] of cases) {
        const response = await get(`/v1/invoices/summary?${query}`, key);
        expect(response.statusCode, query).toBe(400);
        expect(problem(response).errors, query).toContainEqual(expect.objectContaining({ field, rule }));
      }
      expect((await get('/v1/invoices/summary', writerOnly)).statusCode).toBe(403);
    });
  });
});

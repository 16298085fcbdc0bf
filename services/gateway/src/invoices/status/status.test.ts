import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  createJobProducer,
  createLogger,
  createPool,
  createRedis,
  type DocumentStatusEvent,
  type JobProducer,
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
import { createWebhooks } from '../../webhooks/webhooks.ts';
import { createDocumentStatusHandler } from './document-status-handler.ts';
import { StatusEventsNotAppliedError } from './isolate-status-events.ts';
import { applyStatusEvent, applyStatusEvents } from './status-service.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/** Log lines, parsed, to check what the consumer says (and that it says it by ids only). */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'gateway', level: 'debug', destination }) };
}

describe('status events from the submitter (document.status batches over real BullMQ)', () => {
  let pool: Pool;
  let redis: Redis;
  let blocking: Redis;
  let producerConnection: Redis;
  let producer: JobProducer<'submitter'>;
  let app: FastifyInstance;
  const clock = testClock('2026-03-02T12:00:00Z');
  const log = capturedLogger();
  let tenantA: string;
  let tenantB: string;

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-status-test' });
    redis = createRedis(redisDatabase.url, 'gateway-status-test');
    blocking = createRedis(redisDatabase.url, 'gateway-status-workers', { blocking: true });
    producerConnection = createRedis(redisDatabase.url, 'gateway-status-producer');
    producer = createJobProducer({ service: 'submitter', connection: producerConnection });
    const { tenants } = gatewayAccounts(pool, clock);
    tenantA = (await tenants.create({ name: 'Clinica Stato A' })).tenant.id;
    tenantB = (await tenants.create({ name: 'Clinica Stato B' })).tenant.id;
    app = buildApp({ logger: log.logger, pool, redis, clock, workers: { connection: blocking } });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await producer.close();
    await pool.end();
    for (const connection of [redis, blocking, producerConnection]) connection.disconnect();
  });

  const event = (
    tenantId: string,
    invoiceId: string,
    sequence: number,
    status: DocumentStatusEvent['status'],
    extra: Partial<DocumentStatusEvent> = {},
  ): DocumentStatusEvent => ({
    eventId: randomUUID(),
    tenantId,
    invoiceId,
    status,
    sequence,
    at: new Date(Date.parse('2026-03-02T10:00:00Z') + sequence * 60_000).toISOString(),
    ...extra,
  });

  const invoiceRow = async (id: string) =>
    (
      await pool.query(
        'select status, status_sequence, protocol, messages, late from gateway.invoices where id = $1',
        [id],
      )
    ).rows[0] as { status: string; status_sequence: string; protocol: string | null; late: boolean | null };
  const history = async (id: string) =>
    (
      await pool.query(
        'select event_id, status, sequence, protocol from gateway.invoice_history where invoice_id = $1 order by sequence',
        [id],
      )
    ).rows as { event_id: string; status: string; sequence: string; protocol: string | null }[];

  /** One `document.status` job carrying `events`, as the submitter's relay makes them. */
  const send = (...events: DocumentStatusEvent[]) => producer.enqueue('document.status', { events });

  /** Jobs run in order (one worker, concurrency 1): once a sentinel is applied, every job before it ran. */
  async function drain(): Promise<void> {
    const sentinel = await insertInvoiceRow(pool, { tenantId: tenantA });
    await send(event(tenantA, sentinel.id, 0, 'queued'));
    const deadline = Date.now() + 15_000;
    while ((await invoiceRow(sentinel.id)).status !== 'queued') {
      if (Date.now() > deadline) throw new Error('the status worker did not process the sentinel in 15 s');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('applies events forwards only: a late one, a repeated one, and one after a final status change nothing', async () => {
    const invoice = await insertInvoiceRow(pool, { tenantId: tenantA });
    const queued = event(tenantA, invoice.id, 1, 'queued');
    const submitting = event(tenantA, invoice.id, 2, 'submitting');
    const submitted = event(tenantA, invoice.id, 3, 'submitted', { protocol: '26030211354512345' });
    for (const each of [queued, submitting, submitted]) await send(each);
    // Late: a sequence below the one applied, under a new event id.
    await send(event(tenantA, invoice.id, 2, 'queued'));
    // Repeated: the same event again (BullMQ keeps one job per event id, so it is enqueued once).
    await send(submitting);
    await drain();
    expect(await invoiceRow(invoice.id)).toMatchObject({ status: 'submitted', status_sequence: '3' });
    expect((await history(invoice.id)).map((row) => row.status)).toEqual([
      'queued',
      'submitting',
      'submitted',
    ]);

    // Final, then nothing moves it, not even a newer event; the protocol is kept when an event has none.
    await send(
      event(tenantA, invoice.id, 4, 'accepted_with_warnings', {
        cause: 'sts-accepted',
        messages: [{ code: 'W008', kind: 'warning', text: 'DATA PAGAMENTO TARDIVA' }],
        late: true,
      }),
    );
    await send(event(tenantA, invoice.id, 5, 'rejected'));
    await send(event(tenantA, invoice.id, 6, 'uncertain'));
    await drain();
    expect(await invoiceRow(invoice.id)).toMatchObject({
      status: 'accepted_with_warnings',
      status_sequence: '4',
      protocol: '26030211354512345',
      late: true,
      messages: [{ code: 'W008', kind: 'warning', text: 'DATA PAGAMENTO TARDIVA' }],
    });
    expect((await history(invoice.id)).map((row) => [row.status, row.sequence])).toEqual([
      ['queued', '1'],
      ['submitting', '2'],
      ['submitted', '3'],
      ['accepted_with_warnings', '4'],
    ]);
    const notApplied = log.lines.filter(
      (line) => line.msg === 'document status event not applied' && line.invoiceId === invoice.id,
    );
    expect(notApplied.map((line) => line.outcome).sort()).toEqual(['final', 'final', 'stale']);
  });

  it('ignores an event naming another tenant’s invoice or an unknown one, and logs it by ids only', async () => {
    const invoice = await insertInvoiceRow(pool, { tenantId: tenantA });
    const foreign = event(tenantB, invoice.id, 1, 'rejected', {
      messages: [{ code: 'S011', kind: 'error', text: 'IL CF DEL CITTADINO RISULTA FORMALMENTE ERRATO' }],
    });
    const unknown = event(tenantA, randomUUID(), 1, 'queued');
    await send(foreign);
    await send(unknown);
    await drain();
    expect(await invoiceRow(invoice.id)).toMatchObject({ status: 'received', status_sequence: '-1' });
    expect(await history(invoice.id)).toEqual([]);
    for (const ignored of [foreign, unknown]) {
      const line = log.lines.find((entry) => entry.eventId === ignored.eventId);
      expect(line).toMatchObject({
        level: 'warn',
        outcome: 'unknown-invoice',
        tenantId: ignored.tenantId,
        invoiceId: ignored.invoiceId,
      });
      // Ids, sequence and status only: never the messages' text.
      expect(JSON.stringify(line)).not.toContain('CITTADINO');
    }
  });

  /** Real webhooks with one endpoint of tenant B (nothing listens: deliveries are recorded and counted). */
  let webhooks: ReturnType<typeof createWebhooks> | undefined;
  async function statusWebhooks() {
    if (webhooks) return webhooks;
    webhooks = createWebhooks({
      db: createDatabase(pool),
      redis,
      logger: log.logger,
      clock,
      options: { secretKey: randomBytes(32), allowHttp: true },
    });
    await webhooks.service.createEndpoint(tenantB, {
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['invoice.status-changed', 'submission.completed'],
    });
    return webhooks;
  }
  /** [type, status, previous status] of the webhooks recorded for one invoice (one batch's: any order). */
  const webhooksOf = async (invoiceId: string) =>
    (
      await pool.query<{ event_type: string; body: string }>(
        'select event_type, body from gateway.webhook_deliveries order by created_at, id',
      )
    ).rows
      .map((row) => ({ type: row.event_type, data: JSON.parse(row.body).data }))
      .filter((row) => row.data.invoiceId === invoiceId)
      .map((row) => [row.type, row.data.status, row.data.previousStatus ?? null]);
  const job = { id: 'test' } as Parameters<ReturnType<typeof createDocumentStatusHandler>>[1];

  it('applies a batch in sequence order per invoice, whatever the order it carries, across tenants', async () => {
    const db = createDatabase(pool);
    const [a, b, c] = [
      await insertInvoiceRow(pool, { tenantId: tenantA }),
      await insertInvoiceRow(pool, { tenantId: tenantB }),
      await insertInvoiceRow(pool, { tenantId: tenantB, status: 'submitted', statusSequence: 3 }),
    ];
    const protocol = '26030211354512345';
    const batch = [
      event(tenantA, a.id, 3, 'submitted', { protocol }),
      event(tenantB, b.id, 2, 'submitting'),
      event(tenantA, a.id, 1, 'queued'),
      event(tenantB, c.id, 2, 'submitting'), // older than what c has: stale
      event(tenantA, a.id, 4, 'accepted'), // no protocol: the one of sequence 3 is kept
      event(tenantB, b.id, 1, 'queued'),
      event(tenantA, a.id, 2, 'submitting'),
      event(tenantA, a.id, 5, 'uncertain'), // after a final status within the batch: refused
      event(tenantA, b.id, 3, 'rejected'), // tenant A naming tenant B's invoice
    ];
    const { changes } = await applyStatusEvents(db, batch, { clock });
    expect(changes.map((change) => change.outcome)).toEqual([
      'applied',
      'applied',
      'applied',
      'stale',
      'applied',
      'applied',
      'applied',
      'final',
      'unknown-invoice',
    ]);
    // Each applied change has the status the earlier ones of its invoice left as its previous.
    expect(changes.map((change) => change.previous?.status ?? null)).toEqual([
      'submitting',
      'queued',
      'received',
      'submitted',
      'submitted',
      'received',
      'queued',
      'accepted',
      null,
    ]);
    expect(await invoiceRow(a.id)).toMatchObject({ status: 'accepted', status_sequence: '4', protocol });
    expect((await history(a.id)).map((row) => [row.status, row.sequence])).toEqual([
      ['queued', '1'],
      ['submitting', '2'],
      ['submitted', '3'],
      ['accepted', '4'],
    ]);
    expect(await invoiceRow(b.id)).toMatchObject({ status: 'submitting', status_sequence: '2' });
    expect(await invoiceRow(c.id)).toMatchObject({ status: 'submitted', status_sequence: '3' });
    expect(await history(c.id)).toEqual([]);
  });

  it('a batch applied twice changes nothing the second time and records its webhooks once', async () => {
    const webhooks = await statusWebhooks();
    const handler = createDocumentStatusHandler({
      db: createDatabase(pool),
      logger: log.logger,
      clock,
      webhooks,
    });
    const invoice = await insertInvoiceRow(pool, { tenantId: tenantB });
    const protocol = '26030211354599999';
    const events = [
      event(tenantB, invoice.id, 2, 'submitting'),
      event(tenantB, invoice.id, 1, 'queued'),
      event(tenantB, invoice.id, 3, 'accepted', { protocol }),
    ];
    await handler({ events }, job);
    const expected = [
      ['invoice.status-changed', 'queued', 'received'],
      ['invoice.status-changed', 'submitting', 'queued'],
      ['invoice.status-changed', 'accepted', 'submitting'],
      ['submission.completed', 'accepted', null],
    ];
    expect((await webhooksOf(invoice.id)).sort()).toEqual([...expected].sort());
    const before = { row: await invoiceRow(invoice.id), history: await history(invoice.id) };

    await handler({ events }, job);
    // The same events in another grouping (a relay that died and claimed otherwise): nothing either.
    await handler({ events: [events[2]!] }, job);
    expect(await invoiceRow(invoice.id)).toEqual(before.row);
    expect(await history(invoice.id)).toEqual(before.history);
    expect((await webhooksOf(invoice.id)).sort()).toEqual([...expected].sort());
    const repeated = log.lines.filter(
      (line) => line.invoiceId === invoice.id && line.outcome === 'repeated' && line.level === 'debug',
    );
    expect(repeated).toHaveLength(4);
  });

  it('a batch whose transaction fails applies nothing; its retry applies all of it, webhooks once', async () => {
    const webhooks = await statusWebhooks();
    const db = createDatabase(pool);
    const invoice = await insertInvoiceRow(pool, { tenantId: tenantB });
    const events = [event(tenantB, invoice.id, 1, 'queued'), event(tenantB, invoice.id, 2, 'submitting')];
    const failing = createDocumentStatusHandler({
      db,
      logger: log.logger,
      webhooks: {
        recordStatusChanges: async () => {
          throw new Error('database gone mid-transaction');
        },
        dispatch: webhooks.dispatch,
      },
    });
    await expect(failing({ events }, job)).rejects.toThrow('database gone');
    expect(await invoiceRow(invoice.id)).toMatchObject({ status: 'received', status_sequence: '-1' });
    expect(await history(invoice.id)).toEqual([]);
    expect(await webhooksOf(invoice.id)).toEqual([]);

    // The retry; queuing the deliveries fails after the commit: logged, recorded, the job succeeds.
    const retry = createDocumentStatusHandler({
      db,
      logger: log.logger,
      webhooks: {
        recordStatusChanges: webhooks.recordStatusChanges,
        dispatch: async () => {
          throw new Error('redis down');
        },
      },
    });
    await expect(retry({ events }, { id: 'retry' } as typeof job)).resolves.toBeUndefined();
    expect(await invoiceRow(invoice.id)).toMatchObject({ status: 'submitting', status_sequence: '2' });
    expect((await webhooksOf(invoice.id)).sort()).toEqual([
      ['invoice.status-changed', 'queued', 'received'],
      ['invoice.status-changed', 'submitting', 'queued'],
    ]);
    expect(log.lines.find((line) => line.jobId === 'retry' && line.level === 'error')).toBeDefined();
  });

  it('a batch with poison events applies all the others, then fails the job naming the bad ones by id', async () => {
    const webhooks = await statusWebhooks();
    const handler = createDocumentStatusHandler({
      db: createDatabase(pool),
      logger: log.logger,
      clock,
      webhooks,
    });
    const invoices = [];
    for (let i = 0; i < 12; i++) invoices.push(await insertInvoiceRow(pool, { tenantId: tenantB }));
    const good = invoices.flatMap((invoice) => [
      event(tenantB, invoice.id, 1, 'queued'),
      event(tenantB, invoice.id, 2, 'submitting'),
      event(tenantB, invoice.id, 3, 'submitted', { protocol: '26030211354512345' }),
    ]);
    // Both pass the job's schema and fail in Postgres: an STS text carrying a NUL (jsonb refuses
    // \u0000), and a time in year 0 (no such year in Postgres).
    const nul = event(tenantB, invoices[4]!.id, 4, 'rejected', {
      messages: [
        { code: 'S011', kind: 'error', text: 'IL CF DEL CITTADINO RISULTA\u0000 FORMALMENTE ERRATO' },
      ],
    });
    const yearZero = event(tenantB, invoices[9]!.id, 4, 'accepted', { at: '0000-01-01T00:00:00Z' });
    const events = [...good.slice(0, 20), nul, ...good.slice(20), yearZero].reverse();
    const run = (id: string) => handler({ events }, { id } as typeof job);

    const failure = await run('poison').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StatusEventsNotAppliedError);
    const { message, failed } = failure as StatusEventsNotAppliedError;
    expect(failed.map((each) => each.event.eventId).sort()).toEqual([nul.eventId, yearZero.eventId].sort());
    expect(message).toContain(`2 of ${events.length} status events could not be applied`);
    for (const bad of [nul, yearZero]) expect(message).toContain(`event ${bad.eventId} (tenant ${tenantB}`);
    expect(message).toContain('[22P05]: unsupported Unicode escape sequence');
    expect(message).toContain('[22008]: date/time field value out of range');
    expect(message).not.toContain('CITTADINO');
    // Every good event applied, in order (history and webhooks), and the bad ones nowhere.
    for (const invoice of invoices) {
      expect(await invoiceRow(invoice.id)).toMatchObject({ status: 'submitted', status_sequence: '3' });
      expect((await history(invoice.id)).map((row) => row.status)).toEqual([
        'queued',
        'submitting',
        'submitted',
      ]);
      expect((await webhooksOf(invoice.id)).sort()).toEqual([
        ['invoice.status-changed', 'queued', 'received'],
        ['invoice.status-changed', 'submitted', 'submitting'],
        ['invoice.status-changed', 'submitting', 'queued'],
      ]);
    }
    const logged = log.lines.filter(
      (line) => line.msg === 'document status event could not be applied' && line.jobId === 'poison',
    );
    expect(logged.map((line) => line.eventId).sort()).toEqual([nul.eventId, yearZero.eventId].sort());
    for (const line of logged) {
      expect(line).toMatchObject({
        level: 'error',
        jobId: 'poison',
        tenantId: tenantB,
        reason: expect.any(String),
      });
      expect(JSON.stringify(line)).not.toContain('CITTADINO');
    }

    // The retry applies nothing twice, records no webhook again, and names the same two.
    const before = await Promise.all(
      invoices.map(async (invoice) => [await history(invoice.id), await webhooksOf(invoice.id)]),
    );
    const again = await run('poison-retry').catch((error: unknown) => error);
    expect((again as StatusEventsNotAppliedError).failed.map((each) => each.event.eventId).sort()).toEqual(
      [nul.eventId, yearZero.eventId].sort(),
    );
    expect(
      await Promise.all(
        invoices.map(async (invoice) => [await history(invoice.id), await webhooksOf(invoice.id)]),
      ),
    ).toEqual(before);
    const retried = log.lines.find(
      (line) => line.jobId === 'poison-retry' && line.msg === 'document status events applied',
    );
    expect(retried).toMatchObject({ applied: 0, failed: 2 });
  });

  it('a transient database failure is not split: the job fails as a whole, for its retry', async () => {
    const invoice = await insertInvoiceRow(pool, { tenantId: tenantB });
    let attempts = 0;
    const handler = createDocumentStatusHandler({
      db: createDatabase(pool),
      logger: log.logger,
      webhooks: {
        recordStatusChanges: async () => {
          attempts += 1;
          throw Object.assign(new Error('terminating connection due to administrator command'), {
            code: '57P01',
          });
        },
        dispatch: async () => {},
      },
    });
    const events = [event(tenantB, invoice.id, 1, 'queued'), event(tenantB, invoice.id, 2, 'submitting')];
    await expect(handler({ events }, job)).rejects.toThrow('administrator command');
    expect(attempts).toBe(1);
    expect(await history(invoice.id)).toEqual([]);
  });

  it('records a redelivered event once; two batches naming one invoice at once apply one after the other', async () => {
    const db = createDatabase(pool);
    const invoice = await insertInvoiceRow(pool, { tenantId: tenantB });
    const queued = event(tenantB, invoice.id, 1, 'queued');
    expect(await applyStatusEvent(db, queued)).toMatchObject({
      outcome: 'applied',
      previous: { status: 'received' },
      current: { status: 'queued' },
    });
    expect(await applyStatusEvent(db, queued)).toMatchObject({ applied: false, outcome: 'repeated' });
    // Same sequence, another id: stale.
    expect(await applyStatusEvent(db, event(tenantB, invoice.id, 1, 'submitting'))).toMatchObject({
      outcome: 'stale',
    });
    expect((await history(invoice.id)).map((row) => row.event_id)).toEqual([queued.eventId]);

    const other = await insertInvoiceRow(pool, { tenantId: tenantB });
    const results = await Promise.all([
      applyStatusEvents(db, [
        event(tenantB, invoice.id, 3, 'submitted'),
        event(tenantB, other.id, 1, 'queued'),
      ]),
      applyStatusEvents(db, [
        event(tenantB, other.id, 2, 'submitting'),
        event(tenantB, invoice.id, 2, 'submitting'),
      ]),
    ]);
    expect(
      results.flatMap((result) => result.changes).filter((change) => change.applied).length,
    ).toBeGreaterThanOrEqual(2);
    expect(await invoiceRow(invoice.id)).toMatchObject({ status: 'submitted', status_sequence: '3' });
    expect(await invoiceRow(other.id)).toMatchObject({ status: 'submitting', status_sequence: '2' });
  });
});
